//! Apache's plain ACL: accounts and permissions from `plain_acl.yml` ([`config`]), the address
//! patterns of its white lists ([`address`]), what each request needs ([`needs`]), whether it
//! passes ([`decide`]), and the rules in force, reloaded when the file changes ([`rules`]).
//! The request signature itself is `rmq_protocol::acl`. Not wired into the request path yet:
//! `aclEnable` is still an unknown key.

pub mod address;
pub mod config;
pub mod decide;
pub mod needs;
pub mod rules;
