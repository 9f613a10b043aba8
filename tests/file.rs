//! Frames stored in a file and read back.

use std::io::{Seek, SeekFrom};

use lenframe::{FrameConfig, FrameError, FrameReader, FrameWriter, LengthField};

#[test]
fn read_frames_back_from_a_file() {
    let cfg = FrameConfig::default().length_field(LengthField::U16Le);
    let mut file = tempfile::tempfile().unwrap();
    let mut w = FrameWriter::with_config(&mut file, cfg).unwrap();
    for i in 0..100u16 {
        w.write_frame(&i.to_le_bytes().repeat(usize::from(i)))
            .unwrap();
    }
    w.flush().unwrap();
    drop(w);
    file.seek(SeekFrom::Start(0)).unwrap();
    let mut reader = FrameReader::with_config(&mut file, cfg).unwrap();
    for i in 0..100u16 {
        assert_eq!(
            reader.read_frame().unwrap().unwrap(),
            &i.to_le_bytes().repeat(usize::from(i))[..]
        );
    }
    assert_eq!(reader.read_frame().unwrap(), None);
}

#[test]
fn read_file_cut_short_is_truncated() {
    let mut file = tempfile::tempfile().unwrap();
    let mut w = FrameWriter::new(&mut file);
    w.write_frame(&[9; 100]).unwrap();
    w.flush().unwrap();
    drop(w);
    file.set_len(50).unwrap();
    file.seek(SeekFrom::Start(0)).unwrap();
    let mut reader = FrameReader::new(&mut file);
    assert!(matches!(
        reader.read_frame(),
        Err(FrameError::Truncated {
            expected: 104,
            received: 50
        })
    ));
}
