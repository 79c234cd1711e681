//! Apache's plain ACL: accounts and permissions from `plain_acl.yml` ([`config`]), the address
//! patterns of its white lists ([`address`]) and whether a request passes ([`decide`]). The
//! request signature itself is `rmq_protocol::acl`.

pub mod address;
pub mod config;
pub mod decide;
