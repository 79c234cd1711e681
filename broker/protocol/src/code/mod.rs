//! Request and response codes: one const table each, as explicit enum discriminants.
//!
//! A code we do not know is still a valid command: [`RemotingCommand::code`] keeps the raw `i32`,
//! [`RequestCode::from_code`] says `None`, and the server answers with
//! [`RemotingCommand::request_code_not_supported`]. A gap in a table is a code Apache never used
//! or retired, never a missing one.
//!
//! [`RemotingCommand::code`]: crate::RemotingCommand::code
//! [`RemotingCommand::request_code_not_supported`]: crate::RemotingCommand::request_code_not_supported

mod request;
mod response;

pub use request::RequestCode;
pub use response::ResponseCode;

/// Declares a code enum with explicit discriminants, its Java names and lookups both ways.
macro_rules! code_table {
    (
        $(#[$meta:meta])*
        pub enum $name:ident {
            $( $variant:ident = $value:literal => $java:literal, )*
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[repr(i32)]
        pub enum $name {
            $( #[doc = $java] $variant = $value, )*
        }

        impl $name {
            /// Every code of the table, in ascending order.
            pub const ALL: &'static [$name] = &[$($name::$variant,)*];

            /// The wire value.
            pub const fn code(self) -> i32 {
                self as i32
            }

            /// The code of a wire value, if the table has it.
            pub const fn from_code(code: i32) -> Option<$name> {
                match code {
                    $( $value => Some($name::$variant), )*
                    _ => None,
                }
            }

            /// The Java constant name, e.g. `SEND_MESSAGE`.
            pub const fn name(self) -> &'static str {
                match self {
                    $( $name::$variant => $java, )*
                }
            }

            /// The code of a Java constant name.
            pub fn from_name(name: &str) -> Option<$name> {
                $name::ALL.iter().copied().find(|code| code.name() == name)
            }
        }

        impl From<$name> for i32 {
            fn from(code: $name) -> i32 {
                code.code()
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                write!(f, "{}({})", self.name(), self.code())
            }
        }
    };
}

use code_table;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_table_is_sorted_unique_and_round_trips() {
        for pair in RequestCode::ALL.windows(2) {
            assert!(
                pair[0].code() < pair[1].code(),
                "{} then {}",
                pair[0],
                pair[1]
            );
        }
        for code in RequestCode::ALL {
            assert_eq!(RequestCode::from_code(code.code()), Some(*code));
            assert_eq!(RequestCode::from_name(code.name()), Some(*code));
        }
    }

    #[test]
    fn response_table_is_sorted_unique_and_round_trips() {
        for pair in ResponseCode::ALL.windows(2) {
            assert!(
                pair[0].code() < pair[1].code(),
                "{} then {}",
                pair[0],
                pair[1]
            );
        }
        for code in ResponseCode::ALL {
            assert_eq!(ResponseCode::from_code(code.code()), Some(*code));
            assert_eq!(ResponseCode::from_name(code.name()), Some(*code));
        }
    }

    /// Every row of spec §2.1, checked by value and by name.
    #[test]
    fn request_codes_of_the_spec_table_have_their_apache_values() {
        let spec: &[(i32, &str)] = &[
            (10, "SEND_MESSAGE"),
            (11, "PULL_MESSAGE"),
            (12, "QUERY_MESSAGE"),
            (13, "QUERY_BROKER_OFFSET"),
            (14, "QUERY_CONSUMER_OFFSET"),
            (15, "UPDATE_CONSUMER_OFFSET"),
            (17, "UPDATE_AND_CREATE_TOPIC"),
            (21, "GET_ALL_TOPIC_CONFIG"),
            (25, "UPDATE_BROKER_CONFIG"),
            (26, "GET_BROKER_CONFIG"),
            (28, "GET_BROKER_RUNTIME_INFO"),
            (29, "SEARCH_OFFSET_BY_TIMESTAMP"),
            (30, "GET_MAX_OFFSET"),
            (31, "GET_MIN_OFFSET"),
            (32, "GET_EARLIEST_MSG_STORETIME"),
            (33, "VIEW_MESSAGE_BY_ID"),
            (34, "HEART_BEAT"),
            (35, "UNREGISTER_CLIENT"),
            (36, "CONSUMER_SEND_MSG_BACK"),
            (37, "END_TRANSACTION"),
            (38, "GET_CONSUMER_LIST_BY_GROUP"),
            (39, "CHECK_TRANSACTION_STATE"),
            (40, "NOTIFY_CONSUMER_IDS_CHANGED"),
            (41, "LOCK_BATCH_MQ"),
            (42, "UNLOCK_BATCH_MQ"),
            (43, "GET_ALL_CONSUMER_OFFSET"),
            (45, "GET_ALL_DELAY_OFFSET"),
            (46, "CHECK_CLIENT_CONFIG"),
            (100, "PUT_KV_CONFIG"),
            (101, "GET_KV_CONFIG"),
            (102, "DELETE_KV_CONFIG"),
            (103, "REGISTER_BROKER"),
            (104, "UNREGISTER_BROKER"),
            (105, "GET_ROUTEINFO_BY_TOPIC"),
            (106, "GET_BROKER_CLUSTER_INFO"),
            (200, "UPDATE_AND_CREATE_SUBSCRIPTIONGROUP"),
            (201, "GET_ALL_SUBSCRIPTIONGROUP_CONFIG"),
            (205, "WIPE_WRITE_PERM_OF_BROKER"),
            (206, "GET_ALL_TOPIC_LIST_FROM_NAMESERVER"),
            (207, "DELETE_SUBSCRIPTIONGROUP"),
            (215, "DELETE_TOPIC_IN_BROKER"),
            (216, "DELETE_TOPIC_IN_NAMESRV"),
            (217, "REGISTER_TOPIC_IN_NAMESRV"),
            (224, "GET_TOPICS_BY_CLUSTER"),
            (310, "SEND_MESSAGE_V2"),
            (320, "SEND_BATCH_MESSAGE"),
            (322, "QUERY_DATA_VERSION"),
            (324, "SEND_REPLY_MESSAGE"),
            (325, "SEND_REPLY_MESSAGE_V2"),
            (327, "ADD_WRITE_PERM_OF_BROKER"),
            (361, "LITE_PULL_MESSAGE"),
            (904, "BROKER_HEARTBEAT"),
        ];
        for (value, name) in spec {
            let code = RequestCode::from_code(*value);
            assert_eq!(code.map(RequestCode::name), Some(*name), "code {value}");
        }
        for value in (200_050..=200_056).chain(1001..=1013) {
            assert!(RequestCode::from_code(value).is_some(), "code {value}");
        }
    }

    /// Every row of spec §2.2, checked by value and by name.
    #[test]
    fn response_codes_of_the_spec_table_have_their_apache_values() {
        let spec: &[(i32, &str)] = &[
            (0, "SUCCESS"),
            (1, "SYSTEM_ERROR"),
            (2, "SYSTEM_BUSY"),
            (3, "REQUEST_CODE_NOT_SUPPORTED"),
            (4, "TRANSACTION_FAILED"),
            (10, "FLUSH_DISK_TIMEOUT"),
            (11, "SLAVE_NOT_AVAILABLE"),
            (12, "FLUSH_SLAVE_TIMEOUT"),
            (13, "MESSAGE_ILLEGAL"),
            (14, "SERVICE_NOT_AVAILABLE"),
            (15, "VERSION_NOT_SUPPORTED"),
            (16, "NO_PERMISSION"),
            (17, "TOPIC_NOT_EXIST"),
            (18, "TOPIC_EXIST_ALREADY"),
            (19, "PULL_NOT_FOUND"),
            (20, "PULL_RETRY_IMMEDIATELY"),
            (21, "PULL_OFFSET_MOVED"),
            (22, "QUERY_NOT_FOUND"),
            (23, "SUBSCRIPTION_PARSE_FAILED"),
            (24, "SUBSCRIPTION_NOT_EXIST"),
            (25, "SUBSCRIPTION_NOT_LATEST"),
            (26, "SUBSCRIPTION_GROUP_NOT_EXIST"),
            (27, "FILTER_DATA_NOT_EXIST"),
            (28, "FILTER_DATA_NOT_LATEST"),
            (29, "INVALID_PARAMETER"),
            (200, "TRANSACTION_SHOULD_COMMIT"),
            (201, "TRANSACTION_SHOULD_ROLLBACK"),
            (202, "TRANSACTION_STATE_UNKNOW"),
            (204, "NO_BUYER_ID"),
            (205, "NOT_IN_CURRENT_UNIT"),
            (206, "CONSUMER_NOT_ONLINE"),
            (207, "CONSUME_MSG_TIMEOUT"),
            (208, "NO_MESSAGE"),
            (209, "POLLING_FULL"),
            (210, "POLLING_TIMEOUT"),
            (211, "BROKER_NOT_EXIST"),
            (212, "BROKER_DISPATCH_NOT_COMPLETE"),
            (215, "FLOW_CONTROL"),
            (501, "NOT_LEADER_FOR_QUEUE"),
            (604, "ILLEGAL_OPERATION"),
            (1500, "GO_AWAY"),
        ];
        for (value, name) in spec {
            let code = ResponseCode::from_code(*value);
            assert_eq!(code.map(ResponseCode::name), Some(*name), "code {value}");
        }
    }

    #[test]
    fn unknown_codes_are_not_in_the_tables() {
        assert_eq!(RequestCode::from_code(9999), None);
        assert_eq!(RequestCode::from_code(-1), None);
        assert_eq!(ResponseCode::from_code(5), None);
    }

    #[test]
    fn display_shows_name_and_value() {
        assert_eq!(
            RequestCode::SendMessageV2.to_string(),
            "SEND_MESSAGE_V2(310)"
        );
        assert_eq!(ResponseCode::PullNotFound.to_string(), "PULL_NOT_FOUND(19)");
    }
}
