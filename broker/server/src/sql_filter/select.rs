//! The filter a pull applies: a tag expression or a SQL92 expression, chosen by the
//! subscription's `expressionType`, with Apache's refusals.

use bytes::Bytes;
use rmq_protocol::message::properties::{self, keys};
use rmq_protocol::message::record::RecordView;

use super::{ParseError, SqlFilter};
use crate::filter::TagFilter;

/// `ExpressionType.SQL92`.
pub const SQL92: &str = "SQL92";
/// `ExpressionType.TAG`.
pub const TAG: &str = "TAG";

/// A subscription's filter.
#[derive(Debug, Clone, PartialEq)]
pub enum MessageFilter {
    Tag(TagFilter),
    Sql(SqlFilter),
}

/// Why a subscription's filter cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FilterRefused {
    /// SQL92 without `enablePropertyFilter`, or an unknown expression type (SYSTEM_ERROR).
    #[error("The broker does not support consumer to filter message by {0}")]
    NotSupported(String),
    /// The expression does not parse (SUBSCRIPTION_PARSE_FAILED / FILTER_DATA_NOT_EXIST).
    #[error("{0}")]
    Parse(#[from] ParseError),
}

impl MessageFilter {
    /// The filter of `expression` of type `expression_type` (absent: TAG).
    pub fn build(
        enable_property_filter: bool,
        expression_type: Option<&str>,
        expression: Option<&str>,
    ) -> Result<MessageFilter, FilterRefused> {
        let kind = expression_type.map(str::trim).filter(|t| !t.is_empty());
        match kind {
            None => Ok(MessageFilter::Tag(TagFilter::parse(expression))),
            Some(t) if t.eq_ignore_ascii_case(TAG) => {
                Ok(MessageFilter::Tag(TagFilter::parse(expression)))
            }
            Some(t) if t.eq_ignore_ascii_case(SQL92) && enable_property_filter => Ok(
                MessageFilter::Sql(SqlFilter::compile(expression.unwrap_or(""))?),
            ),
            Some(other) => Err(FilterRefused::NotSupported(other.to_owned())),
        }
    }

    /// Whether a consume-queue entry with this tag code may match (SQL92 reads the record).
    pub fn matches_code(&self, tags_code: i64) -> bool {
        match self {
            MessageFilter::Tag(tag) => tag.matches_code(tags_code),
            MessageFilter::Sql(_) => true,
        }
    }

    /// Whether every record passes without being read.
    pub fn accepts_all(&self) -> bool {
        matches!(self, MessageFilter::Tag(TagFilter::All))
    }

    /// Whether a stored record matches. A record we cannot read is returned as is (the client
    /// reports it; dropping it here would hide it).
    pub fn matches_record(&self, raw: &Bytes) -> bool {
        let Ok(view) = RecordView::decode(raw) else {
            return true;
        };
        match self {
            MessageFilter::Tag(tag) => {
                tag.matches_tag(properties::find(view.properties(), keys::TAGS))
            }
            MessageFilter::Sql(sql) => sql.matches(view.properties()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sql92_needs_the_property_filter_switch_and_a_valid_expression() {
        assert!(matches!(
            MessageFilter::build(false, Some("SQL92"), Some("a > 1")),
            Err(FilterRefused::NotSupported(_))
        ));
        assert!(matches!(
            MessageFilter::build(true, Some("SQL92"), Some("a >")),
            Err(FilterRefused::Parse(_))
        ));
        assert!(matches!(
            MessageFilter::build(true, Some("SQL92"), Some("a > 1")),
            Ok(MessageFilter::Sql(_))
        ));
        assert!(matches!(
            MessageFilter::build(false, None, Some("*")),
            Ok(MessageFilter::Tag(TagFilter::All))
        ));
        assert!(matches!(
            MessageFilter::build(false, Some("TAG"), Some("a || b")),
            Ok(MessageFilter::Tag(TagFilter::Tags { .. }))
        ));
    }
}
