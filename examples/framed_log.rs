//! An append-only log of checksummed frames in a file, and its recovery after a crash.
//!
//! Appends records to a file in a temporary directory, then damages copies of it: cut at
//! every offset (a torn last write) and with each byte flipped (storage damage). Each time
//! `valid_prefix` finds the frames to keep; the file is truncated there and appended to
//! again. The run checks that no complete frame written before the damage is lost, that
//! no damaged frame is ever delivered, and that the repaired log reads back cleanly.
//!
//! ```sh
//! cargo run --example framed_log
//! ```

use std::fs::{self, OpenOptions};
use std::io::Write;
use std::path::Path;

use lenframe::{valid_prefix, Checksum, FrameConfig, FrameEncoder, Frames};

fn records() -> Vec<Vec<u8>> {
    (0..12u8)
        .map(|i| format!("record {i}: {}", "x".repeat(usize::from(i) * 3)).into_bytes())
        .collect()
}

/// Appends each record as one frame (one `write_all` per frame, as a log writer would).
fn append(path: &Path, enc: &FrameEncoder, records: &[Vec<u8>]) -> std::io::Result<Vec<usize>> {
    let mut file = OpenOptions::new().create(true).append(true).open(path)?;
    let mut ends = Vec::new();
    let mut end = file.metadata()?.len() as usize;
    let mut frame = Vec::new();
    for r in records {
        frame.clear();
        enc.encode(r, &mut frame)?;
        file.write_all(&frame)?;
        end += frame.len();
        ends.push(end);
    }
    file.sync_all()?;
    Ok(ends)
}

/// Recovers `path`: truncates it to its valid prefix, appends one more record, and returns
/// every frame it then holds.
fn recover(
    path: &Path,
    cfg: FrameConfig,
    enc: &FrameEncoder,
) -> Result<Vec<Vec<u8>>, Box<dyn std::error::Error>> {
    let bytes = fs::read(path)?;
    let found = valid_prefix(&bytes, cfg)?;
    OpenOptions::new()
        .write(true)
        .open(path)?
        .set_len(found.valid_len as u64)?;
    append(path, enc, &[b"after recovery".to_vec()])?;
    let bytes = fs::read(path)?;
    let frames = Frames::new(&bytes, cfg)?
        .map(|f| f.map(<[u8]>::to_vec))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(frames)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let cfg = FrameConfig::default().checksum(Checksum::Crc32c);
    let enc = FrameEncoder::new(cfg)?;
    let dir = tempfile::tempdir()?;
    let log = dir.path().join("log");
    let records = records();
    let ends = append(&log, &enc, &records)?;
    let original = fs::read(&log)?;
    println!(
        "wrote {} records, {} bytes, to {}",
        records.len(),
        original.len(),
        log.display()
    );

    let copy = dir.path().join("damaged");
    let check = |damage_at: usize, frames: &[Vec<u8>]| {
        // Frames wholly before the damage survive; nothing else of the old log does.
        let kept = ends.iter().take_while(|&&e| e <= damage_at).count();
        assert_eq!(frames.len(), kept + 1, "damage at {damage_at}");
        assert_eq!(&frames[..kept], &records[..kept], "damage at {damage_at}");
        assert_eq!(frames[kept], b"after recovery", "damage at {damage_at}");
        kept
    };

    let mut lost_to_cuts = 0;
    for cut in 0..=original.len() {
        fs::write(&copy, &original[..cut])?;
        let kept = check(cut, &recover(&copy, cfg, &enc)?);
        lost_to_cuts += records.len() - kept;
    }
    println!(
        "cut at each of {} offsets: every complete frame kept, {} torn frames dropped in all",
        original.len() + 1,
        lost_to_cuts
    );

    for at in 0..original.len() {
        let mut damaged = original.clone();
        damaged[at] ^= 0x20;
        fs::write(&copy, &damaged)?;
        check(at, &recover(&copy, cfg, &enc)?);
    }
    println!(
        "flipped each of {} bytes: every frame before the damage kept, no damaged frame delivered",
        original.len()
    );
    Ok(())
}
