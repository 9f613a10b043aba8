//! Test machinery that is lenframe's own: counting global allocators, which need `unsafe`
//! for `GlobalAlloc`, and the model of the model-based tests. The socket pairs, the relay,
//! scripted I/O, strategies and hostile peers are in `lenframe-testkit`; the Python interop
//! peer is `python.rs`.
#![allow(dead_code)] // each test binary uses its own subset

pub mod alloc;
pub mod heap;
pub mod model;
