//! A scratch directory per fuzz process, emptied for every input: on `/dev/shm` when there is
//! one (fsync is free there), else in the temp directory; `RMQ_FUZZ_SCRATCH` overrides the
//! parent. `scripts/fuzz.sh` removes what a crashed or stopped process left behind.

use std::path::PathBuf;

/// An empty directory `rmq-fuzz-{name}-{pid}`.
pub fn fresh(name: &str) -> PathBuf {
    let parent = std::env::var_os("RMQ_FUZZ_SCRATCH")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            let shm = PathBuf::from("/dev/shm");
            if shm.is_dir() {
                shm
            } else {
                std::env::temp_dir()
            }
        });
    let dir = parent.join(format!("rmq-fuzz-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("creating the scratch directory");
    dir
}
