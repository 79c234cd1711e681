//! RocketCluster operator: turns one `RocketCluster` into name-server and broker-group
//! StatefulSets.
//!
//! | module | what |
//! |---|---|
//! | [`crd`] | the `RocketCluster` types, schema and CEL rules |
//! | [`crdgen`] | renders the CRD YAML written by the `crdgen` binary |

pub mod build;
pub mod controller;
pub mod crd;
pub mod crdgen;
pub mod metrics;
pub mod validate;
