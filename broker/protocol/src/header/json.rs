//! The JSON header (serType 0), written the way fastjson writes it and read leniently.
//!
//! Writing: keys sorted alphabetically, `remark` and empty `extFields` omitted, `language` by
//! name, `serializeTypeCurrentRPC` always `"JSON"` (Java emits it through a getter).
//!
//! Reading accepts what real clients send: unknown keys, missing `serializeTypeCurrentRPC`,
//! `remark` and `extFields`, an empty remark, trailing whitespace or NUL bytes after the object
//! (the C++ client ends its header with `\n`), numbers and booleans where ext field strings
//! belong, and language names or numbers we do not know.

use std::collections::BTreeMap;
use std::fmt;

use bytes::{BufMut, BytesMut};
use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize};

use super::{DecodeHeaderError, EncodeHeaderError};
use crate::language::LanguageCode;
use crate::remoting_command::{ExtFields, RemotingCommand, SerializeType};

/// Appends the JSON header of `command` to `dst`.
pub fn encode(command: &RemotingCommand, dst: &mut BytesMut) -> Result<(), EncodeHeaderError> {
    let header = WireHeaderOut {
        code: command.code,
        ext_fields: &command.ext_fields,
        flag: command.flag,
        language: command.language.name(),
        opaque: command.opaque,
        remark: command.remark.as_deref(),
        serialize_type_current_rpc: SerializeType::Json.name(),
        version: command.version,
    };
    serde_json::to_writer(dst.writer(), &header)
        .map_err(|source| EncodeHeaderError::Json { source })
}

/// Reads a JSON header into a command with an empty body.
pub fn decode(header: &[u8]) -> Result<RemotingCommand, DecodeHeaderError> {
    let end = header
        .iter()
        .rposition(|byte| !byte.is_ascii_whitespace() && *byte != 0)
        .map_or(0, |last| last + 1);
    let text = &header[..end];
    // serde would also read a struct from an array (`[105]`); a header is an object.
    if text.iter().find(|byte| !byte.is_ascii_whitespace()) != Some(&b'{') {
        let source = <serde_json::Error as de::Error>::custom("a JSON header must be an object");
        return Err(DecodeHeaderError::Json { source });
    }
    let wire: WireHeaderIn =
        serde_json::from_slice(text).map_err(|source| DecodeHeaderError::Json { source })?;
    let ext_fields = wire
        .ext_fields
        .unwrap_or_default()
        .into_iter()
        .filter_map(|(key, value)| value.0.map(|value| (key, value)))
        .collect::<ExtFields>();
    Ok(RemotingCommand {
        code: wire.code,
        language: wire.language.0,
        version: wire.version,
        opaque: wire.opaque,
        flag: wire.flag,
        remark: wire.remark,
        ext_fields,
        body: bytes::Bytes::new(),
        serialize_type: SerializeType::Json,
    })
}

/// Field order is the output order: alphabetical, as fastjson sorts bean properties.
#[derive(Serialize)]
struct WireHeaderOut<'a> {
    code: i32,
    #[serde(rename = "extFields", skip_serializing_if = "BTreeMap::is_empty")]
    ext_fields: &'a ExtFields,
    flag: i32,
    language: &'static str,
    opaque: i32,
    #[serde(skip_serializing_if = "Option::is_none")]
    remark: Option<&'a str>,
    #[serde(rename = "serializeTypeCurrentRPC")]
    serialize_type_current_rpc: &'static str,
    version: i32,
}

#[derive(Deserialize)]
struct WireHeaderIn {
    code: i32,
    #[serde(default)]
    language: LenientLanguage,
    #[serde(default)]
    version: i32,
    #[serde(default, deserialize_with = "wrapping_i32")]
    opaque: i32,
    #[serde(default)]
    flag: i32,
    #[serde(default)]
    remark: Option<String>,
    #[serde(default, rename = "extFields")]
    ext_fields: Option<BTreeMap<String, LenientValue>>,
}

/// An `opaque` written as an unsigned 32-bit counter by some clients: keep its low 32 bits, as the
/// peer will compare the echoed value the same way.
fn wrapping_i32<'de, D: Deserializer<'de>>(deserializer: D) -> Result<i32, D::Error> {
    let value = i64::deserialize(deserializer)?;
    if value < i64::from(i32::MIN) || value > i64::from(u32::MAX) {
        return Err(de::Error::custom(format!(
            "opaque {value} is out of the 32-bit range"
        )));
    }
    Ok(value as i32)
}

/// A language given by name or by number; unknown ones are `OTHER`, null is Java's default.
#[derive(Default)]
struct LenientLanguage(LanguageCode);

impl<'de> Deserialize<'de> for LenientLanguage {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct LanguageVisitor;
        impl Visitor<'_> for LanguageVisitor {
            type Value = LenientLanguage;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a language name or number")
            }
            fn visit_str<E: de::Error>(self, name: &str) -> Result<LenientLanguage, E> {
                Ok(LenientLanguage(LanguageCode::from_name(name)))
            }
            fn visit_u64<E: de::Error>(self, code: u64) -> Result<LenientLanguage, E> {
                let language =
                    u8::try_from(code).map_or(LanguageCode::Other, LanguageCode::from_code);
                Ok(LenientLanguage(language))
            }
            fn visit_i64<E: de::Error>(self, code: i64) -> Result<LenientLanguage, E> {
                let language =
                    u8::try_from(code).map_or(LanguageCode::Other, LanguageCode::from_code);
                Ok(LenientLanguage(language))
            }
            fn visit_unit<E: de::Error>(self) -> Result<LenientLanguage, E> {
                Ok(LenientLanguage::default())
            }
        }
        deserializer.deserialize_any(LanguageVisitor)
    }
}

/// An ext field value: a string, or a scalar some client forgot to quote (kept as its text).
/// `null` means absent.
struct LenientValue(Option<String>);

impl<'de> Deserialize<'de> for LenientValue {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ValueVisitor;
        impl Visitor<'_> for ValueVisitor {
            type Value = LenientValue;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string, number, boolean or null")
            }
            fn visit_str<E: de::Error>(self, value: &str) -> Result<LenientValue, E> {
                Ok(LenientValue(Some(value.to_owned())))
            }
            fn visit_string<E: de::Error>(self, value: String) -> Result<LenientValue, E> {
                Ok(LenientValue(Some(value)))
            }
            fn visit_i64<E: de::Error>(self, value: i64) -> Result<LenientValue, E> {
                Ok(LenientValue(Some(value.to_string())))
            }
            fn visit_u64<E: de::Error>(self, value: u64) -> Result<LenientValue, E> {
                Ok(LenientValue(Some(value.to_string())))
            }
            fn visit_f64<E: de::Error>(self, value: f64) -> Result<LenientValue, E> {
                Ok(LenientValue(Some(value.to_string())))
            }
            fn visit_bool<E: de::Error>(self, value: bool) -> Result<LenientValue, E> {
                Ok(LenientValue(Some(value.to_string())))
            }
            fn visit_unit<E: de::Error>(self) -> Result<LenientValue, E> {
                Ok(LenientValue(None))
            }
        }
        deserializer.deserialize_any(ValueVisitor)
    }
}

#[cfg(test)]
mod tests {
    use bytes::Bytes;

    use super::*;

    fn encoded(command: &RemotingCommand) -> String {
        let mut dst = BytesMut::new();
        encode(command, &mut dst).unwrap();
        String::from_utf8(dst.to_vec()).unwrap()
    }

    #[test]
    fn encode_writes_fastjson_key_order_and_omits_null_remark() {
        let mut command = RemotingCommand::request(105).with_ext_field("topic", "T");
        command.opaque = 7;
        command.version = 479;
        assert_eq!(
            encoded(&command),
            r#"{"code":105,"extFields":{"topic":"T"},"flag":0,"language":"JAVA","opaque":7,"serializeTypeCurrentRPC":"JSON","version":479}"#
        );
    }

    #[test]
    fn encode_omits_empty_ext_fields_and_keeps_a_remark() {
        let request = RemotingCommand::request(105);
        let response =
            RemotingCommand::response_to(&request, 17).with_remark("No topic route info");
        assert_eq!(
            encoded(&response),
            r#"{"code":17,"flag":1,"language":"JAVA","opaque":0,"remark":"No topic route info","serializeTypeCurrentRPC":"JSON","version":401}"#
        );
    }

    #[test]
    fn encode_escapes_quotes_and_control_characters() {
        let command = RemotingCommand::request(10).with_ext_field("i", "a\u{1}b\u{2}\"q\"");
        let text = encoded(&command);
        assert!(text.contains(r#""i":"a\u0001b\u0002\"q\"""#), "{text}");
        assert_eq!(
            decode(text.as_bytes()).unwrap().ext_fields["i"],
            "a\u{1}b\u{2}\"q\""
        );
    }

    #[test]
    fn the_cpp_client_route_query_decodes() {
        let header = br#"{"code":105,"extFields":{"AccessKey":"","OnsChannel":"ALIYUN","Signature":"abc=","topic":"X1"},"flag":0,"language":"CPP","opaque":0,"remark":"","version":63}
"#;
        let command = decode(header).unwrap();
        assert_eq!(command.code, 105);
        assert_eq!(command.language, LanguageCode::Cpp);
        assert_eq!(command.version, 63);
        assert_eq!(command.remark.as_deref(), Some(""));
        assert_eq!(command.ext_fields["topic"], "X1");
        assert_eq!(command.ext_fields["AccessKey"], "");
        assert_eq!(command.ext_fields["OnsChannel"], "ALIYUN");
        assert_eq!(command.ext_fields["Signature"], "abc=");
        assert_eq!(command.serialize_type, SerializeType::Json);
    }

    #[test]
    fn decode_accepts_a_minimal_header_with_only_a_code() {
        let command = decode(br#"{"code":34}"#).unwrap();
        assert_eq!(command.code, 34);
        assert_eq!(command.language, LanguageCode::Java);
        assert_eq!((command.version, command.opaque, command.flag), (0, 0, 0));
        assert_eq!(command.remark, None);
        assert!(command.ext_fields.is_empty());
        assert_eq!(command.body, Bytes::new());
    }

    #[test]
    fn decode_ignores_unknown_keys_and_null_members() {
        let header = br#"{"code":11,"future":{"x":[1,2]},"remark":null,"extFields":null,"language":null,"serializeTypeCurrentRPC":"JSON"}"#;
        let command = decode(header).unwrap();
        assert_eq!(command.code, 11);
        assert_eq!(command.remark, None);
        assert!(command.ext_fields.is_empty());
    }

    #[test]
    fn decode_stringifies_unquoted_ext_field_scalars_and_drops_nulls() {
        let header = br#"{"code":11,"extFields":{"queueId":3,"queueOffset":-5,"unitMode":true,"ratio":1.5,"gone":null}}"#;
        let fields = decode(header).unwrap().ext_fields;
        assert_eq!(fields["queueId"], "3");
        assert_eq!(fields["queueOffset"], "-5");
        assert_eq!(fields["unitMode"], "true");
        assert_eq!(fields["ratio"], "1.5");
        assert!(!fields.contains_key("gone"));
    }

    #[test]
    fn decode_takes_languages_by_number_and_maps_unknown_ones_to_other() {
        assert_eq!(
            decode(br#"{"code":1,"language":9}"#).unwrap().language,
            LanguageCode::Go
        );
        assert_eq!(
            decode(br#"{"code":1,"language":"KOTLIN"}"#)
                .unwrap()
                .language,
            LanguageCode::Other
        );
        assert_eq!(
            decode(br#"{"code":1,"language":300}"#).unwrap().language,
            LanguageCode::Other
        );
    }

    #[test]
    fn opaque_written_as_unsigned_keeps_its_low_32_bits() {
        assert_eq!(
            decode(br#"{"code":1,"opaque":4294967295}"#).unwrap().opaque,
            -1
        );
        assert_eq!(decode(br#"{"code":1,"opaque":-7}"#).unwrap().opaque, -7);
        assert!(matches!(
            decode(br#"{"code":1,"opaque":4294967296}"#),
            Err(DecodeHeaderError::Json { .. })
        ));
    }

    #[test]
    fn decode_tolerates_trailing_whitespace_and_nul_bytes() {
        assert_eq!(decode(b"{\"code\":1}\r\n\t \0\0").unwrap().code, 1);
    }

    #[test]
    fn decode_rejects_invalid_json_and_missing_code() {
        assert!(matches!(
            decode(b"{\"code\":"),
            Err(DecodeHeaderError::Json { .. })
        ));
        assert!(matches!(
            decode(b"{\"opaque\":1}"),
            Err(DecodeHeaderError::Json { .. })
        ));
        assert!(matches!(decode(b""), Err(DecodeHeaderError::Json { .. })));
        assert!(matches!(
            decode(b"[1]"),
            Err(DecodeHeaderError::Json { .. })
        ));
        assert!(matches!(
            decode(br#"{"code":1,"extFields":{"a":[1]}}"#),
            Err(DecodeHeaderError::Json { .. })
        ));
    }

    #[test]
    fn round_trip_keeps_every_field() {
        let mut command = RemotingCommand::request(310)
            .with_ext_field("a", "producer")
            .with_ext_field("b", "TopicTest")
            .with_remark("héllo");
        command.opaque = -2;
        command.flag = 3;
        command.language = LanguageCode::NodeJs;
        let text = encoded(&command);
        assert_eq!(decode(text.as_bytes()).unwrap(), command);
    }
}
