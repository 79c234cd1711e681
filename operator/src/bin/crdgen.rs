//! Writes the `RocketCluster` CRD into `crds/` and the Helm chart.
//!
//! `cargo run -p rmq-operator --bin crdgen` from anywhere in the workspace; `--stdout` prints it
//! instead.

#![forbid(unsafe_code)]

use std::path::PathBuf;

use anyhow::Context;
use rmq_operator::crdgen::{CRD_PATHS, crd_yaml};

fn main() -> anyhow::Result<()> {
    let yaml = crd_yaml()?;
    if std::env::args().any(|a| a == "--stdout") {
        print!("{yaml}");
        return Ok(());
    }
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    for rel in CRD_PATHS {
        let path = root.join(rel);
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        }
        std::fs::write(&path, &yaml).with_context(|| format!("writing {}", path.display()))?;
        println!("wrote {rel}");
    }
    Ok(())
}
