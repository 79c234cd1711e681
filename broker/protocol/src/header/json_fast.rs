//! The JSON header's hot path: a writer and a reader for the shapes clients really send, without
//! serde's generic machinery (which cost a quarter of the broker's CPU per request).
//!
//! [`write`] produces exactly what `serde_json` would for the header (same key order, same string
//! escapes). [`read`] handles the common shape: an object of known keys with string, integer,
//! boolean or null values, unknown keys with scalar values, and strings with any escape. Anything
//! else (floats, nested unknown values, out-of-range numbers, duplicate top-level keys, malformed
//! text) makes it answer `None`, and the caller falls back to the lenient serde reader, which
//! either decodes it the same way or produces the error. Property tests hold the two readers to
//! the same answer on every input the fast one accepts.

use bytes::BytesMut;

use crate::language::LanguageCode;
use crate::remoting_command::{ExtFields, RemotingCommand, SerializeType};

/// Appends the JSON header of `command`: the bytes `serde_json` writes for it.
pub(super) fn write(command: &RemotingCommand, dst: &mut BytesMut) {
    // Room for the usual case up front, so the many small writes below never grow the buffer:
    // the fixed keys take ~110 bytes, each field its text plus 6 bytes of quotes and separators
    // (escapes may still grow it).
    let fields: usize = command
        .ext_fields
        .iter()
        .map(|(key, value)| key.len() + value.len() + 6)
        .sum();
    dst.reserve(
        160 + fields
            + command
                .remark
                .as_ref()
                .map_or(0, |remark| remark.len() + 12),
    );
    dst.extend_from_slice(b"{\"code\":");
    put_int(dst, i64::from(command.code));
    if !command.ext_fields.is_empty() {
        dst.extend_from_slice(b",\"extFields\":{");
        for (i, (key, value)) in command.ext_fields.iter().enumerate() {
            if i > 0 {
                dst.extend_from_slice(b",");
            }
            put_str(dst, key);
            dst.extend_from_slice(b":");
            put_str(dst, value);
        }
        dst.extend_from_slice(b"}");
    }
    dst.extend_from_slice(b",\"flag\":");
    put_int(dst, i64::from(command.flag));
    dst.extend_from_slice(b",\"language\":");
    put_str(dst, command.language.name());
    dst.extend_from_slice(b",\"opaque\":");
    put_int(dst, i64::from(command.opaque));
    if let Some(remark) = &command.remark {
        dst.extend_from_slice(b",\"remark\":");
        put_str(dst, remark);
    }
    dst.extend_from_slice(b",\"serializeTypeCurrentRPC\":");
    put_str(dst, SerializeType::Json.name());
    dst.extend_from_slice(b",\"version\":");
    put_int(dst, i64::from(command.version));
    dst.extend_from_slice(b"}");
}

fn put_int(dst: &mut BytesMut, value: i64) {
    dst.extend_from_slice(crate::decimal::decimal(value, &mut [0; 20]).as_bytes());
}

/// A JSON string with serde_json's escapes: `"`, `\` and control characters; the rest verbatim.
fn put_str(dst: &mut BytesMut, text: &str) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    dst.extend_from_slice(b"\"");
    let mut bytes = text.as_bytes();
    loop {
        // Runs without special bytes go in whole (a send's property separators are control
        // characters, so the properties value has a few runs).
        let run = plain_run(bytes);
        dst.extend_from_slice(&bytes[..run]);
        let Some((&byte, rest)) = bytes[run..].split_first() else {
            break;
        };
        let escape: &[u8] = match byte {
            b'"' => b"\\\"",
            b'\\' => b"\\\\",
            b'\n' => b"\\n",
            b'\r' => b"\\r",
            b'\t' => b"\\t",
            0x08 => b"\\b",
            0x0c => b"\\f",
            _ => &[
                b'\\',
                b'u',
                b'0',
                b'0',
                HEX[usize::from(byte >> 4)],
                HEX[usize::from(byte & 0xf)],
            ],
        };
        dst.extend_from_slice(escape);
        bytes = rest;
    }
    dst.extend_from_slice(b"\"");
}

/// Reads a header of the common shape; `None` when the serde reader must decide.
///
/// `text` is the header with trailing whitespace and NUL bytes already cut.
pub(super) fn read(text: &[u8]) -> Option<RemotingCommand> {
    // Checked once for the whole header: every string then lies between ASCII quotes, so its
    // slice of the text is UTF-8 too, and taking it costs no second check.
    let text = std::str::from_utf8(text).ok()?;
    let mut scan = Scanner {
        text,
        bytes: text.as_bytes(),
        at: 0,
    };
    scan.skip_ws();
    scan.expect(b'{')?;
    let mut command = RemotingCommand {
        code: 0,
        language: LanguageCode::default(),
        version: 0,
        opaque: 0,
        flag: 0,
        remark: None,
        ext_fields: ExtFields::new(),
        body: bytes::Bytes::new(),
        serialize_type: SerializeType::Json,
    };
    let mut seen = 0u8;
    scan.skip_ws();
    if scan.peek()? == b'}' {
        // No `code`: an error the serde reader words.
        return None;
    }
    loop {
        let key = scan.member_name()?;
        // Byte patterns compare in line; `str` patterns call `memcmp` per arm.
        let bit = match key.as_bytes() {
            b"code" => {
                command.code = i32::try_from(scan.integer()?).ok()?;
                1
            }
            b"language" => {
                command.language = match scan.peek()? {
                    b'"' => LanguageCode::from_name(&scan.string()?),
                    b'n' => {
                        scan.literal(b"null")?;
                        LanguageCode::default()
                    }
                    _ => u8::try_from(scan.integer()?)
                        .map_or(LanguageCode::Other, LanguageCode::from_code),
                };
                2
            }
            b"version" => {
                command.version = i32::try_from(scan.integer()?).ok()?;
                4
            }
            b"opaque" => {
                let opaque = scan.integer()?;
                if opaque < i64::from(i32::MIN) || opaque > i64::from(u32::MAX) {
                    return None;
                }
                // Some clients count opaque as unsigned: keep the low 32 bits.
                command.opaque = opaque as i32;
                8
            }
            b"flag" => {
                command.flag = i32::try_from(scan.integer()?).ok()?;
                16
            }
            b"remark" => {
                command.remark = match scan.peek()? {
                    b'n' => {
                        scan.literal(b"null")?;
                        None
                    }
                    _ => Some(scan.string()?.into_owned()),
                };
                32
            }
            b"extFields" => {
                if scan.peek()? == b'n' {
                    scan.literal(b"null")?;
                    command.ext_fields.clear();
                } else {
                    command.ext_fields = scan.ext_fields()?;
                }
                64
            }
            _ => {
                scan.scalar()?;
                0
            }
        };
        if seen & bit != 0 {
            // serde refuses a duplicate field.
            return None;
        }
        seen |= bit;
        scan.skip_ws();
        match scan.next()? {
            b',' => continue,
            b'}' => break,
            _ => return None,
        }
    }
    scan.skip_ws();
    if seen & 1 == 0 || scan.at != text.len() {
        return None;
    }
    Some(command)
}

struct Scanner<'a> {
    text: &'a str,
    /// `text` as bytes, for scanning.
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Scanner<'a> {
    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.at).copied()
    }

    fn next(&mut self) -> Option<u8> {
        let byte = self.peek()?;
        self.at += 1;
        Some(byte)
    }

    fn expect(&mut self, byte: u8) -> Option<()> {
        (self.next()? == byte).then_some(())
    }

    fn skip_ws(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.peek() {
            self.at += 1;
        }
    }

    fn literal(&mut self, word: &[u8]) -> Option<()> {
        let end = self.at + word.len();
        (self.bytes.get(self.at..end)? == word).then(|| self.at = end)
    }

    /// An integer without fraction or exponent that fits an i64 comfortably (≤ 18 digits).
    fn integer(&mut self) -> Option<i64> {
        let negative = self.peek()? == b'-';
        if negative {
            self.at += 1;
        }
        let start = self.at;
        while let Some(b'0'..=b'9') = self.peek() {
            self.at += 1;
        }
        let digits = &self.bytes[start..self.at];
        // JSON forbids leading zeros; longer numbers and non-integers go to serde.
        if digits.is_empty()
            || digits.len() > 18
            || (digits[0] == b'0' && digits.len() > 1)
            || (negative && digits == b"0")
        {
            return None;
        }
        if let Some(b'.' | b'e' | b'E') = self.peek() {
            return None;
        }
        let value = digits
            .iter()
            .fold(0i64, |value, digit| value * 10 + i64::from(digit - b'0'));
        Some(if negative { -value } else { value })
    }

    /// A string; borrowed when it has no escapes.
    fn string(&mut self) -> Option<std::borrow::Cow<'a, str>> {
        self.expect(b'"')?;
        let start = self.at;
        self.at += plain_run(&self.bytes[start..]);
        match self.next()? {
            // The quote is ASCII, so `start..at - 1` ends on a character boundary.
            b'"' => self.text.get(start..self.at - 1).map(Into::into),
            b'\\' => self.escaped_rest(start).map(Into::into),
            _ => None,
        }
    }

    /// The rest of a string whose first escape's backslash was just read: decoded into an
    /// owned string, the runs between escapes copied whole.
    fn escaped_rest(&mut self, start: usize) -> Option<String> {
        let mut out = String::with_capacity(self.at - start + 16);
        out.push_str(self.text.get(start..self.at - 1)?);
        loop {
            out.push(self.escaped()?);
            let run = self.at;
            self.at += plain_run(&self.bytes[run..]);
            out.push_str(self.text.get(run..self.at)?);
            match self.next()? {
                b'"' => return Some(out),
                b'\\' => {}
                _ => return None,
            }
        }
    }

    /// The character of an escape, the backslash already read.
    fn escaped(&mut self) -> Option<char> {
        Some(match self.next()? {
            b'"' => '"',
            b'\\' => '\\',
            b'/' => '/',
            b'b' => '\u{8}',
            b'f' => '\u{c}',
            b'n' => '\n',
            b'r' => '\r',
            b't' => '\t',
            b'u' => self.unicode_escape()?,
            _ => return None,
        })
    }

    /// An object member's name and the `:` after it, with the whitespace around them.
    #[inline]
    fn member_name(&mut self) -> Option<std::borrow::Cow<'a, str>> {
        self.skip_ws();
        let name = self.string()?;
        self.skip_ws();
        self.expect(b':')?;
        self.skip_ws();
        Some(name)
    }

    /// The code point of `\uXXXX` (the `\u` already read), joining a surrogate pair.
    fn unicode_escape(&mut self) -> Option<char> {
        let high = self.hex4()?;
        match high {
            0xd800..=0xdbff => {
                self.literal(b"\\u")?;
                let low = self.hex4()?;
                if !(0xdc00..=0xdfff).contains(&low) {
                    return None;
                }
                char::from_u32(0x10000 + ((high - 0xd800) << 10) + (low - 0xdc00))
            }
            0xdc00..=0xdfff => None,
            _ => char::from_u32(high),
        }
    }

    fn hex4(&mut self) -> Option<u32> {
        let digits = self.bytes.get(self.at..self.at + 4)?;
        self.at += 4;
        digits.iter().try_fold(0u32, |value, digit| {
            Some(value * 16 + char::from(*digit).to_digit(16)?)
        })
    }

    /// Skips a string, integer, boolean or null.
    fn scalar(&mut self) -> Option<()> {
        match self.peek()? {
            b'"' => self.string().map(drop),
            b't' => self.literal(b"true"),
            b'f' => self.literal(b"false"),
            b'n' => self.literal(b"null"),
            _ => self.integer().map(drop),
        }
    }

    /// The `extFields` object: strings, and integers and booleans kept as their text; a null
    /// member is absent. A later duplicate key wins, as in the serde reader.
    fn ext_fields(&mut self) -> Option<ExtFields> {
        self.expect(b'{')?;
        // The object's text bounds the fields' text: two allocations for the whole map.
        let mut fields = ExtFields::with_capacity(16, self.bytes.len() - self.at);
        self.skip_ws();
        if self.peek()? == b'}' {
            self.at += 1;
            return Some(fields);
        }
        loop {
            let key = self.member_name()?;
            let value: Option<std::borrow::Cow<'_, str>> = match self.peek()? {
                b'"' => Some(self.string()?),
                b't' => self.literal(b"true").map(|()| "true".into()),
                b'f' => self.literal(b"false").map(|()| "false".into()),
                b'n' => {
                    self.literal(b"null")?;
                    None
                }
                _ => Some(self.integer()?.to_string().into()),
            };
            // As the serde reader: a later duplicate wins, a null removes. fastjson writes names
            // sorted, so almost every field is appended without a search.
            match value {
                Some(value) => {
                    if !fields.push_sorted(&key, &value) {
                        fields.insert(&*key, &*value);
                    }
                }
                None => {
                    fields.remove(&key);
                }
            }
            self.skip_ws();
            match self.next()? {
                b',' => continue,
                b'}' => return Some(fields),
                _ => return None,
            }
        }
    }
}

/// How many leading bytes of `text` a string takes verbatim: up to the first `"`, `\\` or
/// control character (or the end). Eight bytes at a time.
fn plain_run(text: &[u8]) -> usize {
    const ONES: u64 = u64::from_ne_bytes([0x01; 8]);
    const HIGHS: u64 = u64::from_ne_bytes([0x80; 8]);
    /// High bit set in some byte of the result iff a byte of `word` is below `n` (n ≤ 0x80).
    fn any_below(word: u64, n: u8) -> u64 {
        word.wrapping_sub(ONES * u64::from(n)) & !word & HIGHS
    }
    let mut at = 0;
    while let Some(chunk) = text.get(at..at + 8) {
        let word = u64::from_ne_bytes(chunk.try_into().expect("eight bytes"));
        let special = any_below(word ^ (ONES * u64::from(b'"')), 1)
            | any_below(word ^ (ONES * u64::from(b'\\')), 1)
            | any_below(word, 0x20);
        if special != 0 {
            break;
        }
        at += 8;
    }
    at + text[at..]
        .iter()
        .position(|&byte| byte == b'"' || byte == b'\\' || byte < 0x20)
        .unwrap_or(text.len() - at)
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::plain_run;

    proptest! {
        #[test]
        fn plain_run_stops_at_the_first_quote_backslash_or_control_byte(
            text in proptest::collection::vec(any::<u8>(), 0..40),
        ) {
            let expected = text
                .iter()
                .position(|&byte| byte == b'"' || byte == b'\\' || byte < 0x20)
                .unwrap_or(text.len());
            prop_assert_eq!(plain_run(&text), expected);
        }

        #[test]
        fn plain_run_finds_a_stop_byte_at_any_position_of_a_long_run(
            len in 0usize..40,
            stop in prop_oneof![Just(b'"'), Just(b'\\'), 0u8..0x20],
        ) {
            let mut text = vec![b'a'; len];
            text.push(stop);
            text.extend_from_slice(b"tail\"");
            prop_assert_eq!(plain_run(&text), len);
        }
    }
}
