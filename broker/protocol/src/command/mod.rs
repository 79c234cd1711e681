//! One module per command: its typed request and response headers (and command-specific bodies).
//!
//! A header travels as the command's ext fields, one entry per Java field name, values as strings
//! (`"true"`/`"false"`, decimal numbers). [`CommandHeader`] converts both ways. Reading is
//! strict about required fields (a typed error names the missing one) and ignores keys it does
//! not know, such as the 5.x RPC fields (`ns`, `bname`, `oway`, ...) or ACL fields.
//! Writing always emits every required field: Java clients unbox them without a null check.
//!
//! Java primitives with an initial value (`boolean committed = true`) are read with that value
//! when absent and always written.

pub mod acl_config;
pub mod broker_config;
pub mod broker_consume_stats;
pub mod call_consumer;
pub mod check_transaction_state;
pub mod clone_group_offset;
pub mod connection_list;
pub mod consumer_send_msg_back;
pub mod create_topic;
pub mod delete_topic;
pub mod end_transaction;
pub mod get_all_topic_config;
pub mod get_consume_stats;
pub mod get_consumer_list;
pub mod get_consumer_status;
pub mod get_earliest_msg_storetime;
pub mod get_max_offset;
pub mod get_min_offset;
pub mod get_route_info;
pub mod get_subscription_group_config;
pub mod get_topic_config;
pub mod get_topic_stats;
pub mod get_topics_by_cluster;
pub mod heart_beat;
pub mod kv_config;
pub mod lock_batch_mq;
pub mod notify_consumer_ids_changed;
pub mod pull_message;
pub mod query_consume_queue;
pub mod query_consume_time_span;
pub mod query_consumer_offset;
pub mod query_correction_offset;
pub mod query_data_version;
pub mod query_message;
pub mod query_topic_consume_by_who;
pub mod register_broker;
pub mod reply_message;
pub mod reset_offset;
pub mod resume_check_half_message;
pub mod search_offset;
pub mod send_message;
pub mod unregister_broker;
pub mod unregister_client;
pub mod update_consumer_offset;
pub mod view_broker_stats;
pub mod view_message;
pub mod wipe_write_perm;

use crate::remoting_command::ExtFields;

/// A typed custom header, carried in a command's ext fields.
pub trait CommandHeader: Sized {
    /// The ext fields of this header: every required field, and optional fields that are set.
    fn to_ext_fields(&self) -> ExtFields;
    /// Reads the header; unknown keys are ignored.
    fn from_ext_fields(fields: &ExtFields) -> Result<Self, ReadHeaderError>;
}

/// Reading a typed header from ext fields failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReadHeaderError {
    #[error("header field `{field}` is missing")]
    MissingField { field: &'static str },
    #[error("header field `{field}` = {value:?} is not {expected}")]
    InvalidField {
        field: &'static str,
        value: String,
        expected: &'static str,
    },
}

/// A value that travels as one ext field string.
pub trait HeaderValue: Sized {
    /// What a valid value looks like, for error messages.
    const EXPECTED: &'static str;
    /// Sets `key` to the wire text in `fields` (formatted or lent, not allocated).
    fn insert_into(&self, key: &'static str, fields: &mut ExtFields);
    /// Parses the wire text.
    fn from_field(text: &str) -> Option<Self>;
}

impl HeaderValue for String {
    const EXPECTED: &'static str = "a string";
    fn insert_into(&self, key: &'static str, fields: &mut ExtFields) {
        fields.insert(key, self);
    }
    fn from_field(text: &str) -> Option<Self> {
        Some(text.to_owned())
    }
}

macro_rules! integer_header_value {
    ($($ty:ty => $expected:literal),*) => {$(
        impl HeaderValue for $ty {
            const EXPECTED: &'static str = $expected;
            fn insert_into(&self, key: &'static str, fields: &mut ExtFields) {
                fields.insert(key, crate::decimal::decimal(i64::from(*self), &mut [0; 20]));
            }
            fn from_field(text: &str) -> Option<Self> {
                text.trim().parse().ok()
            }
        }
    )*};
}

integer_header_value!(i32 => "a 32-bit integer", i64 => "a 64-bit integer");

impl HeaderValue for bool {
    const EXPECTED: &'static str = "a boolean";
    fn insert_into(&self, key: &'static str, fields: &mut ExtFields) {
        fields.insert(key, if *self { "true" } else { "false" });
    }
    /// Java's `Boolean.parseBoolean`: `true` in any case is true, anything else false. The C++
    /// client sends `unitMode: "0"`, which Apache reads as false.
    fn from_field(text: &str) -> Option<Self> {
        Some(text.trim().eq_ignore_ascii_case("true"))
    }
}

#[cfg(test)]
mod bool_field_tests {
    use super::HeaderValue;

    #[test]
    fn booleans_parse_like_java_parse_boolean_so_cpp_zero_is_false() {
        assert_eq!(bool::from_field("true"), Some(true));
        assert_eq!(bool::from_field("TRUE"), Some(true));
        assert_eq!(bool::from_field("false"), Some(false));
        assert_eq!(bool::from_field("0"), Some(false));
        assert_eq!(bool::from_field("1"), Some(false));
        assert_eq!(bool::from_field(""), Some(false));
    }
}

/// A header struct field: a required `T` or an optional `Option<T>`.
pub trait HeaderField: Sized {
    /// Adds the field to `fields` (optional fields only when set).
    fn write_field(&self, key: &'static str, fields: &mut ExtFields);
    /// Reads the field.
    fn read_field(fields: &ExtFields, key: &'static str) -> Result<Self, ReadHeaderError>;
}

/// Implements [`HeaderField`] for `T` (required) and `Option<T>` (optional) of [`HeaderValue`]s.
macro_rules! header_field {
    ($($ty:ty),*) => {$(
        impl $crate::command::HeaderField for $ty {
            fn write_field(&self, key: &'static str, fields: &mut $crate::ExtFields) {
                $crate::command::HeaderValue::insert_into(self, key, fields);
            }
            fn read_field(
                fields: &$crate::ExtFields,
                key: &'static str,
            ) -> Result<Self, $crate::command::ReadHeaderError> {
                match fields.get(key) {
                    None => Err($crate::command::ReadHeaderError::MissingField { field: key }),
                    Some(text) => $crate::command::parse_field(key, text),
                }
            }
        }

        impl $crate::command::HeaderField for Option<$ty> {
            fn write_field(&self, key: &'static str, fields: &mut $crate::ExtFields) {
                if let Some(value) = self {
                    $crate::command::HeaderValue::insert_into(value, key, fields);
                }
            }
            fn read_field(
                fields: &$crate::ExtFields,
                key: &'static str,
            ) -> Result<Self, $crate::command::ReadHeaderError> {
                $crate::command::read_optional(fields, key)
            }
        }
    )*};
}

pub(crate) use header_field;

header_field!(String, i32, i64, bool);

/// Parses one present field.
pub(crate) fn parse_field<T: HeaderValue>(
    key: &'static str,
    text: &str,
) -> Result<T, ReadHeaderError> {
    T::from_field(text).ok_or_else(|| ReadHeaderError::InvalidField {
        field: key,
        value: text.to_owned(),
        expected: T::EXPECTED,
    })
}

/// Reads an optional field. An empty string is absent for every type but `String`, as some
/// clients send `""` for fields they do not set.
pub(crate) fn read_optional<T: HeaderValue>(
    fields: &ExtFields,
    key: &'static str,
) -> Result<Option<T>, ReadHeaderError> {
    match fields.get(key) {
        None => Ok(None),
        Some(text) if text.is_empty() && T::from_field("").is_none() => Ok(None),
        Some(text) => parse_field(key, text).map(Some),
    }
}

/// Declares a header struct with its Java field names and implements [`CommandHeader`].
///
/// `field: Type => "javaName"` is required (or optional when `Type` is an `Option`);
/// `field: Type => "javaName" or default` is a Java primitive with an initial value.
macro_rules! command_header {
    (
        $(#[$meta:meta])*
        pub struct $name:ident {
            $(
                $(#[$field_meta:meta])*
                $field:ident : $ty:ty => $key:literal $(or $default:expr)?
            ),* $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq)]
        pub struct $name {
            $( $(#[$field_meta])* pub $field: $ty, )*
        }

        impl Default for $name {
            fn default() -> Self {
                $name {
                    $( $field: $crate::command::command_header!(@default $ty $(, $default)?), )*
                }
            }
        }

        impl $crate::command::CommandHeader for $name {
            #[allow(unused_mut)]
            fn to_ext_fields(&self) -> $crate::ExtFields {
                const FIELDS: usize = {
                    let keys: &[&str] = &[$($key),*];
                    keys.len()
                };
                // Names and values average well under 24 bytes.
                let mut fields = $crate::ExtFields::with_capacity(FIELDS, FIELDS * 24);
                $( $crate::command::HeaderField::write_field(&self.$field, $key, &mut fields); )*
                fields
            }

            #[allow(unused_variables)]
            fn from_ext_fields(
                fields: &$crate::ExtFields,
            ) -> Result<Self, $crate::command::ReadHeaderError> {
                Ok($name {
                    $( $field: $crate::command::command_header!(@read fields, $key, $ty $(, $default)?), )*
                })
            }
        }
    };
    (@default $ty:ty) => { <$ty as Default>::default() };
    (@default $ty:ty, $default:expr) => { $default };
    (@read $fields:ident, $key:literal, $ty:ty) => {
        <$ty as $crate::command::HeaderField>::read_field($fields, $key)?
    };
    (@read $fields:ident, $key:literal, $ty:ty, $default:expr) => {
        <Option<$ty> as $crate::command::HeaderField>::read_field($fields, $key)?.unwrap_or($default)
    };
}

pub(crate) use command_header;

/// Test helpers shared by the command modules.
#[cfg(test)]
pub(crate) mod testing {
    use super::*;

    /// Encodes, checks every key is present, decodes, compares; then removes each required key in
    /// turn and checks the error names it.
    pub fn assert_round_trip_and_required<H>(header: &H, required: &[&'static str])
    where
        H: CommandHeader + PartialEq + std::fmt::Debug,
    {
        let fields = header.to_ext_fields();
        assert_eq!(&H::from_ext_fields(&fields).unwrap(), header);
        for key in required {
            assert!(fields.contains_key(key), "required field {key} not written");
            let mut missing = fields.clone();
            missing.remove(key);
            assert_eq!(
                H::from_ext_fields(&missing),
                Err(ReadHeaderError::MissingField { field: key }),
                "removing {key}"
            );
        }
        let optional: Vec<_> = fields
            .keys()
            .filter(|key| !required.contains(key))
            .collect();
        for key in optional {
            let mut without = fields.clone();
            without.remove(key);
            assert!(
                H::from_ext_fields(&without).is_ok(),
                "optional field {key} became required"
            );
        }
    }

    /// Ext fields from literal pairs.
    pub fn fields(pairs: &[(&str, &str)]) -> ExtFields {
        pairs
            .iter()
            .map(|(key, value)| (key.to_string(), value.to_string()))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::testing::fields;
    use super::*;

    command_header! {
        /// A header exercising every kind of field.
        pub struct Sample {
            name: String => "name",
            count: i32 => "count",
            offset: Option<i64> => "offset",
            flag: Option<bool> => "flag",
            committed: bool => "committed" or true,
        }
    }

    #[test]
    fn numbers_and_booleans_are_parsed_from_their_strings() {
        let header = Sample::from_ext_fields(&fields(&[
            ("name", "n"),
            ("count", " 42 "),
            ("offset", "-9000000000"),
            ("flag", "TRUE"),
            ("committed", "false"),
        ]))
        .unwrap();
        assert_eq!(header.count, 42);
        assert_eq!(header.offset, Some(-9_000_000_000));
        assert_eq!(header.flag, Some(true));
        assert!(!header.committed);
    }

    #[test]
    fn invalid_values_name_the_field_and_the_expectation() {
        let error =
            Sample::from_ext_fields(&fields(&[("name", "n"), ("count", "many")])).unwrap_err();
        assert_eq!(
            error,
            ReadHeaderError::InvalidField {
                field: "count",
                value: "many".into(),
                expected: "a 32-bit integer"
            }
        );
        // Booleans never fail: Java reads anything but "true" as false.
        let lenient =
            Sample::from_ext_fields(&fields(&[("name", "n"), ("count", "1"), ("flag", "yes")]))
                .unwrap();
        assert_eq!(lenient.flag, Some(false));
        let error = Sample::from_ext_fields(&fields(&[("name", "n"), ("count", "3000000000")]))
            .unwrap_err();
        assert!(matches!(
            error,
            ReadHeaderError::InvalidField { field: "count", .. }
        ));
    }

    #[test]
    fn empty_optional_numbers_are_absent_but_empty_required_numbers_are_invalid() {
        let header =
            Sample::from_ext_fields(&fields(&[("name", ""), ("count", "1"), ("offset", "")]))
                .unwrap();
        assert_eq!(header.offset, None);
        assert_eq!(header.name, "");
        assert!(Sample::from_ext_fields(&fields(&[("name", "n"), ("count", "")])).is_err());
    }

    #[test]
    fn primitives_with_an_initial_value_default_when_absent_and_are_always_written() {
        let header = Sample::from_ext_fields(&fields(&[("name", "n"), ("count", "1")])).unwrap();
        assert!(header.committed);
        assert!(Sample::default().committed);
        let written = Sample::default().to_ext_fields();
        assert_eq!(&written["committed"], "true");
        assert!(!written.contains_key("offset"));
    }

    #[test]
    fn unknown_keys_are_ignored() {
        let header = Sample::from_ext_fields(&fields(&[
            ("name", "n"),
            ("count", "1"),
            ("bname", "broker-a"),
            ("AccessKey", ""),
        ]))
        .unwrap();
        assert_eq!(header.name, "n");
    }

    #[test]
    fn sample_round_trips_and_requires_its_required_fields() {
        let header = Sample {
            name: "n".into(),
            count: 7,
            offset: Some(5),
            flag: Some(false),
            committed: false,
        };
        testing::assert_round_trip_and_required(&header, &["name", "count"]);
    }
}
