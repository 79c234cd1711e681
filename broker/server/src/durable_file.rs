//! Replacing a small file so a crash leaves the old version or the new one, never half of one:
//! a temp file beside it, fsynced, renamed over it, the directory fsynced.

use std::path::Path;

/// Replaces `path`'s content with `bytes` (see the module documentation).
pub fn replace(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let tmp = path.with_extension("tmp");
    {
        let mut file = std::fs::File::create(&tmp)?;
        std::io::Write::write_all(&mut file, bytes)?;
        // The new content is on disk before the name points at it.
        file.sync_all()?;
    }
    std::fs::rename(&tmp, path)?;
    // The rename itself is durable once the directory is.
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::File::open(dir)?.sync_all()?;
    }
    Ok(())
}
