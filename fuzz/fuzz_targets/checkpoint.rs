//! Arbitrary bytes as the store's `checkpoint` file: opening must never panic; the three
//! timestamps read are the file's first 24 bytes (big-endian, zero where the file is shorter);
//! written back and read again they are the same, and the file is at least one 4 KiB page.
//!
//! Input: the file (cut at 8 KiB).

#![no_main]

#[path = "../common/scratch.rs"]
mod scratch;

use libfuzzer_sys::fuzz_target;
use rmq_store::checkpoint::Checkpoint;

fuzz_target!(|data: &[u8]| {
    let data = &data[..data.len().min(8192)];
    let path = scratch::fresh("checkpoint").join("checkpoint");
    std::fs::write(&path, data).expect("writing the checkpoint file");
    let mut head = [0u8; 24];
    let n = data.len().min(24);
    head[..n].copy_from_slice(&data[..n]);
    let at = |i: usize| i64::from_be_bytes(head[i..i + 8].try_into().expect("8 bytes"));
    let checkpoint = Checkpoint::open(&path).expect("a checkpoint file opens");
    let read = (
        checkpoint.physic_msg_timestamp(),
        checkpoint.logics_msg_timestamp(),
        checkpoint.index_msg_timestamp(),
    );
    assert_eq!(read, (at(0), at(8), at(16)), "timestamps read");
    let _ = checkpoint.min_timestamp(true);
    let _ = checkpoint.min_timestamp(false);
    checkpoint.flush().expect("the checkpoint is written");
    drop(checkpoint);
    assert!(std::fs::metadata(&path).expect("the file").len() >= 4096);
    let again = Checkpoint::open(&path).expect("the written checkpoint opens");
    assert_eq!(
        (
            again.physic_msg_timestamp(),
            again.logics_msg_timestamp(),
            again.index_msg_timestamp()
        ),
        read,
        "timestamps written and read back"
    );
});
