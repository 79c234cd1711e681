use std::net::SocketAddr;

use rmq_protocol::message::record::RecordView;

use super::*;

fn host() -> SocketAddr {
    "127.0.0.1:10911".parse().unwrap()
}

fn msg<'a>(topic: &'a str, queue_id: i32, body: &'a [u8]) -> PutMessage<'a> {
    PutMessage {
        properties: b"TAGS\x01a\x02",
        ..PutMessage::new(topic, queue_id, body, "10.0.0.2:5000".parse().unwrap())
    }
}

fn open(dir: &std::path::Path, file_size: usize) -> CommitLog {
    open_with(dir, file_size, WarmUp::Prefault)
}

/// A log that writes through the mapping (`Prefault`) or with `pwrite` (`ZeroFill`).
fn open_with(dir: &std::path::Path, file_size: usize, warm_up: WarmUp) -> CommitLog {
    CommitLog::new(FileQueue::open(dir, file_size).unwrap(), host(), warm_up)
}

const BOTH_WAYS: [WarmUp; 2] = [WarmUp::Prefault, WarmUp::ZeroFill];

#[test]
fn appends_get_consecutive_offsets_per_queue_and_read_back_intact_whichever_way_they_are_written() {
    for warm_up in BOTH_WAYS {
        appends_read_back_intact(warm_up);
    }
}

fn appends_read_back_intact(warm_up: WarmUp) {
    let dir = tempfile::tempdir().unwrap();
    let log = open_with(dir.path(), 4096, warm_up);
    let a = log.append(&msg("T", 0, b"one")).unwrap();
    let b = log.append(&msg("T", 0, b"two")).unwrap();
    let c = log.append(&msg("T", 1, b"three")).unwrap();
    assert_eq!((a.queue_offset, b.queue_offset, c.queue_offset), (0, 1, 0));
    assert_eq!(a.record_offsets, vec![0]);
    assert_eq!(b.record_offsets, vec![a.end_offset]);
    let raw = log.read_record(b.record_offsets[0]).unwrap();
    let view = RecordView::decode(&raw).unwrap();
    assert_eq!(view.body(), b"two");
    assert_eq!(view.queue_offset(), 1);
    assert_eq!(view.physical_offset(), a.end_offset as i64);
    assert_eq!(view.store_host(), host());
    assert_eq!(view.store_timestamp(), b.store_timestamp);
}

#[test]
fn a_record_that_does_not_fit_rolls_to_a_new_file_after_a_blank_record_whichever_way_it_is_written()
{
    for warm_up in BOTH_WAYS {
        rolls_after_a_blank_record(warm_up);
    }
}

fn rolls_after_a_blank_record(warm_up: WarmUp) {
    let dir = tempfile::tempdir().unwrap();
    let log = open_with(dir.path(), 512, warm_up);
    let body = [7u8; 150];
    let mut offsets = Vec::new();
    for _ in 0..5 {
        offsets.push(log.append(&msg("T", 0, &body)).unwrap().record_offsets[0]);
    }
    assert_eq!(log.files().len(), 3, "two records per 512-byte file");
    assert_eq!(offsets[2], 512);
    assert_eq!(offsets[4], 1024);
    let first = log.files().first().unwrap();
    let blank_at = offsets[1] as usize + (offsets[1] - offsets[0]) as usize;
    let head = first.read(blank_at, 8).unwrap();
    assert_eq!(
        record::peek_head(head).unwrap(),
        Some(RecordHead::Blank {
            total_size: 512 - blank_at
        })
    );
    let mut seen = Vec::new();
    let (end, why) = log.scan(0, true, |s| seen.push(s.offset));
    assert_eq!(seen, offsets);
    assert_eq!(end, log.max_offset());
    assert_eq!(why, ScanEnd::Clean);
}

#[test]
fn prepared_transaction_records_take_no_queue_offset() {
    let dir = tempfile::tempdir().unwrap();
    let log = open(dir.path(), 4096);
    let mut half = msg("T", 0, b"half");
    half.sys_flag = sysflag::TRANSACTION_PREPARED_TYPE;
    assert_eq!(log.append(&half).unwrap().queue_offset, 0);
    assert_eq!(log.append(&msg("T", 0, b"x")).unwrap().queue_offset, 0);
    assert_eq!(log.append(&msg("T", 0, b"y")).unwrap().queue_offset, 1);
}

#[test]
fn a_batch_lands_contiguously_with_consecutive_queue_offsets() {
    let dir = tempfile::tempdir().unwrap();
    let log = open(dir.path(), 4096);
    log.append(&msg("T", 2, b"first")).unwrap();
    let items = [
        BatchItem {
            flag: 1,
            body: b"a",
            properties: b"",
        },
        BatchItem {
            flag: 2,
            body: b"bb",
            properties: b"KEYS\x01k\x02",
        },
    ];
    let appended = log
        .append_batch(&PutBatch {
            topic: "T",
            queue_id: 2,
            sys_flag: 0,
            born_timestamp: 9,
            born_host: host(),
            reconsume_times: 0,
            items: &items,
        })
        .unwrap();
    assert_eq!(appended.queue_offset, 1);
    assert_eq!(appended.record_offsets.len(), 2);
    let second = log.read_record(appended.record_offsets[1]).unwrap();
    let view = RecordView::decode(&second).unwrap();
    assert_eq!(
        (view.flag(), view.body(), view.queue_offset()),
        (2, &b"bb"[..], 2)
    );
    assert_eq!(appended.end_offset, log.max_offset());
}

#[test]
fn scan_stops_at_a_torn_record_and_truncate_removes_it() {
    let dir = tempfile::tempdir().unwrap();
    let log = open(dir.path(), 4096);
    let a = log.append(&msg("T", 0, b"kept")).unwrap();
    let b = log.append(&msg("T", 0, b"torn")).unwrap();
    // Tear the second record: zero its last bytes as a crash mid-write would leave them.
    let file = log.files().last().unwrap();
    file.truncate_to((b.end_offset - 3) as usize);
    file.mark_full();
    let (end, why) = log.scan(0, true, |_| {});
    assert_eq!(end, a.end_offset);
    assert!(matches!(why, ScanEnd::Invalid(_)), "{why:?}");
    log.truncate(end).unwrap();
    assert_eq!(log.max_offset(), a.end_offset);
    assert!(log.read_record(b.record_offsets[0]).is_none());
    let c = log.append(&msg("T", 0, b"next")).unwrap();
    assert_eq!(c.record_offsets[0], a.end_offset);
}

#[test]
fn replicated_appends_ask_for_the_pages_ahead_of_them_as_the_masters_appends_do() {
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let file_size = 64 * 1024;
    let master = open(a.path(), file_size);
    let replica = open(b.path(), file_size);
    for _ in 0..10 {
        master.append(&msg("T", 0, &[7; 300])).unwrap();
    }
    assert_eq!(master.warmed_to(), (0, file_size));
    assert_eq!(replica.warmed_to(), (0, 0));
    let bytes = master.read_raw(0, file_size).unwrap();
    let mut cursor = replica.replica_cursor();
    let end = replica.append_replicated(&mut cursor, 0, &bytes).unwrap();
    assert_eq!(end, master.max_offset());
    // Without the request the replica's writer would fault every page in itself.
    assert_eq!(replica.warmed_to(), (0, file_size));
}

#[test]
fn the_append_lock_time_reads_zero_once_an_append_has_ended() {
    let dir = tempfile::tempdir().unwrap();
    let log = open(dir.path(), 4096);
    let appended = log.append(&msg("T", 0, b"x")).unwrap();
    let later = appended.store_timestamp + 5000;
    assert_eq!(log.append_lock_held_ms(later), 0);
}
