//! Apache's plain ACL: accounts and permissions from `plain_acl.yml` ([`config`]) and the
//! address patterns of its white lists ([`address`]). The request signature itself is
//! `rmq_protocol::acl`.

pub mod address;
pub mod config;
