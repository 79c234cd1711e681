//! `rmqctl up` / `rmqctl down`: a local cluster from a `RocketCluster` manifest, for a machine
//! without Kubernetes.
//!
//! The manifest goes through the operator's own types and validation, and every `broker.conf`
//! is the operator's rendering at a local placement (127.0.0.1, ports from `--base-port`, a
//! store under the state directory), so a local run is the configuration the operator would
//! deploy, minus what only a cluster has (images, volumes, affinity, resources, budgets).
//!
//! ```text
//! manifest ──parse (pure)──▶ RocketCluster ──validate (operator)──▶ ValidatedCluster
//!      ──plan (pure)──▶ Plan: names, ports, dirs, config texts
//!      ──security (pure)──▶ Secrets found, certificate checks, up's TLS and account
//!      ──up (shell)──▶ local CA, checks, write files, spawn name servers ─▶ "listening on" ─▶ spawn brokers
//!                      ─▶ "listening on" ─▶ GET_BROKER_CLUSTER_INFO lists them ─▶ summary
//!                      ─▶ --detach: return | else: SIGINT/SIGTERM ─▶ stop brokers, name servers
//! pids.json ──down (shell)──▶ SIGTERM brokers, wait ≤ 20 s, SIGKILL; then name servers
//! ```
//!
//! | module | what |
//! |---|---|
//! | [`manifest`] | the one `RocketCluster` of a YAML file, unknown fields, local namespace and uid |
//! | [`secrets`] | the manifest's `kind: Secret` documents, which `spec.security` names |
//! | [`plan`] | pure layout: process names, ports, directories, `namesrv.properties`, `broker.conf` |
//! | [`security`] | pure: `spec.security` resolved, its files, certificate checks, how `up` connects |
//! | [`certs`] | pure certificate checks (server for 127.0.0.1, client) with rustls' verifiers |
//! | [`pki`] | the local CA for `issuerRef`, made with the embedded `make-test-certs.sh` |
//! | [`secure`] | the shell of `spec.security` for `up`: CA, checks, files, `up`'s own clients |
//! | [`summary`] | pure text printed once the cluster is up |
//! | [`pids`] | `<dir>/pids.json`: what runs, for `down` |
//! | [`process`] | binaries, port probes, spawn with logs, readiness, signals, bounded stops |
//! | [`up`] / [`down`] | the two subcommands |
//! | [`apply`] | `rmqctl apply`: a running cluster brought to a changed manifest by the operator's planner |
//! | [`error`] | [`UpError`], [`DownError`] |

pub mod apply;
pub mod certs;
pub mod down;
pub mod error;
pub mod manifest;
pub mod pids;
pub mod pki;
pub mod plan;
pub mod process;
pub mod secrets;
pub mod secure;
pub mod security;
pub mod summary;
pub mod up;

pub use apply::ApplyError;
pub use error::{DownError, UpError};
