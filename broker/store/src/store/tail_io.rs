//! The disk side of recovery's tail decision ([`super::tail`]): what lies on disk past the end of
//! valid data, and setting written bytes aside before the log is cut.

use std::fs::{self, File};
use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;

use rmq_protocol::message::record::{self, DecodeRecordError, RecordHead, RecordView};

use super::Inner;
use super::tail::{self, CorruptTail, TailFacts};
use crate::commit_log::ScanEnd;
use crate::error::OpenStoreError;
use crate::mapped_file::MappedFile;

/// Commit log bytes recovery copied aside before cutting the log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Quarantined {
    /// The directory holding them.
    pub dir: PathBuf,
    /// Offset of the first byte set aside (the invalid record).
    pub offset: u64,
    /// How many bytes.
    pub bytes: u64,
    /// Records that still decode among them, from the invalid record on (a lower bound: the
    /// count stops at the first that does not).
    pub messages_at_least: u64,
    /// Why the first was invalid.
    pub reason: String,
}

/// What lies past the end of valid data: the scan's stop, and where written bytes are after the
/// invalid record there (see [`tail::TailFacts`]).
pub(super) fn tail_facts(inner: &Inner, end: u64, stop: ScanEnd) -> TailFacts {
    let files = inner.commit_log.files().files();
    let record_end = match &stop {
        ScanEnd::Clean | ScanEnd::EndOfFiles => end,
        // A record whose fields end before its declared size: either torn (its tail zeroed,
        // or a later page written while an earlier one was not), or a damaged size field
        // hiding the records after it. A valid record where its fields end tells them apart:
        // then only what its fields take is its own, and that record is written data after it.
        // (`computed` is usize::MAX for a negative body length: saturate.)
        ScanEnd::Invalid(DecodeRecordError::SizeMismatch { computed, .. })
            if valid_record_at(&files, end.saturating_add(*computed as u64)) =>
        {
            end.saturating_add(*computed as u64)
        }
        ScanEnd::Invalid(_) | ScanEnd::WrongPhysicalOffset { .. } => {
            end + claimed_len(&files, end) as u64
        }
    };
    TailFacts {
        end,
        stop,
        written_after: written_extent(&files, record_end),
    }
}

/// Whether a record that decodes, verifies and says it lies at `offset` starts there.
fn valid_record_at(files: &[Arc<MappedFile>], offset: u64) -> bool {
    let Some(file) = files
        .iter()
        .find(|f| offset >= f.start() && offset < f.end())
    else {
        return false;
    };
    let pos = (offset - file.start()) as usize;
    let raw = file.read_raw(pos, file.size() - pos).unwrap_or(&[]);
    RecordView::decode(raw)
        .is_ok_and(|view| view.verify().is_ok() && view.physical_offset() == offset as i64)
}

/// Bytes the record at `offset` claims: its declared size when that fits in its file, else its
/// 8-byte head (or what is left of the file).
fn claimed_len(files: &[Arc<MappedFile>], offset: u64) -> usize {
    let Some(file) = files
        .iter()
        .find(|f| offset >= f.start() && offset < f.end())
    else {
        return 0;
    };
    let pos = (offset - file.start()) as usize;
    let remaining = file.size() - pos;
    let head = file.read_raw(pos, record::BLANK_HEADER_LEN.min(remaining));
    match head.map(record::peek_head) {
        Some(Ok(Some(RecordHead::Message { total_size } | RecordHead::Blank { total_size })))
            if total_size <= remaining =>
        {
            total_size
        }
        _ => record::BLANK_HEADER_LEN.min(remaining),
    }
}

/// The first and one past the last non-zero byte of the commit log at or after `from`.
fn written_extent(files: &[Arc<MappedFile>], from: u64) -> Option<(u64, u64)> {
    let mut found: Option<(u64, u64)> = None;
    for file in files.iter().filter(|f| f.end() > from) {
        let pos = from.saturating_sub(file.start()) as usize;
        if let Some((a, b)) = file.written_extent(pos) {
            let first = found.map_or(file.start() + a as u64, |(first, _)| first);
            found = Some((first, file.start() + b as u64));
        }
    }
    found
}

/// Copies the commit log bytes `[corrupt.offset, corrupt.written_end)` into a new quarantine
/// directory, one file per commit log file they come from, named by the offset of their first
/// byte, plus `REASON` saying what was found; all made durable before the log is cut.
pub(super) fn quarantine(
    inner: &Inner,
    corrupt: &CorruptTail,
) -> Result<Quarantined, OpenStoreError> {
    let now = crate::commit_log::now_ms().max(0) as u64;
    let dir = tail::quarantine_dir(&inner.config.quarantine_dir(), corrupt.offset, now);
    let err = |path: &std::path::Path| {
        let path = path.to_path_buf();
        move |source| OpenStoreError::Quarantine {
            path,
            offset: corrupt.offset,
            source,
        }
    };
    fs::create_dir_all(&dir).map_err(err(&dir))?;
    let files = inner.commit_log.files().files();
    for file in files
        .iter()
        .filter(|f| f.end() > corrupt.offset && f.start() < corrupt.written_end)
    {
        let from = corrupt.offset.max(file.start());
        let to = corrupt.written_end.min(file.end());
        let bytes = file
            .read_raw((from - file.start()) as usize, (to - from) as usize)
            .unwrap_or(&[]);
        let path = dir.join(crate::mapped_file::file_name(from));
        let mut out = File::create(&path).map_err(err(&path))?;
        out.write_all(bytes).map_err(err(&path))?;
        // IMPORTANT: the copy must be on disk before the cut below zeroes the original.
        out.sync_all().map_err(err(&path))?;
    }
    let messages_at_least = count_records(&files, corrupt.offset, corrupt.written_end);
    let reason_path = dir.join("REASON");
    let text = format!(
        "commit log bytes [{}, {}) set aside by recovery (recoverCorruptCommitLog=truncate)\n\
         invalid record at offset {}: {}\n\
         {} bytes; at least {} records decode among them\n",
        corrupt.offset,
        corrupt.written_end,
        corrupt.offset,
        corrupt.reason,
        corrupt.bytes_at_stake(),
        messages_at_least,
    );
    let mut out = File::create(&reason_path).map_err(err(&reason_path))?;
    out.write_all(text.as_bytes()).map_err(err(&reason_path))?;
    out.sync_all().map_err(err(&reason_path))?;
    for d in [&dir, &inner.config.quarantine_dir()] {
        crate::mapped_file::sync_dir(d).map_err(err(d))?;
    }
    Ok(Quarantined {
        dir,
        offset: corrupt.offset,
        bytes: corrupt.bytes_at_stake(),
        messages_at_least,
        reason: corrupt.reason.clone(),
    })
}

/// Records in `[from, to)` that decode in sequence from `from`, the first one (the invalid
/// record) counted when its head is a message's whose size fits; stops at the first position
/// that is neither a decodable record nor a blank record ending its file.
fn count_records(files: &[Arc<MappedFile>], from: u64, to: u64) -> u64 {
    let mut count = 0;
    let mut offset = from;
    while offset < to {
        let Some(file) = files
            .iter()
            .find(|f| offset >= f.start() && offset < f.end())
        else {
            break;
        };
        let pos = (offset - file.start()) as usize;
        let remaining = file.size() - pos;
        let head = file.read_raw(pos, record::BLANK_HEADER_LEN.min(remaining));
        match head.map(record::peek_head) {
            Some(Ok(Some(RecordHead::Message { total_size }))) if total_size <= remaining => {
                let raw = file.read_raw(pos, total_size).unwrap_or(&[]);
                if offset != from && RecordView::decode(raw).is_err() {
                    break;
                }
                count += 1;
                offset += total_size as u64;
            }
            Some(Ok(Some(RecordHead::Blank { .. }))) => offset = file.end(),
            _ => break,
        }
    }
    count
}
