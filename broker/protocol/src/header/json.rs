//! The JSON header (serType 0), written the way fastjson writes it and read leniently.
//!
//! Writing: keys sorted alphabetically, `remark` and empty `extFields` omitted, `language` by
//! name, `serializeTypeCurrentRPC` always `"JSON"` (Java emits it through a getter).
//!
//! Both directions run through [`json_fast`] first (serde's generic machinery was a quarter of the
//! broker's CPU per request); the serde reader below decides every shape the fast one leaves.
//!
//! Reading accepts what real clients send: unknown keys, missing `serializeTypeCurrentRPC`,
//! `remark` and `extFields`, an empty remark, trailing whitespace or NUL bytes after the object
//! (the C++ client ends its header with `\n`), numbers and booleans where ext field strings
//! belong, and language names or numbers we do not know.

use std::collections::BTreeMap;
use std::fmt;

#[cfg(test)]
use bytes::BufMut;
use bytes::BytesMut;
use serde::Deserialize;
#[cfg(test)]
use serde::Serialize;
use serde::de::{self, Deserializer, Visitor};

use super::{DecodeHeaderError, EncodeHeaderError, json_fast};
use crate::language::LanguageCode;
use crate::remoting_command::{ExtFields, RemotingCommand, SerializeType};

/// Appends the JSON header of `command` to `dst`.
pub fn encode(command: &RemotingCommand, dst: &mut BytesMut) -> Result<(), EncodeHeaderError> {
    json_fast::write(command, dst);
    Ok(())
}

/// What `serde_json` writes for the header: the reference the fast writer is tested against.
#[cfg(test)]
fn encode_with_serde(command: &RemotingCommand, dst: &mut BytesMut) {
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
    serde_json::to_writer(dst.writer(), &header).expect("a header always serializes");
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
    if let Some(command) = json_fast::read(text) {
        return Ok(command);
    }
    decode_with_serde(text)
}

/// The lenient reader for every shape: decides what the fast reader leaves, and words errors.
fn decode_with_serde(text: &[u8]) -> Result<RemotingCommand, DecodeHeaderError> {
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
#[cfg(test)]
#[derive(Serialize)]
struct WireHeaderOut<'a> {
    code: i32,
    #[serde(rename = "extFields", skip_serializing_if = "ExtFields::is_empty")]
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
    use proptest::prelude::*;

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
            &decode(text.as_bytes()).unwrap().ext_fields["i"],
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
        assert_eq!(&command.ext_fields["topic"], "X1");
        assert_eq!(&command.ext_fields["AccessKey"], "");
        assert_eq!(&command.ext_fields["OnsChannel"], "ALIYUN");
        assert_eq!(&command.ext_fields["Signature"], "abc=");
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
        assert_eq!(&fields["queueId"], "3");
        assert_eq!(&fields["queueOffset"], "-5");
        assert_eq!(&fields["unitMode"], "true");
        assert_eq!(&fields["ratio"], "1.5");
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

    #[test]
    fn a_java_send_header_takes_the_fast_path() {
        let header = br#"{"code":310,"extFields":{"a":"PG","b":"TopicTest","c":"TBW102","d":"4","e":"3","f":"0","g":"1763712000000","h":"0","i":"KEYS\u0001k1\u0002WAIT\u0001true\u0002","j":"0","k":"false","m":"false"},"flag":0,"language":"JAVA","opaque":42,"serializeTypeCurrentRPC":"JSON","version":435}"#;
        let fast = json_fast::read(header).expect("the fast reader takes a Java send");
        assert_eq!(fast, decode_with_serde(header).unwrap());
        assert_eq!(&fast.ext_fields["i"], "KEYS\u{1}k1\u{2}WAIT\u{1}true\u{2}");
        assert_eq!(fast.ext_fields.len(), 12);
    }

    /// JSON values of every kind the reader may meet, as text.
    fn any_value(depth: u32) -> BoxedStrategy<String> {
        let leaf = prop_oneof![
            2 => Just("null".to_owned()),
            2 => Just("true".to_owned()),
            2 => Just("false".to_owned()),
            1 => any::<i64>().prop_map(|n| n.to_string()),
            4 => any::<i32>().prop_map(|n| n.to_string()),
            1 => any::<u64>().prop_map(|n| n.to_string()),
            1 => prop_oneof![
                Just("-0"),
                Just("01"),
                Just("1.5"),
                Just("2e3"),
                Just("-"),
                Just("4294967295"),
                Just("4294967296"),
                Just("99999999999999999999"),
                Just("\"\\ud83d\\ude00\""),
                Just("\"\\ud83d\""),
                Just("\"\\u00e9\\/\\b\""),
                Just("\"a\\x\""),
                Just("tru"),
            ]
            .prop_map(str::to_owned),
            4 => any::<String>().prop_map(|s| serde_json::to_string(&s).unwrap()),
            4 => "[ -~\\\\\"]{0,6}".prop_map(|s| format!("\"{s}\"")),
        ];
        if depth == 0 {
            return leaf.boxed();
        }
        prop_oneof![
            30 => leaf,
            1 => proptest::collection::vec(any_value(depth - 1), 0..3)
                .prop_map(|items| format!("[{}]", items.join(","))),
            1 => proptest::collection::vec(("[a-z]{1,3}", any_value(depth - 1)), 0..3)
                .prop_map(|members| {
                    let members: Vec<String> =
                        members.into_iter().map(|(k, v)| format!("\"{k}\":{v}")).collect();
                    format!("{{{}}}", members.join(","))
                }),
        ]
        .boxed()
    }

    /// Header-like objects: known and unknown keys (sometimes twice), any values, any spacing.
    fn any_header_text() -> impl Strategy<Value = String> {
        let key = prop_oneof![
            Just("code"),
            Just("language"),
            Just("version"),
            Just("opaque"),
            Just("flag"),
            Just("remark"),
            Just("extFields"),
            Just("serializeTypeCurrentRPC"),
            Just("co\\u0064e"),
            Just("other"),
        ];
        let ext = proptest::collection::vec(("[a-d]{1,2}", any_value(1)), 0..5).prop_map(|m| {
            let members: Vec<String> = m.into_iter().map(|(k, v)| format!("\"{k}\":{v}")).collect();
            format!("{{{}}}", members.join(","))
        });
        let value = prop_oneof![3 => any_value(1), 2 => ext];
        let space =
            prop_oneof![6 => Just(""), 2 => Just(" "), 2 => Just("\n\t"), 1 => Just("\u{c}")];
        (
            any::<i32>(),
            proptest::collection::vec((key, space.clone(), value), 0..4),
            space,
            any::<bool>(),
        )
            .prop_map(|(code, members, space, code_first)| {
                let mut parts: Vec<String> = members
                    .into_iter()
                    .map(|(k, s, v)| format!("{s}\"{k}\"{s}:{s}{v}"))
                    .collect();
                if code_first {
                    parts.insert(0, format!("\"code\":{code}"));
                }
                format!("{space}{{{}}}{space}", parts.join(","))
            })
    }

    /// Runs the fast reader on `text`; when it accepts, serde must decode the same command.
    fn check_against_serde(text: &[u8]) -> Result<bool, TestCaseError> {
        let end = text
            .iter()
            .rposition(|byte| !byte.is_ascii_whitespace() && *byte != 0)
            .map_or(0, |last| last + 1);
        let Some(fast) = json_fast::read(&text[..end]) else {
            return Ok(false);
        };
        let slow = decode_with_serde(&text[..end]);
        prop_assert!(
            slow.is_ok(),
            "serde refused what the fast reader took: {:?}",
            slow
        );
        prop_assert_eq!(fast, slow.unwrap());
        Ok(true)
    }

    #[test]
    fn the_fast_reader_agrees_with_serde_on_whatever_it_accepts() {
        let mut runner = proptest::test_runner::TestRunner::new(ProptestConfig::with_cases(2000));
        let accepted = std::cell::Cell::new(0u32);
        runner
            .run(&any_header_text(), |text| {
                if check_against_serde(text.as_bytes())? {
                    accepted.set(accepted.get() + 1);
                }
                Ok(())
            })
            .unwrap();
        // The generator must exercise the fast path, not only the fallback.
        assert!(
            accepted.get() >= 150,
            "fast path took only {} of 2000",
            accepted.get()
        );
    }

    proptest! {
        #[test]
        fn the_fast_writer_writes_what_serde_writes(
            code in any::<i32>(),
            opaque in any::<i32>(),
            flag in any::<i32>(),
            version in any::<i32>(),
            remark in proptest::option::of(any::<String>()),
            ext_fields in proptest::collection::btree_map(any::<String>(), any::<String>(), 0..6),
        ) {
            let mut command = RemotingCommand::request(code);
            command.opaque = opaque;
            command.flag = flag;
            command.version = version;
            command.remark = remark;
            command.ext_fields = ext_fields.into_iter().collect();
            let mut fast = BytesMut::new();
            encode(&command, &mut fast).unwrap();
            let mut reference = BytesMut::new();
            encode_with_serde(&command, &mut reference);
            prop_assert_eq!(&fast[..], &reference[..]);
            prop_assert_eq!(json_fast::read(&fast), Some(command));
        }

        #[test]
        fn the_fast_reader_agrees_with_serde_on_damaged_headers(
            at in any::<prop::sample::Index>(),
            byte in any::<u8>(),
            cut in any::<bool>(),
        ) {
            let mut bytes = br#"{"code":310,"extFields":{"a":"PG","b":"T\u0001\\x","c":"7"},"flag":0,"language":"JAVA","opaque":42,"remark":null,"version":435}"#.to_vec();
            let at = at.index(bytes.len());
            if cut { bytes.truncate(at) } else { bytes[at] = byte }
            check_against_serde(&bytes)?;
        }
    }
}
