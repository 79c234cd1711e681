//! fastjson's dialect of JSON: integer map keys without quotes.
//!
//! Apache's name server writes `HashMap<Long, String>` keys bare (`{"brokerAddrs":{0:"a"}}`)
//! for clients older than 4.9.4, and the old Go and C++ clients parse that form specially.
//! [`unquote_integer_keys`] turns standard JSON into that form for the maps a rule picks;
//! [`quote_integer_keys`] turns it back into standard JSON before serde reads it.
//! Both scan bytes once and leave string contents alone.

/// Quotes bare integer object keys outside strings: `{0:"a"}` becomes `{"0":"a"}`.
/// Anything else, valid or not, is copied unchanged for serde to judge.
pub fn quote_integer_keys(input: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(input.len() + 16);
    // true = object, false = array
    let mut stack: Vec<bool> = Vec::new();
    let mut expect_key = false;
    let mut i = 0;
    while i < input.len() {
        let byte = input[i];
        match byte {
            b'"' => {
                let end = string_end(input, i);
                out.extend_from_slice(&input[i..end]);
                i = end;
                expect_key = false;
                continue;
            }
            b'{' => {
                stack.push(true);
                expect_key = true;
            }
            b'[' => {
                stack.push(false);
                expect_key = false;
            }
            b'}' | b']' => {
                stack.pop();
                expect_key = false;
            }
            b',' => expect_key = stack.last() == Some(&true),
            b':' => expect_key = false,
            b'-' | b'0'..=b'9' if expect_key => {
                let end = input[i..]
                    .iter()
                    .position(|b| !matches!(b, b'-' | b'+' | b'.' | b'e' | b'E' | b'0'..=b'9'))
                    .map_or(input.len(), |len| i + len);
                out.push(b'"');
                out.extend_from_slice(&input[i..end]);
                out.push(b'"');
                i = end;
                expect_key = false;
                continue;
            }
            _ => {}
        }
        out.push(byte);
        i += 1;
    }
    out
}

/// Removes the quotes around integer keys of the objects that `is_integer_keyed` picks.
///
/// `json` must be standard JSON (as serde_json writes it). The rule sees the path of member names
/// leading to an object (array levels add nothing): the `brokerAddrs` map of a route body is at
/// `["brokerDatas", "brokerAddrs"]`. Keys that are not integers stay quoted.
pub fn unquote_integer_keys(json: &[u8], is_integer_keyed: impl Fn(&[&str]) -> bool) -> Vec<u8> {
    struct Frame {
        object: bool,
        /// Member name this container is the value of.
        name: Option<String>,
        unquote: bool,
    }
    let mut out = Vec::with_capacity(json.len());
    let mut stack: Vec<Frame> = Vec::new();
    let mut expect_key = false;
    let mut last_key: Option<String> = None;
    let mut i = 0;
    while i < json.len() {
        let byte = json[i];
        match byte {
            b'"' => {
                let end = string_end(json, i);
                let token = &json[i..end];
                let in_key = expect_key && stack.last().is_some_and(|frame| frame.object);
                if in_key {
                    let content = &token[1..token.len().saturating_sub(1).max(1)];
                    last_key = std::str::from_utf8(content).ok().map(str::to_owned);
                    if stack.last().is_some_and(|frame| frame.unquote) && is_integer(content) {
                        out.extend_from_slice(content);
                    } else {
                        out.extend_from_slice(token);
                    }
                } else {
                    out.extend_from_slice(token);
                }
                i = end;
                expect_key = false;
                continue;
            }
            b'{' | b'[' => {
                let object = byte == b'{';
                let name = if stack.last().is_some_and(|frame| frame.object) {
                    last_key.take()
                } else {
                    None
                };
                let unquote = object && {
                    let mut path: Vec<&str> = stack
                        .iter()
                        .filter_map(|frame| frame.name.as_deref())
                        .collect();
                    if let Some(name) = name.as_deref() {
                        path.push(name);
                    }
                    is_integer_keyed(&path)
                };
                stack.push(Frame {
                    object,
                    name,
                    unquote,
                });
                expect_key = object;
            }
            b'}' | b']' => {
                stack.pop();
                expect_key = false;
            }
            b',' => expect_key = stack.last().is_some_and(|frame| frame.object),
            b':' => expect_key = false,
            _ => {}
        }
        out.push(byte);
        i += 1;
    }
    out
}

/// Turns maps keyed by objects (fastjson writes `Map<MessageQueue, V>` as
/// `{{"brokerName":..}:{..}}`) into arrays of `[key, value]` pairs that serde can read:
/// `[[{"brokerName":..},{..}]]`. An object is recognized by an object in its first key position;
/// empty objects and everything else are copied unchanged.
pub fn object_keys_to_pairs(input: &[u8]) -> Vec<u8> {
    /// Container kinds: plain object, array, object rewritten to pairs.
    #[derive(Clone, Copy, PartialEq)]
    enum Kind {
        Object,
        Array,
        Pairs,
    }
    let mut out = Vec::with_capacity(input.len() + 16);
    let mut stack: Vec<Kind> = Vec::new();
    let mut i = 0;
    while i < input.len() {
        let byte = input[i];
        match byte {
            b'"' => {
                let end = string_end(input, i);
                out.extend_from_slice(&input[i..end]);
                i = end;
                continue;
            }
            b'{' => {
                let next = input[i + 1..].iter().find(|b| !b.is_ascii_whitespace());
                if next == Some(&b'{') {
                    stack.push(Kind::Pairs);
                    out.extend_from_slice(b"[[");
                    i += 1;
                    continue;
                }
                stack.push(Kind::Object);
            }
            b'[' => stack.push(Kind::Array),
            b'}' if stack.last() == Some(&Kind::Pairs) => {
                stack.pop();
                out.extend_from_slice(b"]]");
                i += 1;
                continue;
            }
            b'}' | b']' => {
                stack.pop();
            }
            b':' if stack.last() == Some(&Kind::Pairs) => {
                out.push(b',');
                i += 1;
                continue;
            }
            b',' if stack.last() == Some(&Kind::Pairs) => {
                out.extend_from_slice(b"],[");
                i += 1;
                continue;
            }
            _ => {}
        }
        out.push(byte);
        i += 1;
    }
    out
}

/// Writes `entries` as a fastjson map with object keys: `{KEY:VALUE,...}`, keys as JSON objects.
pub fn write_object_keyed<K: serde::Serialize, V: serde::Serialize>(
    out: &mut Vec<u8>,
    entries: &[(K, V)],
) -> Result<(), serde_json::Error> {
    out.push(b'{');
    for (index, (key, value)) in entries.iter().enumerate() {
        if index > 0 {
            out.push(b',');
        }
        serde_json::to_writer(&mut *out, key)?;
        out.push(b':');
        serde_json::to_writer(&mut *out, value)?;
    }
    out.push(b'}');
    Ok(())
}

/// Deserializes a map with object keys after [`object_keys_to_pairs`]: an array of pairs, or an
/// empty object.
pub fn deserialize_pairs<'de, D, K, V>(deserializer: D) -> Result<Vec<(K, V)>, D::Error>
where
    D: serde::Deserializer<'de>,
    K: serde::Deserialize<'de>,
    V: serde::Deserialize<'de>,
{
    use serde::Deserialize;
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Raw<K, V> {
        Pairs(Vec<(K, V)>),
        Object(std::collections::BTreeMap<String, serde::de::IgnoredAny>),
    }
    match Raw::deserialize(deserializer)? {
        Raw::Pairs(pairs) => Ok(pairs),
        Raw::Object(object) if object.is_empty() => Ok(Vec::new()),
        Raw::Object(_) => Err(serde::de::Error::custom(
            "a map keyed by objects was expected",
        )),
    }
}

/// Index just past the string starting at `start` (a `"`), or the input's end if unterminated.
fn string_end(input: &[u8], start: usize) -> usize {
    let mut i = start + 1;
    while i < input.len() {
        match input[i] {
            b'\\' => i += 2,
            b'"' => return i + 1,
            _ => i += 1,
        }
    }
    input.len()
}

fn is_integer(text: &[u8]) -> bool {
    let digits = text.strip_prefix(b"-").unwrap_or(text);
    !digits.is_empty() && digits.iter().all(u8::is_ascii_digit)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn quoted(input: &str) -> String {
        String::from_utf8(quote_integer_keys(input.as_bytes())).unwrap()
    }

    #[test]
    fn bare_integer_keys_get_quotes() {
        assert_eq!(quoted(r#"{0:"a",1:"b"}"#), r#"{"0":"a","1":"b"}"#);
        assert_eq!(
            quoted(r#"{ -1 : "a" , 22 :"b"}"#),
            r#"{ "-1" : "a" , "22" :"b"}"#
        );
        assert_eq!(quoted(r#"{"x":{0:{1:2}}}"#), r#"{"x":{"0":{"1":2}}}"#);
    }

    #[test]
    fn numbers_in_value_and_array_position_are_left_alone() {
        let input = r#"{"a":1,"b":[1,2,{3:4}],"c":-5}"#;
        assert_eq!(quoted(input), r#"{"a":1,"b":[1,2,{"3":4}],"c":-5}"#);
    }

    #[test]
    fn strings_that_look_like_keys_are_left_alone() {
        let input = r#"{"a":"{0:\"x\",1:2}","b\"{3:":4}"#;
        assert_eq!(quoted(input), input);
    }

    #[test]
    fn standard_json_is_unchanged() {
        let input = r#"{"brokerAddrs":{"0":"127.0.0.1:10911"},"n":[{"k":"v"}]}"#;
        assert_eq!(quoted(input), input);
    }

    #[test]
    fn unquote_touches_only_the_picked_maps() {
        let json = br#"{"brokerDatas":[{"brokerAddrs":{"0":"a","1":"b"},"brokerName":"1"}],"other":{"0":"x"}}"#;
        let out = unquote_integer_keys(json, |path| path.last() == Some(&"brokerAddrs"));
        assert_eq!(
            String::from_utf8(out).unwrap(),
            r#"{"brokerDatas":[{"brokerAddrs":{0:"a",1:"b"},"brokerName":"1"}],"other":{"0":"x"}}"#
        );
    }

    #[test]
    fn unquote_sees_the_path_of_member_names() {
        let json = br#"{"offsetTable":{"T@g":{"0":5,"1":6}}}"#;
        let out = unquote_integer_keys(json, |path| path.len() == 2 && path[0] == "offsetTable");
        assert_eq!(
            String::from_utf8(out).unwrap(),
            r#"{"offsetTable":{"T@g":{0:5,1:6}}}"#
        );
    }

    #[test]
    fn object_keyed_maps_become_pairs_and_other_json_is_unchanged() {
        let input = br#"{"offsetTable":{{"brokerName":"b","queueId":0,"topic":"T"}:{"maxOffset":5},{"brokerName":"b","queueId":1,"topic":"T"}:{"maxOffset":6}},"x":{},"y":{"k":"{:,}"}}"#;
        let out = String::from_utf8(object_keys_to_pairs(input)).unwrap();
        assert_eq!(
            out,
            r#"{"offsetTable":[[{"brokerName":"b","queueId":0,"topic":"T"},{"maxOffset":5}],[{"brokerName":"b","queueId":1,"topic":"T"},{"maxOffset":6}]],"x":{},"y":{"k":"{:,}"}}"#
        );
        let standard = br#"{"a":[1,{"b":2}],"c":"d"}"#;
        assert_eq!(object_keys_to_pairs(standard), standard);
    }

    #[test]
    fn unquote_keeps_non_integer_keys_quoted_and_round_trips() {
        let json = br#"{"m":{"0":"a","x":"b","-3":"c","1.5":"d"}}"#;
        let out = unquote_integer_keys(json, |path| path == ["m"]);
        assert_eq!(
            String::from_utf8(out.clone()).unwrap(),
            r#"{"m":{0:"a","x":"b",-3:"c","1.5":"d"}}"#
        );
        assert_eq!(quote_integer_keys(&out), json);
    }
}
