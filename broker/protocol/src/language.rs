//! Sender language ([`LanguageCode`]) and the `version` ordinals that travel in every header.

use std::fmt;

/// The `language` field of a remoting header: which client library sent the command.
///
/// In a JSON header it travels by name (`"JAVA"`), in a ROCKETMQ header as one byte. Names and
/// bytes we do not know map to [`LanguageCode::Other`]: a new client library must never make us
/// drop its connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
#[repr(u8)]
pub enum LanguageCode {
    #[default]
    Java = 0,
    Cpp = 1,
    Dotnet = 2,
    Python = 3,
    Delphi = 4,
    Erlang = 5,
    Ruby = 6,
    Other = 7,
    Http = 8,
    Go = 9,
    Php = 10,
    Oms = 11,
    Rust = 12,
    NodeJs = 13,
}

impl LanguageCode {
    /// Every language, in discriminant order.
    pub const ALL: [LanguageCode; 14] = [
        LanguageCode::Java,
        LanguageCode::Cpp,
        LanguageCode::Dotnet,
        LanguageCode::Python,
        LanguageCode::Delphi,
        LanguageCode::Erlang,
        LanguageCode::Ruby,
        LanguageCode::Other,
        LanguageCode::Http,
        LanguageCode::Go,
        LanguageCode::Php,
        LanguageCode::Oms,
        LanguageCode::Rust,
        LanguageCode::NodeJs,
    ];

    /// The wire byte of a ROCKETMQ header.
    pub fn code(self) -> u8 {
        self as u8
    }

    /// The language of a wire byte; unknown bytes are [`LanguageCode::Other`].
    pub fn from_code(code: u8) -> LanguageCode {
        LanguageCode::ALL
            .get(usize::from(code))
            .copied()
            .unwrap_or(LanguageCode::Other)
    }

    /// The name a JSON header carries (Java's enum constant name).
    pub fn name(self) -> &'static str {
        match self {
            LanguageCode::Java => "JAVA",
            LanguageCode::Cpp => "CPP",
            LanguageCode::Dotnet => "DOTNET",
            LanguageCode::Python => "PYTHON",
            LanguageCode::Delphi => "DELPHI",
            LanguageCode::Erlang => "ERLANG",
            LanguageCode::Ruby => "RUBY",
            LanguageCode::Other => "OTHER",
            LanguageCode::Http => "HTTP",
            LanguageCode::Go => "GO",
            LanguageCode::Php => "PHP",
            LanguageCode::Oms => "OMS",
            LanguageCode::Rust => "RUST",
            LanguageCode::NodeJs => "NODE_JS",
        }
    }

    /// The language of a JSON name; unknown names are [`LanguageCode::Other`].
    pub fn from_name(name: &str) -> LanguageCode {
        LanguageCode::ALL
            .into_iter()
            .find(|language| language.name() == name)
            .unwrap_or(LanguageCode::Other)
    }
}

/// In a JSON body (a connection list's `language`) a language travels by its Java name.
impl serde::Serialize for LanguageCode {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.name())
    }
}

impl<'de> serde::Deserialize<'de> for LanguageCode {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let name = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        Ok(LanguageCode::from_name(&name))
    }
}

impl fmt::Display for LanguageCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Ordinals of Java's `MQVersion.Version` that change behaviour on one side or the other.
///
/// The `version` header field carries the sender's ordinal, not a semantic version.
pub mod version {
    /// First version whose consumers take RESET_CONSUMER_CLIENT_OFFSET and
    /// GET_CONSUMER_STATUS_FROM_CLIENT from the broker.
    pub const V3_0_7_SNAPSHOT: i32 = 28;
    /// First version whose consumers answer GET_CONSUMER_RUNNING_INFO and
    /// CONSUME_MESSAGE_DIRECTLY passed on by the broker.
    pub const V3_1_8_SNAPSHOT: i32 = 62;
    /// First version whose brokers send a REGISTER_BROKER body.
    pub const V3_0_11: i32 = 37;
    /// From this version the broker honours `maxReconsumeTimes` of a send header.
    pub const V3_4_9: i32 = 121;
    pub const V4_0_0: i32 = 213;
    /// From this version Apache name servers answer routes with standard (quoted-key) JSON.
    pub const V4_9_4: i32 = 401;
    pub const V4_9_8: i32 = 409;
    pub const V5_0_0: i32 = 413;
    pub const V5_3_3: i32 = 479;

    /// The version we put in commands we originate.
    ///
    /// V4_9_4 so that Apache name servers answer our tools with standard JSON, while staying a
    /// 4.x ordinal (no 5.x-only behaviour is triggered on Apache brokers).
    pub const CURRENT: i32 = V4_9_4;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_language_round_trips_through_its_byte_and_its_name() {
        for (index, language) in LanguageCode::ALL.into_iter().enumerate() {
            assert_eq!(usize::from(language.code()), index);
            assert_eq!(LanguageCode::from_code(language.code()), language);
            assert_eq!(LanguageCode::from_name(language.name()), language);
        }
    }

    #[test]
    fn discriminants_match_the_java_enum() {
        assert_eq!(LanguageCode::Cpp.code(), 1);
        assert_eq!(LanguageCode::Go.code(), 9);
        assert_eq!(LanguageCode::Rust.code(), 12);
        assert_eq!(LanguageCode::NodeJs.code(), 13);
        assert_eq!(LanguageCode::NodeJs.name(), "NODE_JS");
    }

    #[test]
    fn unknown_names_and_bytes_map_to_other() {
        assert_eq!(LanguageCode::from_name("COBOL"), LanguageCode::Other);
        assert_eq!(LanguageCode::from_name("java"), LanguageCode::Other);
        assert_eq!(LanguageCode::from_code(14), LanguageCode::Other);
        assert_eq!(LanguageCode::from_code(255), LanguageCode::Other);
    }
}
