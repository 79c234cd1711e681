//! Test certificates from `scripts/make-test-certs.sh` (the openssl CLI): a CA, a server and a
//! client certificate it signed, another CA with its own server and client, expired ones.

use std::path::{Path, PathBuf};
use std::process::Command;

/// Makes the certificates under `dir/pki` and returns that directory.
pub fn make_test_certs(dir: &Path) -> PathBuf {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/make-test-certs.sh");
    let pki = dir.join("pki");
    let status = Command::new("bash").arg(script).arg(&pki).status().unwrap();
    assert!(status.success(), "scripts/make-test-certs.sh failed");
    pki
}
