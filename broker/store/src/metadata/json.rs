//! JSON as fastjson writes and reads it.
//!
//! fastjson writes the keys of integer-keyed maps without quotes (`{"offsetTable":{0:12,1:7}}`),
//! which is not JSON. Reading: [`quote_bare_keys`] quotes such keys before `serde_json` sees the
//! text (serde reads `"0"` into an integer map key). Writing: [`to_fastjson_string`] leaves the
//! keys of integer-keyed maps bare, exactly where Java's `Map<Integer, _>` would, and quotes every
//! string key; fastjson reads either form, so Apache can load what we write.

use std::io::{self, Write};

use serde::Serialize;
use serde_json::ser::{CharEscape, Formatter, PrettyFormatter};

/// Quotes bare integer object keys (`{0:12}` becomes `{"0":12}`) before `serde_json` reads the
/// text; the same pre-pass the wire bodies use.
pub use rmq_protocol::body::fastjson::quote_integer_keys as quote_bare_keys;

/// Serialises `value` the way Apache's `RemotingSerializable.toJson(obj, true)` lays it out:
/// tab-indented, `"key":value`, integer map keys bare.
pub fn to_fastjson_string<T: Serialize + ?Sized>(value: &T) -> serde_json::Result<String> {
    let mut out = Vec::new();
    let mut ser = serde_json::Serializer::with_formatter(&mut out, FastjsonFormatter::new());
    value.serialize(&mut ser)?;
    // The formatter writes only what serde_json hands it, which is UTF-8.
    String::from_utf8(out).map_err(|e| serde_json::Error::io(io::Error::other(e)))
}

/// Where the formatter is inside an object key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Key {
    /// Not writing a key.
    Outside,
    /// A key has begun; its opening quote is held back until we know what it holds.
    Pending,
    /// The key is a string; its opening quote was written.
    Quoted,
    /// The key is an integer, written without quotes.
    Bare,
}

/// A pretty formatter that holds back a key's opening quote until it sees whether serde_json
/// writes a string (quote it) or an integer (an integer-keyed map: leave it bare, as fastjson
/// does).
struct FastjsonFormatter {
    pretty: PrettyFormatter<'static>,
    key: Key,
}

impl FastjsonFormatter {
    fn new() -> Self {
        FastjsonFormatter {
            pretty: PrettyFormatter::with_indent(b"\t"),
            key: Key::Outside,
        }
    }

    /// Before anything but an integer is written inside a pending key, open its quote.
    fn open_key<W: ?Sized + Write>(&mut self, writer: &mut W) -> io::Result<()> {
        if self.key == Key::Pending {
            self.key = Key::Quoted;
            writer.write_all(b"\"")?;
        }
        Ok(())
    }

    fn integer<W: ?Sized + Write>(&mut self, writer: &mut W, digits: &str) -> io::Result<()> {
        if self.key == Key::Pending {
            self.key = Key::Bare;
        }
        writer.write_all(digits.as_bytes())
    }
}

macro_rules! integer_methods {
    ($($name:ident: $ty:ty),* $(,)?) => {
        $(
            fn $name<W: ?Sized + Write>(&mut self, writer: &mut W, value: $ty) -> io::Result<()> {
                self.integer(writer, &value.to_string())
            }
        )*
    };
}

impl Formatter for FastjsonFormatter {
    integer_methods!(
        write_i8: i8, write_i16: i16, write_i32: i32, write_i64: i64, write_i128: i128,
        write_u8: u8, write_u16: u16, write_u32: u32, write_u64: u64, write_u128: u128,
    );

    fn begin_string<W: ?Sized + Write>(&mut self, writer: &mut W) -> io::Result<()> {
        match self.key {
            Key::Pending => Ok(()),
            _ => writer.write_all(b"\""),
        }
    }

    fn end_string<W: ?Sized + Write>(&mut self, writer: &mut W) -> io::Result<()> {
        match self.key {
            Key::Bare => Ok(()),
            // An empty string key: nothing opened it yet.
            Key::Pending => {
                self.key = Key::Quoted;
                writer.write_all(b"\"\"")
            }
            Key::Outside | Key::Quoted => writer.write_all(b"\""),
        }
    }

    fn write_string_fragment<W: ?Sized + Write>(
        &mut self,
        writer: &mut W,
        fragment: &str,
    ) -> io::Result<()> {
        self.open_key(writer)?;
        writer.write_all(fragment.as_bytes())
    }

    fn write_char_escape<W: ?Sized + Write>(
        &mut self,
        writer: &mut W,
        char_escape: CharEscape,
    ) -> io::Result<()> {
        self.open_key(writer)?;
        self.pretty.write_char_escape(writer, char_escape)
    }

    fn write_bool<W: ?Sized + Write>(&mut self, writer: &mut W, value: bool) -> io::Result<()> {
        self.open_key(writer)?;
        self.pretty.write_bool(writer, value)
    }

    fn write_f32<W: ?Sized + Write>(&mut self, writer: &mut W, value: f32) -> io::Result<()> {
        self.open_key(writer)?;
        self.pretty.write_f32(writer, value)
    }

    fn write_f64<W: ?Sized + Write>(&mut self, writer: &mut W, value: f64) -> io::Result<()> {
        self.open_key(writer)?;
        self.pretty.write_f64(writer, value)
    }

    fn write_number_str<W: ?Sized + Write>(
        &mut self,
        writer: &mut W,
        value: &str,
    ) -> io::Result<()> {
        self.open_key(writer)?;
        self.pretty.write_number_str(writer, value)
    }

    fn begin_array<W: ?Sized + Write>(&mut self, writer: &mut W) -> io::Result<()> {
        self.pretty.begin_array(writer)
    }

    fn end_array<W: ?Sized + Write>(&mut self, writer: &mut W) -> io::Result<()> {
        self.pretty.end_array(writer)
    }

    fn begin_array_value<W: ?Sized + Write>(
        &mut self,
        writer: &mut W,
        first: bool,
    ) -> io::Result<()> {
        self.pretty.begin_array_value(writer, first)
    }

    fn end_array_value<W: ?Sized + Write>(&mut self, writer: &mut W) -> io::Result<()> {
        self.pretty.end_array_value(writer)
    }

    fn begin_object<W: ?Sized + Write>(&mut self, writer: &mut W) -> io::Result<()> {
        self.pretty.begin_object(writer)
    }

    fn end_object<W: ?Sized + Write>(&mut self, writer: &mut W) -> io::Result<()> {
        self.pretty.end_object(writer)
    }

    fn begin_object_key<W: ?Sized + Write>(
        &mut self,
        writer: &mut W,
        first: bool,
    ) -> io::Result<()> {
        self.key = Key::Pending;
        self.pretty.begin_object_key(writer, first)
    }

    fn end_object_key<W: ?Sized + Write>(&mut self, writer: &mut W) -> io::Result<()> {
        self.key = Key::Outside;
        self.pretty.end_object_key(writer)
    }

    fn begin_object_value<W: ?Sized + Write>(&mut self, writer: &mut W) -> io::Result<()> {
        // fastjson writes no space after the colon.
        writer.write_all(b":")
    }

    fn end_object_value<W: ?Sized + Write>(&mut self, writer: &mut W) -> io::Result<()> {
        self.pretty.end_object_value(writer)
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    fn quoted(s: &str) -> String {
        String::from_utf8(quote_bare_keys(s.as_bytes())).unwrap()
    }

    #[test]
    fn bare_integer_keys_are_quoted() {
        assert_eq!(quoted("{0:12,1:7}"), r#"{"0":12,"1":7}"#);
        assert_eq!(
            quoted("{\n\t\"t@g\":{0:0,\n\t\t-1 : 5\n\t\t}\n}"),
            "{\n\t\"t@g\":{\"0\":0,\n\t\t\"-1\" : 5\n\t\t}\n}"
        );
    }

    #[test]
    fn digits_inside_strings_values_and_arrays_are_left_alone() {
        let text = r#"{"a{0:1}":"{2:3,4:5}","b":[1,2,{6:7}],"c":-8,"d":{"e":9}}"#;
        assert_eq!(
            quoted(text),
            r#"{"a{0:1}":"{2:3,4:5}","b":[1,2,{"6":7}],"c":-8,"d":{"e":9}}"#
        );
    }

    #[test]
    fn escaped_quotes_do_not_end_a_string() {
        let text = r#"{"k\"{1:2}\\":"v\\\",{3:4}\""}"#;
        assert_eq!(quoted(text), text);
        let text = r#"{"x\\":{5:6}}"#;
        assert_eq!(
            quoted(text),
            r#"{"x\\":{"5":6}}"#,
            "an escaped backslash ends before the quote"
        );
    }

    #[test]
    fn valid_json_is_unchanged_and_utf8_passes_through() {
        let text = r#"{"offsetTable":{"主题@组":{"0":1}}, "n": [0, -1, 2.5e3]}"#;
        assert_eq!(quoted(text), text);
    }

    #[test]
    fn integer_map_keys_are_written_bare_and_string_keys_quoted() {
        let mut inner = BTreeMap::new();
        inner.insert(0i32, 12i64);
        inner.insert(-1, 7);
        let mut outer = BTreeMap::new();
        outer.insert("T@g \"q\"".to_owned(), inner);
        outer.insert(String::new(), BTreeMap::new());
        let text = to_fastjson_string(&outer).unwrap();
        assert_eq!(
            text,
            "{\n\t\"\":{},\n\t\"T@g \\\"q\\\"\":{\n\t\t-1:7,\n\t\t0:12\n\t}\n}"
        );
        let back: BTreeMap<String, BTreeMap<i32, i64>> =
            serde_json::from_slice(&quote_bare_keys(text.as_bytes())).unwrap();
        assert_eq!(back, outer);
    }

    #[test]
    fn string_values_that_look_like_numbers_stay_quoted() {
        let value = serde_json::json!({"123": "456", "n": 7});
        assert_eq!(
            to_fastjson_string(&value).unwrap(),
            "{\n\t\"123\":\"456\",\n\t\"n\":7\n}"
        );
    }
}
