//! RocketCluster operator.
