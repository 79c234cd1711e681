//! The plain-ACL admin commands mqadmin's ACL subcommands send (Apache 4.x):
//!
//! | code | request header | answer |
//! |---|---|---|
//! | UPDATE_AND_CREATE_ACL_CONFIG 50 | [`CreateAccessConfigRequestHeader`] | SUCCESS, or 209 with a remark |
//! | DELETE_ACL_CONFIG 51 | [`DeleteAccessConfigRequestHeader`] | SUCCESS, or 210 |
//! | GET_BROKER_CLUSTER_ACL_INFO 52 | none | [`GetBrokerAclConfigResponseHeader`] |
//! | UPDATE_GLOBAL_WHITE_ADDRS_CONFIG 53 | [`UpdateGlobalWhiteAddrsConfigRequestHeader`] | SUCCESS, or 211 |
//! | GET_BROKER_CLUSTER_ACL_CONFIG 54 | none | body [`AclConfigBody`] |
//!
//! 5.x gave 209–211 to other answers (POLLING_FULL, ...); under 4.x's ACL codes they mean the
//! failures below.

use serde::{Deserialize, Serialize};

use super::command_header;

/// 4.x `UPDATE_AND_CREATE_ACL_CONFIG_FAILED`.
pub const UPDATE_AND_CREATE_ACL_CONFIG_FAILED: i32 = 209;
/// 4.x `DELETE_ACL_CONFIG_FAILED`.
pub const DELETE_ACL_CONFIG_FAILED: i32 = 210;
/// 4.x `UPDATE_GLOBAL_WHITE_ADDRS_CONFIG_FAILED`.
pub const UPDATE_GLOBAL_WHITE_ADDRS_CONFIG_FAILED: i32 = 211;

command_header! {
    /// An account to create, or the fields of one to change (absent fields are kept, but
    /// `admin`, a Java primitive, is always sent and always applied).
    pub struct CreateAccessConfigRequestHeader {
        access_key: String => "accessKey",
        secret_key: Option<String> => "secretKey",
        white_remote_address: Option<String> => "whiteRemoteAddress",
        admin: bool => "admin" or false,
        default_topic_perm: Option<String> => "defaultTopicPerm",
        default_group_perm: Option<String> => "defaultGroupPerm",
        /// `topicA=PUB,topicB=SUB`: replaces the account's list.
        topic_perms: Option<String> => "topicPerms",
        /// `groupA=SUB,...`: replaces the account's list.
        group_perms: Option<String> => "groupPerms",
    }
}

command_header! {
    /// The account to delete.
    pub struct DeleteAccessConfigRequestHeader {
        access_key: String => "accessKey",
    }
}

command_header! {
    /// The new global white list (comma-separated), for the file at `aclFileFullPath` (absent:
    /// the default file).
    pub struct UpdateGlobalWhiteAddrsConfigRequestHeader {
        global_white_addrs: String => "globalWhiteAddrs",
        acl_file_full_path: Option<String> => "aclFileFullPath",
    }
}

command_header! {
    /// The ACL file versions of a broker.
    pub struct GetBrokerAclConfigResponseHeader {
        /// The default file's `{"counter":N,"timestamp":T}`.
        version: String => "version",
        /// JSON: file path → its version.
        all_acl_file_version: Option<String> => "allAclFileVersion",
        broker_name: String => "brokerName",
        broker_addr: String => "brokerAddr",
        cluster_name: String => "clusterName",
    }
}

/// One account as GET_BROKER_CLUSTER_ACL_CONFIG lists it (Apache's `PlainAccessConfig`, keys in
/// fastjson's alphabetical order, absent values left out).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PlainAccessConfig {
    pub access_key: String,
    #[serde(default)]
    pub admin: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_group_perm: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_topic_perm: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group_perms: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret_key: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub topic_perms: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub white_remote_address: Option<String>,
}

/// GET_BROKER_CLUSTER_ACL_CONFIG's body: both lists always present.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AclConfigBody {
    #[serde(default)]
    pub global_white_addrs: Vec<String>,
    #[serde(default)]
    pub plain_access_configs: Vec<PlainAccessConfig>,
}

/// A file's `dataVersion` (`{"counter":N,"timestamp":T}`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct AclDataVersion {
    pub counter: i64,
    pub timestamp: i64,
}

#[cfg(test)]
mod tests {
    use super::super::testing::assert_round_trip_and_required;
    use super::*;

    #[test]
    fn the_headers_round_trip_and_require_what_apache_requires() {
        let create = CreateAccessConfigRequestHeader {
            access_key: "rocketmq3".into(),
            secret_key: Some("12345678".into()),
            white_remote_address: None,
            admin: false,
            default_topic_perm: Some("DENY".into()),
            default_group_perm: None,
            topic_perms: Some("topicA=PUB,topicB=SUB".into()),
            group_perms: None,
        };
        assert_round_trip_and_required(&create, &["accessKey"]);
        let delete = DeleteAccessConfigRequestHeader {
            access_key: "rocketmq3".into(),
        };
        assert_round_trip_and_required(&delete, &["accessKey"]);
        let white = UpdateGlobalWhiteAddrsConfigRequestHeader {
            global_white_addrs: "10.10.103.*,192.168.0.*".into(),
            acl_file_full_path: None,
        };
        assert_round_trip_and_required(&white, &["globalWhiteAddrs"]);
    }

    #[test]
    fn the_config_body_is_written_as_fastjson_writes_it() {
        let body = AclConfigBody {
            global_white_addrs: vec!["10.10.103.*".into()],
            plain_access_configs: vec![PlainAccessConfig {
                access_key: "rocketmq2".into(),
                admin: true,
                secret_key: Some("12345678".into()),
                white_remote_address: Some("192.168.1.*".into()),
                ..PlainAccessConfig::default()
            }],
        };
        assert_eq!(
            serde_json::to_string(&body).unwrap(),
            r#"{"globalWhiteAddrs":["10.10.103.*"],"plainAccessConfigs":[{"accessKey":"rocketmq2","admin":true,"secretKey":"12345678","whiteRemoteAddress":"192.168.1.*"}]}"#
        );
        let empty = serde_json::to_string(&AclConfigBody::default()).unwrap();
        assert_eq!(empty, r#"{"globalWhiteAddrs":[],"plainAccessConfigs":[]}"#);
    }
}
