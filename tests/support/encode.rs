//! Encoding through the alloc-free core API (`header` and `trailer`), for the tests that
//! run without lenframe's `std` and `alloc` features.

use lenframe::FrameEncoder;

/// Appends one frame: header (offset zeros and length field), payload, trailer.
pub fn encode_frame(enc: &FrameEncoder, payload: &[u8], wire: &mut Vec<u8>) {
    let header = enc.header(payload.len()).unwrap();
    let mark = wire.len();
    wire.resize(mark + header.offset(), 0);
    wire.extend_from_slice(header.field());
    let trailer = enc.trailer(&wire[mark..], payload);
    wire.extend_from_slice(payload);
    wire.extend_from_slice(trailer.as_bytes());
}
