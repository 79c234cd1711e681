//! The two frames of Apache's HA stream (4.x `HAConnection` / `HAService.HAClient`), as pure
//! encode/decode functions.
//!
//! ```text
//! slave → master   offset report: the slave's commit log max offset
//!   0      8  maxOffset   i64 big-endian
//!
//! master → slave   transfer: a header, then bodySize raw commit log bytes
//!   0      8  phyOffset   i64 big-endian: commit log offset of the first body byte
//!   8      4  bodySize    i32 big-endian: 0 for a heartbeat
//!  12      …  body        bytes [phyOffset, phyOffset + bodySize) of the master's commit log
//! ```
//!
//! The master reads reports as Apache does: whatever bytes arrived, the last complete 8-byte
//! value counts ([`ReportReader`]).

/// Length of a slave's offset report.
pub const REPORT_LEN: usize = 8;
/// Length of a transfer header.
pub const HEADER_LEN: usize = 12;
/// Largest transfer body a slave accepts. Apache's slave reads into a 4 MiB buffer and the master
/// sends at most `haTransferBatchSize` (32 KiB) per frame, so anything larger is not a master.
pub const MAX_BODY_LEN: usize = 4 * 1024 * 1024;

/// A frame could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FrameError {
    #[error("offset report {0} is negative")]
    NegativeReport(i64),
    #[error("transfer header offset {0} is negative")]
    NegativeOffset(i64),
    #[error("transfer header body size {0} is negative")]
    NegativeBodySize(i32),
    #[error("transfer body of {size} bytes exceeds the {max}-byte limit")]
    BodyTooLarge { size: usize, max: usize },
}

/// Encodes a slave's offset report.
pub fn encode_report(max_offset: u64) -> [u8; REPORT_LEN] {
    (max_offset as i64).to_be_bytes()
}

/// The header of a transfer frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TransferHeader {
    /// Commit log offset of the first body byte (for a heartbeat: where the next data will start).
    pub offset: u64,
    /// Body length; 0 for a heartbeat.
    pub body_len: usize,
}

impl TransferHeader {
    /// A heartbeat: a header with no body.
    pub fn heartbeat(offset: u64) -> TransferHeader {
        TransferHeader {
            offset,
            body_len: 0,
        }
    }

    pub fn encode(&self) -> [u8; HEADER_LEN] {
        let mut out = [0u8; HEADER_LEN];
        out[..8].copy_from_slice(&(self.offset as i64).to_be_bytes());
        out[8..].copy_from_slice(&(self.body_len as i32).to_be_bytes());
        out
    }

    pub fn decode(buf: &[u8; HEADER_LEN]) -> Result<TransferHeader, FrameError> {
        let offset = i64::from_be_bytes(buf[..8].try_into().unwrap_or_default());
        let size = i32::from_be_bytes(buf[8..].try_into().unwrap_or_default());
        let offset = u64::try_from(offset).map_err(|_| FrameError::NegativeOffset(offset))?;
        let body_len = usize::try_from(size).map_err(|_| FrameError::NegativeBodySize(size))?;
        if body_len > MAX_BODY_LEN {
            return Err(FrameError::BodyTooLarge {
                size: body_len,
                max: MAX_BODY_LEN,
            });
        }
        Ok(TransferHeader { offset, body_len })
    }
}

/// Reads offset reports from a byte stream that may split them anywhere.
#[derive(Debug, Default, Clone)]
pub struct ReportReader {
    partial: [u8; REPORT_LEN],
    len: usize,
}

impl ReportReader {
    /// Consumes `bytes`; returns the last report completed by them, if any. Bytes of an
    /// incomplete report are kept for the next call.
    pub fn feed(&mut self, bytes: &[u8]) -> Result<Option<u64>, FrameError> {
        let mut last = None;
        for &b in bytes {
            self.partial[self.len] = b;
            self.len += 1;
            if self.len == REPORT_LEN {
                self.len = 0;
                let value = i64::from_be_bytes(self.partial);
                last = Some(u64::try_from(value).map_err(|_| FrameError::NegativeReport(value))?);
            }
        }
        Ok(last)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_report_is_eight_big_endian_bytes() {
        assert_eq!(
            encode_report(0x0102_0304_0506_0708),
            [1, 2, 3, 4, 5, 6, 7, 8]
        );
    }

    #[test]
    fn a_transfer_header_is_offset_then_size_big_endian_and_round_trips() {
        let header = TransferHeader {
            offset: 1 << 32 | 5,
            body_len: 32_768,
        };
        let bytes = header.encode();
        assert_eq!(bytes, [0, 0, 0, 1, 0, 0, 0, 5, 0, 0, 0x80, 0]);
        assert_eq!(TransferHeader::decode(&bytes), Ok(header));
        assert_eq!(
            TransferHeader::decode(&TransferHeader::heartbeat(9).encode()),
            Ok(TransferHeader {
                offset: 9,
                body_len: 0
            })
        );
    }

    #[test]
    fn a_header_with_a_negative_or_huge_field_is_rejected() {
        let mut bytes = TransferHeader::heartbeat(0).encode();
        bytes[..8].copy_from_slice(&(-1i64).to_be_bytes());
        assert_eq!(
            TransferHeader::decode(&bytes),
            Err(FrameError::NegativeOffset(-1))
        );
        let mut bytes = TransferHeader::heartbeat(0).encode();
        bytes[8..].copy_from_slice(&(-2i32).to_be_bytes());
        assert_eq!(
            TransferHeader::decode(&bytes),
            Err(FrameError::NegativeBodySize(-2))
        );
        bytes[8..].copy_from_slice(&((MAX_BODY_LEN + 1) as i32).to_be_bytes());
        assert!(matches!(
            TransferHeader::decode(&bytes),
            Err(FrameError::BodyTooLarge { .. })
        ));
    }

    #[test]
    fn the_report_reader_keeps_partial_reports_and_returns_the_last_complete_one() {
        let mut stream = Vec::new();
        stream.extend_from_slice(&encode_report(100));
        stream.extend_from_slice(&encode_report(200));
        stream.extend_from_slice(&encode_report(300));
        // Split at every position: the result must not depend on how TCP cut the bytes.
        for cut in 0..=stream.len() {
            let mut reader = ReportReader::default();
            let first = reader.feed(&stream[..cut]).unwrap();
            let second = reader.feed(&stream[cut..]).unwrap();
            let expected_first = match cut / 8 {
                0 => None,
                n => Some(n as u64 * 100),
            };
            assert_eq!(first, expected_first, "cut at {cut}");
            let expected_second = if cut == stream.len() { None } else { Some(300) };
            assert_eq!(second, expected_second, "cut at {cut}");
        }
    }

    #[test]
    fn a_negative_report_is_an_error() {
        let mut reader = ReportReader::default();
        assert_eq!(
            reader.feed(&(-5i64).to_be_bytes()),
            Err(FrameError::NegativeReport(-5))
        );
    }
}
