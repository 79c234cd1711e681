//! Arbitrary bytes on both HA connections, through the frame codecs into the sans-IO state
//! machines. Nothing may panic, and:
//! - a transfer header that decodes re-encodes to the same 12 bytes;
//! - the master's `ReportReader` answers the same however TCP cut the stream: the last complete
//!   report, or the first negative one as an error;
//! - `Master`: a report past the master's end is refused; every SYNC_MASTER waiter is answered
//!   exactly once (at once, by a report at or past its offset, by its deadline, or by the final
//!   drain), with an answer its state justifies; transfers start at or below the master's end;
//! - `Slave`: a frame is accepted only at the slave's end (or anywhere while it is empty); a
//!   report follows exactly the appends that moved the end; reconnect delays stay in bounds.
//!
//! Input: byte 0 picks the mode (reports, master, slave); the rest is the stream or the
//! operations.

#![no_main]

use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant};

use libfuzzer_sys::fuzz_target;
use rmq_store::ha::frame::{FrameError, HEADER_LEN, REPORT_LEN, ReportReader, TransferHeader};
use rmq_store::ha::{
    Master, MasterConfig, Registered, ReplicaStatus, ReportError, Slave, SlaveAction, SlaveConfig,
    SlaveError,
};

struct Ops<'a>(&'a [u8]);

impl Ops<'_> {
    fn byte(&mut self) -> Option<u8> {
        let (&b, rest) = self.0.split_first()?;
        self.0 = rest;
        Some(b)
    }
    fn take(&mut self, n: usize) -> &[u8] {
        let n = n.min(self.0.len());
        let (head, rest) = self.0.split_at(n);
        self.0 = rest;
        head
    }
    fn u16(&mut self) -> u16 {
        let b = self.take(2);
        b.iter().fold(0u16, |acc, &x| acc << 8 | u16::from(x))
    }
}

fn headers(data: &[u8]) {
    for window in data.windows(HEADER_LEN).take(64) {
        let bytes: &[u8; HEADER_LEN] = window.try_into().expect("a 12-byte window");
        if let Ok(header) = TransferHeader::decode(bytes) {
            assert_eq!(&header.encode(), bytes);
        }
    }
}

/// Reports: byte 0 = number of cuts (up to 8), then the cut lengths, then the stream.
fn reports(mut ops: Ops<'_>) {
    let cuts = usize::from(ops.byte().unwrap_or(0) % 9);
    let lens: Vec<usize> = ops.take(cuts).iter().map(|&b| usize::from(b)).collect();
    let stream = ops.0;
    let values: Vec<i64> = stream
        .chunks_exact(REPORT_LEN)
        .map(|c| i64::from_be_bytes(c.try_into().expect("8 bytes")))
        .collect();
    let first_negative = values.iter().copied().find(|v| *v < 0);

    let whole = ReportReader::default().feed(stream);
    match first_negative {
        Some(v) => assert_eq!(whole, Err(FrameError::NegativeReport(v))),
        None => assert_eq!(whole, Ok(values.last().map(|v| *v as u64))),
    }

    let mut reader = ReportReader::default();
    let mut fed = 0;
    let mut pieces: Vec<&[u8]> = Vec::new();
    let mut rest = stream;
    for len in lens {
        let (piece, tail) = rest.split_at(len.min(rest.len()));
        pieces.push(piece);
        rest = tail;
    }
    pieces.push(rest);
    for piece in pieces {
        let before = fed / REPORT_LEN;
        fed += piece.len();
        let after = fed / REPORT_LEN;
        let completed = &values[before..after];
        let result = reader.feed(piece);
        match completed.iter().copied().find(|v| *v < 0) {
            Some(v) => {
                assert_eq!(result, Err(FrameError::NegativeReport(v)));
                return;
            }
            None => assert_eq!(result, Ok(completed.last().map(|v| *v as u64))),
        }
    }
}

fn master(mut ops: Ops<'_>) {
    let config = MasterConfig {
        file_size: 4096,
        fall_behind_max: 1 << 16,
        wait_timeout: Duration::from_millis(3000),
        heartbeat_interval: Duration::from_millis(5000),
    };
    let mut m: Master<u64> = Master::new(config.clone());
    let mut now = Instant::now();
    let mut master_max: u64 = 0;
    let mut slaves: Vec<(u64, ReportReader)> = Vec::new();
    // token -> (end offset, deadline)
    let mut waiting: BTreeMap<u64, (u64, Instant)> = BTreeMap::new();
    let mut next_token = 0u64;
    let pick = |b: u8, len: usize| usize::from(b) % len.max(1);

    while let Some(op) = ops.byte() {
        match op % 10 {
            0 => {
                let id = m.connect(now);
                slaves.push((id, ReportReader::default()));
            }
            1 if !slaves.is_empty() => {
                let at = pick(ops.byte().unwrap_or(0), slaves.len());
                m.disconnect(slaves.remove(at).0);
            }
            2 if !slaves.is_empty() => {
                let at = pick(ops.byte().unwrap_or(0), slaves.len());
                let n = usize::from(ops.byte().unwrap_or(0) % 17);
                let bytes = ops.take(n).to_vec();
                let id = slaves[at].0;
                match slaves[at].1.feed(&bytes) {
                    Ok(None) => {}
                    Ok(Some(offset)) => match m.on_report(id, offset, master_max) {
                        Ok(done) => {
                            assert!(offset <= master_max);
                            assert!(m.requested(id).is_some() && m.next_transfer(id).is_some());
                            for (token, status) in done {
                                assert_eq!(status, ReplicaStatus::Replicated);
                                let (end, _) = waiting.remove(&token).expect("answered once");
                                assert!(end <= offset, "waiter for {end} confirmed by {offset}");
                            }
                        }
                        Err(e) => {
                            assert_eq!(e, ReportError::SlaveAhead { offset, master_max });
                            m.disconnect(slaves.remove(at).0);
                        }
                    },
                    Err(_) => {
                        m.disconnect(slaves.remove(at).0);
                    }
                }
            }
            3 => {
                master_max += u64::from(ops.u16());
                m.on_append(master_max, now);
            }
            4 => {
                let token = next_token;
                next_token += 1;
                match m.register_wait(master_max, now, token) {
                    Registered::Decided(t, ReplicaStatus::Replicated) => {
                        assert_eq!(t, token);
                        assert!(m.best_ack().is_some_and(|a| a >= master_max));
                    }
                    Registered::Decided(t, ReplicaStatus::SlaveNotAvailable) => {
                        assert_eq!(t, token);
                        assert!(!m.slave_available(master_max));
                    }
                    Registered::Decided(_, ReplicaStatus::Timeout) => {
                        panic!("a new waiter timed out at once")
                    }
                    Registered::Waiting(deadline) => {
                        assert_eq!(deadline, now + config.wait_timeout);
                        waiting.insert(token, (master_max, deadline));
                    }
                }
            }
            5 if !slaves.is_empty() => {
                let at = pick(ops.byte().unwrap_or(0), slaves.len());
                let len = u64::from(ops.byte().unwrap_or(0)) * 64;
                let id = slaves[at].0;
                if let Some(next) = m.next_transfer(id) {
                    assert!(
                        next <= master_max,
                        "transfer from {next} past the end {master_max}"
                    );
                    let len = len.min(master_max - next);
                    m.on_sent(id, next, len as usize, now);
                }
            }
            6 => now += Duration::from_millis(u64::from(ops.u16())),
            7 => {
                for (token, status) in m.expire(now) {
                    assert_eq!(status, ReplicaStatus::Timeout);
                    let (_, deadline) = waiting.remove(&token).expect("answered once");
                    assert!(deadline <= now);
                }
            }
            8 => {
                let lag = m.lag(master_max, now);
                assert_eq!(lag.slaves, slaves.len());
                assert_eq!(lag.acked, m.best_ack());
                if let Some(acked) = lag.acked {
                    assert_eq!(lag.bytes, Some(master_max.saturating_sub(acked)));
                }
            }
            _ => {
                for (id, _) in &slaves {
                    if m.heartbeat_due(*id, now) {
                        let next = m
                            .next_transfer(*id)
                            .expect("a slave due a heartbeat has reported");
                        m.on_sent(*id, next, 0, now);
                    }
                }
            }
        }
        assert_eq!(m.waiting(), waiting.len());
        assert_eq!(m.slaves(), slaves.len());
    }
    let rest: HashMap<u64, ReplicaStatus> = m.drain(ReplicaStatus::Timeout).into_iter().collect();
    assert_eq!(rest.len(), waiting.len());
    assert!(waiting.keys().all(|t| rest.contains_key(t)));
}

fn slave(mut ops: Ops<'_>) {
    let config = SlaveConfig::default();
    let mut s = Slave::new(config.clone());
    let mut now = Instant::now();
    let mut local_max = u64::from(ops.u16()) * 4;
    let mut reported = 0u64;

    while let Some(op) = ops.byte() {
        match op % 6 {
            0 => {
                if !s.is_connected() {
                    assert_eq!(s.connected(local_max, now), local_max);
                    reported = local_max;
                }
            }
            1 => {
                let header = ops.take(HEADER_LEN);
                let Ok(header) = <&[u8; HEADER_LEN]>::try_from(header) else {
                    continue;
                };
                let header = match TransferHeader::decode(header) {
                    Ok(header) => header,
                    Err(_) => {
                        let _ = s.disconnected();
                        continue;
                    }
                };
                let connected = s.is_connected();
                match s.on_header(&header, local_max, now) {
                    Ok(()) => {
                        assert!(connected);
                        assert!(local_max == 0 || header.offset == local_max);
                        let body = ops.take(header.body_len.min(1 << 12));
                        if body.len() < header.body_len {
                            // The stream ended inside the body.
                            let _ = s.disconnected();
                            continue;
                        }
                        let before = local_max;
                        if local_max == 0 {
                            local_max = header.offset;
                        }
                        local_max += header.body_len as u64;
                        let report = s.after_append(local_max, now);
                        let moved = local_max > reported;
                        assert_eq!(report.is_some(), moved, "from {before} to {local_max}");
                        if let Some(r) = report {
                            assert_eq!(r, local_max);
                            reported = r;
                        }
                    }
                    Err(SlaveError::NotConnected) => assert!(!connected),
                    Err(SlaveError::OffsetMismatch { master, slave }) => {
                        assert!(connected && local_max != 0 && master != local_max);
                        assert_eq!((master, slave), (header.offset, local_max));
                        let _ = s.disconnected();
                    }
                    Err(e) => panic!("on_header answered {e}"),
                }
            }
            2 => now += Duration::from_millis(u64::from(ops.u16())),
            3 => match s.tick(local_max, now) {
                None => {}
                Some(SlaveAction::Report(offset)) => {
                    assert!(s.is_connected());
                    assert_eq!(offset, local_max.max(reported));
                    s.on_reported(offset, now);
                    reported = reported.max(offset);
                }
                Some(SlaveAction::Reconnect(SlaveError::MasterSilent { silent_ms })) => {
                    assert!(Duration::from_millis(silent_ms) >= config.housekeeping_interval);
                    let _ = s.disconnected();
                }
                Some(SlaveAction::Reconnect(e)) => panic!("tick asked to reconnect for {e}"),
            },
            4 => {
                let delay = s.disconnected();
                assert!(delay >= config.reconnect_min && delay <= config.reconnect_max);
                assert!(!s.is_connected());
            }
            _ => assert_eq!(s.next_tick().is_some(), s.is_connected()),
        }
    }
}

fuzz_target!(|data: &[u8]| {
    headers(data);
    let [mode, rest @ ..] = data else {
        return;
    };
    let ops = Ops(rest);
    match mode % 3 {
        0 => reports(ops),
        1 => master(ops),
        _ => slave(ops),
    }
});
