//! Counters a server can export.

/// Frames and bytes that passed through a reader or writer.
///
/// Readers count the frames they delivered and their bytes (after stripping), and the
/// frames and bytes (header included) they discarded under
/// [`Oversize::Skip`](crate::Oversize::Skip). Writers count the frames they accepted and
/// their payload bytes; they skip nothing.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct FrameStats {
    /// Frames delivered (reader) or accepted (writer).
    pub frames: u64,
    /// Bytes of those frames: delivered frame bytes (reader) or payload bytes (writer).
    pub bytes: u64,
    /// Oversized frames reported and discarded under `Oversize::Skip`.
    pub skipped_frames: u64,
    /// Bytes discarded under `Oversize::Skip`, headers included.
    pub skipped_bytes: u64,
}
