//! Apache's plain ACL: accounts and permissions from `plain_acl.yml` ([`config`]). The request
//! signature itself is `rmq_protocol::acl`.

pub mod config;
