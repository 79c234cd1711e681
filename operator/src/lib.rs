//! RocketCluster operator: turns one `RocketCluster` into name-server and broker-group
//! StatefulSets.
//!
//! ```text
//! RocketCluster ──dereference (I/O)──▶ live StatefulSets, external Services
//!       │
//!       ├──validate (pure)──▶ ValidatedCluster | InvalidSpec ⇒ Degraded + event, await change
//!       ├──build (pure)────▶ Services, ConfigMaps, Certificates, PDBs, StatefulSets (+ rollout gate)
//!       ├──delete Certificates no longer asked for
//!       ├──apply (SSA, one field manager, in that order) ──▶ delete removed groups, then
//!       │                                                   external Services no longer asked for
//!       └──status (pure) ──▶ conditions, ready replicas per group, name-server address,
//!                            external addresses
//! ```
//!
//! | module | what |
//! |---|---|
//! | [`crd`] | the `RocketCluster` types, schema and CEL rules |
//! | [`crdgen`] | renders the CRD YAML written by the `crdgen` binary |
//! | [`validate`] | pure spec validation into a [`validate::ValidatedCluster`] |
//! | [`build`] | pure builders of every child object, `broker.conf` rendering, rollout gate |
//! | [`controller`] | reconcile, error policy, status, events, controller wiring |
//! | [`metrics`] | Prometheus metrics of the reconciler |
//! | [`http`] | `/metrics`, `/healthz`, `/readyz` |
//! | [`leader`] | optional Lease leader election |

#![forbid(unsafe_code)]

pub mod build;
pub mod controller;
pub mod crd;
pub mod crdgen;
pub mod http;
pub mod leader;
pub mod metrics;
pub mod plan;
pub mod validate;
