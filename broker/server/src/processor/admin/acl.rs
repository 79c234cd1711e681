//! The plain-ACL admin requests mqadmin's ACL subcommands send: UPDATE_AND_CREATE_ACL_CONFIG,
//! DELETE_ACL_CONFIG, GET_BROKER_CLUSTER_ACL_INFO, UPDATE_GLOBAL_WHITE_ADDRS_CONFIG,
//! GET_BROKER_CLUSTER_ACL_CONFIG. The changes are [`crate::acl::edit`]'s, written durably to
//! `plain_acl.yml` and in force at once ([`crate::acl::rules::AclRules::edit`]); who may send
//! them is [`crate::acl::needs::ADMIN_CODES`]. On a broker without ACL each is answered with
//! its failure code (Apache's broker fails with a NullPointerException, or does not answer).

use std::collections::BTreeMap;

use rmq_protocol::RemotingCommand;
use rmq_protocol::code::ResponseCode;
use rmq_protocol::command::acl_config::{
    CreateAccessConfigRequestHeader, DELETE_ACL_CONFIG_FAILED, DeleteAccessConfigRequestHeader,
    GetBrokerAclConfigResponseHeader, UPDATE_AND_CREATE_ACL_CONFIG_FAILED,
    UPDATE_GLOBAL_WHITE_ADDRS_CONFIG_FAILED, UpdateGlobalWhiteAddrsConfigRequestHeader,
};
use tracing::{info, warn};

use crate::acl::edit::{self, AccountChange};
use crate::processor::reply::{bad_header, success_with};
use crate::state::Broker;

/// What ACL admin requests answer on a broker with `aclEnable=false`.
const ACL_OFF: &str = "ACL is not enabled on this broker (aclEnable=false)";

fn failed(request: &RemotingCommand, code: i32, remark: String) -> RemotingCommand {
    let mut answer = RemotingCommand::response_to(request, code);
    answer.remark = Some(remark);
    answer
}

/// UPDATE_AND_CREATE_ACL_CONFIG (50).
pub fn update_account(broker: &Broker, request: &RemotingCommand) -> RemotingCommand {
    let code = UPDATE_AND_CREATE_ACL_CONFIG_FAILED;
    let Some(rules) = broker.acl.as_deref() else {
        return failed(request, code, ACL_OFF.to_owned());
    };
    let header: CreateAccessConfigRequestHeader = match request.decode_header() {
        Ok(header) => header,
        Err(error) => return bad_header(request, &error),
    };
    let change = AccountChange::from_header(&header);
    // An account is changed in its own file; a new one goes to plain_acl.yml (Apache's rule).
    let file = rules
        .file_of(&change.access_key)
        .unwrap_or_else(|| rules.path().to_path_buf());
    match rules.edit(broker.clock.now_ms(), &file, |doc| {
        edit::upsert(doc, &change)
    }) {
        Ok(done) => {
            info!(access_key = %change.access_key, ?done, admin = change.admin, "ACL account written");
            RemotingCommand::response_to(request, ResponseCode::Success)
        }
        Err(error) => {
            warn!(access_key = %change.access_key, %error, "ACL account not written");
            failed(request, code, error.to_string())
        }
    }
}

/// DELETE_ACL_CONFIG (51).
pub fn delete_account(broker: &Broker, request: &RemotingCommand) -> RemotingCommand {
    let code = DELETE_ACL_CONFIG_FAILED;
    let Some(rules) = broker.acl.as_deref() else {
        return failed(request, code, ACL_OFF.to_owned());
    };
    let header: DeleteAccessConfigRequestHeader = match request.decode_header() {
        Ok(header) => header,
        Err(error) => return bad_header(request, &error),
    };
    let key = header.access_key.trim();
    let Some(file) = rules.file_of(key) else {
        let unknown = edit::EditError::NoSuchAccount(key.to_owned());
        return failed(request, code, unknown.to_string());
    };
    match rules.edit(broker.clock.now_ms(), &file, |doc| edit::delete(doc, key)) {
        Ok(()) => {
            info!(access_key = %key, "ACL account deleted");
            RemotingCommand::response_to(request, ResponseCode::Success)
        }
        Err(error) => failed(request, code, error.to_string()),
    }
}

/// UPDATE_GLOBAL_WHITE_ADDRS_CONFIG (53): in the rules file `aclFileFullPath` names (one of
/// the broker's), or plain_acl.yml.
pub fn update_global_white(broker: &Broker, request: &RemotingCommand) -> RemotingCommand {
    let code = UPDATE_GLOBAL_WHITE_ADDRS_CONFIG_FAILED;
    let Some(rules) = broker.acl.as_deref() else {
        return failed(request, code, ACL_OFF.to_owned());
    };
    let header: UpdateGlobalWhiteAddrsConfigRequestHeader = match request.decode_header() {
        Ok(header) => header,
        Err(error) => return bad_header(request, &error),
    };
    let file = match header
        .acl_file_full_path
        .as_deref()
        .filter(|p| !p.is_empty())
    {
        None => rules.path().to_path_buf(),
        Some(path) => match rules
            .files()
            .into_iter()
            .find(|f| f.as_path() == std::path::Path::new(path))
        {
            Some(file) => file,
            None => {
                let remark =
                    format!("aclFileFullPath {path} is not one of this broker's ACL files");
                return failed(request, code, remark);
            }
        },
    };
    let addresses: Vec<String> = header
        .global_white_addrs
        .split(',')
        .map(str::trim)
        .filter(|a| !a.is_empty())
        .map(str::to_owned)
        .collect();
    match rules.edit(broker.clock.now_ms(), &file, |doc| {
        edit::set_global_white(doc, &addresses)
    }) {
        Ok(()) => {
            info!(?addresses, "ACL global white list replaced");
            RemotingCommand::response_to(request, ResponseCode::Success)
        }
        Err(error) => failed(request, code, error.to_string()),
    }
}

/// GET_BROKER_CLUSTER_ACL_INFO (52): plain_acl.yml's version, as `{"counter":N,"timestamp":T}`,
/// and every rules file's by path.
pub fn acl_versions(broker: &Broker, request: &RemotingCommand) -> RemotingCommand {
    let Some(rules) = broker.acl.as_deref() else {
        return failed(
            request,
            ResponseCode::SystemError as i32,
            ACL_OFF.to_owned(),
        );
    };
    let versions = rules.data_versions();
    let default = versions
        .iter()
        .find(|(path, _)| path == rules.path())
        .map(|(_, v)| *v)
        .unwrap_or_default();
    let json = serde_json::to_string(&default).unwrap_or_default();
    let by_file: BTreeMap<String, _> = versions
        .into_iter()
        .map(|(path, version)| (path.display().to_string(), version))
        .collect();
    let header = GetBrokerAclConfigResponseHeader {
        version: json,
        all_acl_file_version: serde_json::to_string(&by_file).ok(),
        broker_name: broker.config.broker_name.clone(),
        broker_addr: broker.config.broker_addr(),
        cluster_name: broker.config.cluster_name.clone(),
    };
    success_with(request, &header)
}

/// GET_BROKER_CLUSTER_ACL_CONFIG (54): the white list and every account (secrets included, which
/// is why only admin accounts may ask).
pub fn acl_config(broker: &Broker, request: &RemotingCommand) -> RemotingCommand {
    let Some(rules) = broker.acl.as_deref() else {
        return failed(
            request,
            ResponseCode::SystemError as i32,
            ACL_OFF.to_owned(),
        );
    };
    super::json_answer(
        request,
        rules.listing().and_then(|body| {
            serde_json::to_vec(&body)
                .map_err(|e| crate::acl::config::AclConfigError::Yaml(e.to_string()))
        }),
    )
}
