//! One-way streaming of N frames of one size over a socket pair, one thread per side;
//! figures are the reader's, from the start signal to the last frame.

use std::io;
use std::sync::{Arc, Barrier};
use std::thread;
use std::time::Duration;

use lenframe::FrameCodec;
use tokio_util::codec::LengthDelimitedCodec;

use crate::cpu::Cpu;
use crate::report::{CpuRow, Side, StreamRow};
use crate::sock::{pair, Transport};
use crate::stats::median;
use crate::{framed, hand, lenframe_async, lenframe_blocking, raw, Opts, MIB, SIZES};

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Impl {
    Raw,
    Hand,
    Lenframe,
    Tokio,
    /// `lenframe::tokio::FrameReader` / `FrameWriter`.
    Async,
    /// `lenframe::FrameCodec` in tokio-util's `FramedRead` / `FramedWrite`.
    Codec,
    /// Raw, with unframed payloads four bytes longer: the same bytes on the wire per frame
    /// as a 4-byte header and the payload, and so the same `read` and `write` sizes. Its
    /// frames/s is the most a framing layer can reach if framing cost nothing but bytes.
    RawWide,
}

/// Every implementation, in the order of the table's columns.
pub const IMPLS: [Impl; 7] = [
    Impl::Raw,
    Impl::Hand,
    Impl::Lenframe,
    Impl::Tokio,
    Impl::Async,
    Impl::Codec,
    Impl::RawWide,
];

impl Impl {
    /// The name `--impl` takes.
    pub fn name(self) -> &'static str {
        match self {
            Impl::Raw => "raw",
            Impl::Hand => "hand",
            Impl::Lenframe => "lenframe",
            Impl::Tokio => "tokio-util",
            Impl::Async => "lenframe-async",
            Impl::Codec => "lenframe-codec",
            Impl::RawWide => "raw+4",
        }
    }

    /// The name in tables and charts.
    pub fn title(self) -> &'static str {
        match self {
            Impl::Raw => "raw",
            Impl::Hand => "hand-written",
            Impl::Lenframe => "lenframe",
            Impl::Tokio => "tokio-util",
            Impl::Async => "lenframe async",
            Impl::Codec => "lenframe codec",
            Impl::RawWide => "raw, 4 B more",
        }
    }

    /// The bytes it writes as one message for frames of `size` bytes.
    pub fn payload(self, size: usize) -> usize {
        match self {
            Impl::RawWide => size + 4,
            _ => size,
        }
    }
}

pub fn frames_for(size: usize, quick: bool) -> usize {
    let (bytes, most) = if quick {
        (16 * MIB, 400_000)
    } else {
        (256 * MIB, 3_000_000)
    };
    (bytes / size).clamp(16, most)
}

/// One streaming run: the reader's time from the start signal to the last frame, and the
/// CPU time each side's thread used.
pub struct Run {
    pub elapsed: Duration,
    pub reader: Option<Cpu>,
    pub writer: Option<Cpu>,
}

/// Streams `frames` frames of `size` bytes one way.
pub fn stream_once(t: Transport, imp: Impl, size: usize, frames: usize) -> io::Result<Run> {
    let (tx, rx) = pair(t)?;
    let size = imp.payload(size);
    let start = Arc::new(Barrier::new(2));
    let writer = {
        let start = Arc::clone(&start);
        thread::spawn(move || {
            Cpu::measure(|| -> io::Result<()> {
                let payload = vec![0xa5u8; size];
                let p = &payload;
                match imp {
                    Impl::Raw | Impl::RawWide => raw::stream_write(tx, &start, p, frames),
                    Impl::Hand => hand::stream_write(tx, &start, p, frames),
                    Impl::Lenframe => lenframe_blocking::stream_write(tx, &start, p, frames),
                    Impl::Async => lenframe_async::stream_write(tx, &start, p, frames),
                    Impl::Tokio => {
                        framed::stream_write(tx, &start, p, frames, LengthDelimitedCodec::new())
                    }
                    Impl::Codec => framed::stream_write(tx, &start, p, frames, FrameCodec::new()),
                }
            })
        })
    };
    let reader = thread::spawn(move || {
        Cpu::measure(|| {
            let began = match imp {
                Impl::Raw | Impl::RawWide => raw::stream_read(rx, &start, size, frames),
                Impl::Hand => hand::stream_read(rx, &start, size, frames),
                Impl::Lenframe => lenframe_blocking::stream_read(rx, &start, size, frames),
                Impl::Async => lenframe_async::stream_read(rx, &start, size, frames),
                Impl::Tokio => {
                    framed::stream_read(rx, &start, size, frames, LengthDelimitedCodec::new())
                }
                Impl::Codec => framed::stream_read(rx, &start, size, frames, FrameCodec::new()),
            }?;
            Ok::<_, io::Error>(began.elapsed())
        })
    });
    let (elapsed, reader) = reader.join().expect("reader thread");
    let (written, writer) = writer.join().expect("writer thread");
    let elapsed = elapsed?;
    written?;
    Ok(Run {
        elapsed,
        reader,
        writer,
    })
}

pub fn stream_part(opts: &Opts) -> io::Result<Vec<StreamRow>> {
    let mut rows = Vec::new();
    for t in [Transport::Tcp, Transport::Unix] {
        let name = t.name().to_lowercase();
        if !opts.transports.is_empty() && !opts.transports.contains(&name) {
            continue;
        }
        // `--size` may name any size, not only the table's.
        let sizes = if opts.sizes.is_empty() {
            &SIZES[..]
        } else {
            &opts.sizes[..]
        };
        for &size in sizes {
            let frames = frames_for(size, opts.quick);
            let mut secs: Vec<Vec<f64>> = vec![Vec::new(); IMPLS.len()];
            let mut cpu: Vec<CpuRuns> = vec![CpuRuns::default(); IMPLS.len()];
            for rep in 0..opts.reps {
                // Rotate the order so that no implementation always runs first.
                for k in 0..IMPLS.len() {
                    let i = (k + rep) % IMPLS.len();
                    if !opts.impls.is_empty() && !opts.impls.iter().any(|n| n == IMPLS[i].name()) {
                        continue;
                    }
                    let run = stream_once(t, IMPLS[i], size, frames)?;
                    secs[i].push(run.elapsed.as_secs_f64());
                    cpu[i].add(&run, frames);
                }
            }
            let mut rate = [f64::NAN; IMPLS.len()];
            for (r, s) in rate.iter_mut().zip(secs) {
                if !s.is_empty() {
                    *r = frames as f64 / median(s);
                }
            }
            rows.push(StreamRow {
                transport: t,
                size,
                frames,
                rate,
                cpu: cpu.iter().map(CpuRuns::summary).collect(),
            });
        }
    }
    Ok(rows)
}

/// The CPU time of one implementation's runs, per side.
#[derive(Clone, Default)]
struct CpuRuns {
    reader: SideRuns,
    writer: SideRuns,
}

#[derive(Clone, Default)]
struct SideRuns {
    ns_per_frame: Vec<f64>,
    user_ticks: u64,
    sys_ticks: u64,
}

impl SideRuns {
    fn add(&mut self, cpu: Option<Cpu>, frames: usize) {
        if let Some(cpu) = cpu {
            self.ns_per_frame.push(cpu.on_cpu_ns as f64 / frames as f64);
            self.user_ticks += cpu.user_ticks;
            self.sys_ticks += cpu.sys_ticks;
        }
    }

    fn summary(&self) -> Option<Side> {
        let ticks = self.user_ticks + self.sys_ticks;
        (!self.ns_per_frame.is_empty()).then(|| Side {
            ns_per_frame: median(self.ns_per_frame.clone()),
            sys_share: (ticks > 0).then(|| self.sys_ticks as f64 / ticks as f64),
        })
    }
}

impl CpuRuns {
    fn add(&mut self, run: &Run, frames: usize) {
        self.reader.add(run.reader, frames);
        self.writer.add(run.writer, frames);
    }

    fn summary(&self) -> CpuRow {
        CpuRow {
            reader: self.reader.summary(),
            writer: self.writer.summary(),
        }
    }
}
