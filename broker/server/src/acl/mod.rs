//! Apache's plain ACL: accounts and permissions from `plain_acl.yml` ([`config`]), the address
//! patterns of its white lists ([`address`]), what each request needs ([`needs`]), whether it
//! passes ([`decide`]), the rules in force from every rules file ([`files`]), reloaded when they
//! change ([`rules`]), and the
//! check of each request with Apache's answer to a refusal ([`gate`]), run before dispatch when
//! `aclEnable=true`; the changes the ACL admin codes make to the file ([`edit`]). The request
//! signature itself is `rmq_protocol::acl`.

pub mod address;
pub mod config;
pub mod decide;
pub mod edit;
pub mod files;
pub mod gate;
pub mod needs;
pub mod rules;
