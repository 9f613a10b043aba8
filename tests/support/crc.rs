//! CRC-32C written plainly, to check the crate's checksums against code they share nothing
//! with.

/// CRC-32C (Castagnoli) one bit at a time: reflected polynomial 0x82F63B78, initial value
/// and final XOR 0xFFFFFFFF.
pub fn reference_crc32c(data: &[u8]) -> u32 {
    let mut crc = 0xffff_ffffu32;
    for &byte in data {
        crc ^= u32::from(byte);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0x82f6_3b78
            } else {
                crc >> 1
            };
        }
    }
    !crc
}
