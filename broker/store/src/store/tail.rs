//! What recovery does with the commit log past its last valid record.
//!
//! A crash can leave the record being written torn: its prefix on disk, zeroes after it. That is
//! the end of written data, and cutting there loses nothing that was acknowledged. An invalid
//! record with written bytes after it is something else (a media error, a bit flip, a file from
//! another store): cutting there would delete whatever follows, acknowledged messages included.
//! So recovery cuts only a tail that is followed by zeroes, and otherwise stops with an error
//! that says where and how much, unless the operator asked for the bytes to be set aside
//! (`recoverCorruptCommitLog=truncate`), in which case they are copied to a quarantine directory
//! before the cut.

use std::path::PathBuf;

use crate::commit_log::ScanEnd;
pub use crate::config::CorruptTailPolicy;

/// What the validating scan met at its end, and what lies after it on disk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TailFacts {
    /// Where valid data ends (the scan's stop).
    pub end: u64,
    /// Why the scan stopped there.
    pub stop: ScanEnd,
    /// The first and one past the last non-zero byte after the invalid record at `end` (after the
    /// size it declares when that fits in its file, else after its 8-byte head; after `end` when
    /// the scan stopped at zeroes), if any.
    pub written_after: Option<(u64, u64)>,
}

/// A tail that is not the end of written data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CorruptTail {
    /// Offset of the first invalid record (where valid data ends).
    pub offset: u64,
    /// Why it is invalid.
    pub reason: String,
    /// One past the last written byte.
    pub written_end: u64,
    /// Where the written data after the invalid record starts.
    pub next_written: u64,
}

impl CorruptTail {
    /// Bytes from the invalid record to the end of written data: what a cut would remove.
    pub fn bytes_at_stake(&self) -> u64 {
        self.written_end - self.offset
    }
    /// Written bytes after the invalid record.
    pub fn bytes_following(&self) -> u64 {
        self.written_end - self.next_written
    }
}

/// What recovery does with the tail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TailAction {
    /// Nothing but zeroes (or a torn record followed by zeroes) past `end`: cut there.
    Cut,
    /// Written data follows an invalid record, and the policy is to refuse.
    Refuse(CorruptTail),
    /// Written data follows an invalid record; copy it aside, then cut.
    Quarantine(CorruptTail),
}

/// Decides what recovery does with the commit log past `facts.end`.
pub fn decide(facts: &TailFacts, policy: CorruptTailPolicy) -> TailAction {
    let reason = match &facts.stop {
        // The last file was valid to its end: there is nothing after it.
        ScanEnd::EndOfFiles => return TailAction::Cut,
        ScanEnd::Clean => "zeroes where a record should start".to_owned(),
        ScanEnd::Invalid(e) => e.to_string(),
        ScanEnd::WrongPhysicalOffset { stored } => {
            format!("the record says it lies at offset {stored}")
        }
    };
    let Some((next_written, written_end)) = facts.written_after else {
        return TailAction::Cut;
    };
    let corrupt = CorruptTail {
        offset: facts.end,
        reason,
        written_end,
        next_written,
    };
    match policy {
        CorruptTailPolicy::Refuse => TailAction::Refuse(corrupt),
        CorruptTailPolicy::Quarantine => TailAction::Quarantine(corrupt),
    }
}

/// Where the bytes set aside by one recovery go, under the store's quarantine directory:
/// `commitlog-{offset}-{unix ms}`, holding one file per commit log file touched, each named by
/// the offset of its first byte as commit log files are.
pub fn quarantine_dir(quarantine_root: &std::path::Path, offset: u64, now_ms: u64) -> PathBuf {
    quarantine_root.join(format!("commitlog-{offset:020}-{now_ms}"))
}

#[cfg(test)]
mod tests {
    use rmq_protocol::message::record::DecodeRecordError;

    use super::*;

    fn facts(stop: ScanEnd, written_after: Option<(u64, u64)>) -> TailFacts {
        TailFacts {
            end: 1000,
            stop,
            written_after,
        }
    }

    fn torn() -> ScanEnd {
        ScanEnd::Invalid(DecodeRecordError::BodyCrcMismatch {
            stored: 1,
            computed: 2,
        })
    }

    #[test]
    fn a_torn_record_followed_only_by_zeroes_is_cut_whatever_the_policy() {
        for policy in [CorruptTailPolicy::Refuse, CorruptTailPolicy::Quarantine] {
            assert_eq!(decide(&facts(torn(), None), policy), TailAction::Cut);
            assert_eq!(
                decide(&facts(ScanEnd::Clean, None), policy),
                TailAction::Cut
            );
        }
    }

    #[test]
    fn the_end_of_the_last_file_is_cut_with_nothing_to_ask() {
        let f = facts(ScanEnd::EndOfFiles, Some((5000, 6000)));
        assert_eq!(decide(&f, CorruptTailPolicy::Refuse), TailAction::Cut);
    }

    #[test]
    fn written_data_after_an_invalid_record_is_refused_by_default_with_where_and_how_much() {
        let action = decide(
            &facts(torn(), Some((1200, 9000))),
            CorruptTailPolicy::default(),
        );
        let TailAction::Refuse(corrupt) = action else {
            panic!("expected a refusal, got {action:?}");
        };
        assert_eq!(corrupt.offset, 1000);
        assert_eq!(corrupt.bytes_at_stake(), 8000);
        assert_eq!(corrupt.bytes_following(), 7800);
        assert!(corrupt.reason.contains("crc"), "{}", corrupt.reason);
    }

    #[test]
    fn written_data_after_zeroes_or_a_misplaced_record_is_corruption_too() {
        for stop in [ScanEnd::Clean, ScanEnd::WrongPhysicalOffset { stored: 7 }] {
            let action = decide(&facts(stop, Some((4096, 4100))), CorruptTailPolicy::Refuse);
            assert!(matches!(action, TailAction::Refuse(_)), "{action:?}");
        }
    }

    #[test]
    fn the_truncate_policy_quarantines_instead_of_refusing() {
        let action = decide(
            &facts(torn(), Some((1200, 9000))),
            CorruptTailPolicy::Quarantine,
        );
        assert!(
            matches!(action, TailAction::Quarantine(ref c) if c.written_end == 9000),
            "{action:?}"
        );
    }

    #[test]
    fn quarantine_directories_are_named_by_offset_and_time_under_the_store_root() {
        let dir = quarantine_dir(std::path::Path::new("/s/quarantine"), 1_048_576, 17);
        assert_eq!(
            dir,
            PathBuf::from("/s/quarantine/commitlog-00000000000001048576-17")
        );
    }
}
