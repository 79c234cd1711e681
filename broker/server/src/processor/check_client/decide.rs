//! The rule of CHECK_CLIENT_CONFIG, without I/O.
//!
//! Body: `{"clientId":"..","group":"..","subscriptionData":{"topic":"T","subString":"a > 1",
//! "expressionType":"SQL92",..}}`. A body without a subscription and TAG subscriptions pass;
//! SQL92 needs `enablePropertyFilter=true` (else SYSTEM_ERROR) and an expression that parses
//! (else SUBSCRIPTION_PARSE_FAILED), as Apache's `checkClientConfig` answers.

use rmq_protocol::code::ResponseCode;

use crate::sql_filter::ParseError;
use crate::sql_filter::select::{FilterRefused, MessageFilter};

/// Why a consumer's subscription is refused at start.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CheckRefused {
    #[error("check client body is not valid JSON: {0}")]
    Body(String),
    #[error("The broker does not support consumer to filter message by {0}")]
    NotSupported(String),
    #[error("{0}")]
    Parse(ParseError),
}

impl CheckRefused {
    pub fn code(&self) -> ResponseCode {
        match self {
            CheckRefused::Parse(_) => ResponseCode::SubscriptionParseFailed,
            CheckRefused::Body(_) | CheckRefused::NotSupported(_) => ResponseCode::SystemError,
        }
    }
}

/// Whether the broker can serve the subscription in `body`.
pub fn check(enable_property_filter: bool, body: &[u8]) -> Result<(), CheckRefused> {
    let body: serde_json::Value =
        serde_json::from_slice(body).map_err(|error| CheckRefused::Body(error.to_string()))?;
    let subscription = &body["subscriptionData"];
    if subscription.is_null() {
        return Ok(());
    }
    MessageFilter::build(
        enable_property_filter,
        subscription["expressionType"].as_str(),
        subscription["subString"].as_str(),
    )
    .map(|_| ())
    .map_err(|refused| match refused {
        FilterRefused::NotSupported(kind) => CheckRefused::NotSupported(kind),
        FilterRefused::Parse(error) => CheckRefused::Parse(error),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(expression_type: &str, expression: &str) -> Vec<u8> {
        serde_json::json!({
            "clientId": "127.0.0.1@1",
            "group": "g",
            "subscriptionData": {
                "topic": "T",
                "subString": expression,
                "expressionType": expression_type,
            },
        })
        .to_string()
        .into_bytes()
    }

    #[test]
    fn a_tag_subscription_or_none_at_all_passes_whatever_the_filter_setting() {
        assert_eq!(check(false, &body("TAG", "a || b")), Ok(()));
        assert_eq!(check(false, br#"{"clientId":"c","group":"g"}"#), Ok(()));
    }

    #[test]
    fn sql92_passes_only_when_the_broker_filters_by_properties() {
        assert_eq!(check(true, &body("SQL92", "a > 1 AND b = 'x'")), Ok(()));
        let refused = check(false, &body("SQL92", "a > 1")).unwrap_err();
        assert_eq!(refused.code(), ResponseCode::SystemError);
        assert_eq!(
            refused.to_string(),
            "The broker does not support consumer to filter message by SQL92"
        );
    }

    #[test]
    fn an_expression_that_does_not_parse_is_subscription_parse_failed() {
        let refused = check(true, &body("SQL92", "a >")).unwrap_err();
        assert!(matches!(refused, CheckRefused::Parse(_)), "{refused:?}");
        assert_eq!(refused.code(), ResponseCode::SubscriptionParseFailed);
    }

    #[test]
    fn an_unknown_expression_type_or_a_body_that_is_not_json_is_a_system_error() {
        let refused = check(true, &body("XPATH", "/a")).unwrap_err();
        assert_eq!(refused, CheckRefused::NotSupported("XPATH".into()));
        let refused = check(true, b"{not json").unwrap_err();
        assert!(matches!(refused, CheckRefused::Body(_)), "{refused:?}");
        assert_eq!(refused.code(), ResponseCode::SystemError);
    }
}
