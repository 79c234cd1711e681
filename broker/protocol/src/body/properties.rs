//! Java `Properties` text: `broker.conf`, `namesrv.properties`, and the bodies of
//! UPDATE_BROKER_CONFIG / GET_BROKER_CONFIG / UPDATE_NAMESRV_CONFIG (`MixAll.properties2String`).
//!
//! Reading follows `java.util.Properties.load`: `#` and `!` comment lines, `=`, `:` or white space
//! between key and value, leading white space trimmed, a trailing backslash continues the line,
//! and `\t \n \r \f \uXXXX` escapes; trailing white space of a value is dropped. Writing is `key=value\n` per entry, as Apache writes it, escaping what reading would change (a value's
//! trailing blanks as `\u0020`).

/// The entries of a properties text, in order; a repeated key appears twice (the last wins when
/// collected into a map, as in Java).
pub fn parse(text: &str) -> Vec<(String, String)> {
    let mut entries = Vec::new();
    let mut logical = String::new();
    let mut continuing = false;
    for raw in text.lines() {
        let line = raw.trim_start_matches([' ', '\t', '\u{c}']);
        if !continuing && (line.is_empty() || line.starts_with('#') || line.starts_with('!')) {
            continue;
        }
        let (content, continues) = split_continuation(line);
        logical.push_str(content);
        continuing = continues;
        if !continuing {
            entries.push(split_entry(&logical));
            logical.clear();
        }
    }
    if continuing {
        entries.push(split_entry(&logical));
    }
    entries
}

/// Writes entries as `key=value` lines (no escaping beyond what round-trips through [`parse`]).
pub fn write<'a>(entries: impl IntoIterator<Item = (&'a str, &'a str)>) -> String {
    let mut text = String::new();
    for (key, value) in entries {
        escape_into(&mut text, key, true);
        text.push('=');
        escape_into(&mut text, value, false);
        text.push('\n');
    }
    text
}

/// Strips one odd trailing backslash: an even run is escaped backslashes.
fn split_continuation(line: &str) -> (&str, bool) {
    let trailing = line.bytes().rev().take_while(|&b| b == b'\\').count();
    if trailing % 2 == 1 {
        (&line[..line.len() - 1], true)
    } else {
        (line, false)
    }
}

fn split_entry(line: &str) -> (String, String) {
    let mut key = String::new();
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => push_escaped(&mut key, &mut chars),
            '=' | ':' => break,
            ' ' | '\t' | '\u{c}' => {
                while chars
                    .peek()
                    .is_some_and(|c| matches!(c, ' ' | '\t' | '\u{c}'))
                {
                    chars.next();
                }
                if chars.peek().is_some_and(|c| matches!(c, '=' | ':')) {
                    chars.next();
                }
                break;
            }
            c => key.push(c),
        }
    }
    while chars
        .peek()
        .is_some_and(|c| matches!(c, ' ' | '\t' | '\u{c}'))
    {
        chars.next();
    }
    // Unlike Java, trailing white space is dropped: in a config file it is an accident, and
    // `brokerPermission = 4 ` must still read as 4.
    let raw: String = chars.collect();
    let mut chars = raw
        .trim_end_matches([' ', '\t', '\u{c}'])
        .chars()
        .peekable();
    let mut value = String::new();
    while let Some(c) = chars.next() {
        if c == '\\' {
            push_escaped(&mut value, &mut chars);
        } else {
            value.push(c);
        }
    }
    (key, value)
}

fn push_escaped(out: &mut String, chars: &mut std::iter::Peekable<std::str::Chars<'_>>) {
    match chars.next() {
        Some('t') => out.push('\t'),
        Some('n') => out.push('\n'),
        Some('r') => out.push('\r'),
        Some('f') => out.push('\u{c}'),
        Some('u') => {
            let hex: String = chars.by_ref().take(4).collect();
            match u32::from_str_radix(&hex, 16).ok().and_then(char::from_u32) {
                Some(c) => out.push(c),
                None => {
                    out.push_str("\\u");
                    out.push_str(&hex);
                }
            }
        }
        Some(other) => out.push(other),
        None => {}
    }
}

fn escape_into(out: &mut String, text: &str, is_key: bool) {
    // [`parse`] drops a value's trailing blanks; written as `\u0020` they are kept.
    let trailing_from = text.trim_end_matches(' ').chars().count();
    for (i, c) in text.chars().enumerate() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{c}' => out.push_str("\\f"),
            '=' | ':' | ' ' if is_key => {
                out.push('\\');
                out.push(c);
            }
            ' ' if i >= trailing_from => out.push_str("\\u0020"),
            ' ' if i == 0 => out.push_str("\\ "),
            '#' | '!' if is_key && i == 0 => {
                out.push('\\');
                out.push(c);
            }
            c => out.push(c),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_feeds_and_a_values_trailing_blanks_survive_write_then_parse() {
        // Fuzz findings: "\f" as a key, "a " and "\fa" as values came back changed.
        for (key, value) in [
            ("\u{c}", "x"),
            ("k", "a "),
            ("k", "\u{c}a"),
            ("k", " a  "),
            ("k", " "),
        ] {
            let text = write([(key, value)]);
            assert_eq!(parse(&text), owned(&[(key, value)]), "{text:?}");
        }
    }

    fn pairs(text: &str) -> Vec<(String, String)> {
        parse(text)
    }

    fn owned(entries: &[(&str, &str)]) -> Vec<(String, String)> {
        entries
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn broker_conf_lines_parse_with_every_separator_and_comments_skipped() {
        let text = "# comment\n! also\nbrokerClusterName = DefaultCluster\nbrokerName:broker-a\nbrokerId 0\n\n  deleteWhen=04\nempty=\n";
        assert_eq!(
            pairs(text),
            owned(&[
                ("brokerClusterName", "DefaultCluster"),
                ("brokerName", "broker-a"),
                ("brokerId", "0"),
                ("deleteWhen", "04"),
                ("empty", ""),
            ])
        );
    }

    #[test]
    fn trailing_backslash_continues_and_escapes_are_decoded() {
        let text = "namesrvAddr=a:9876;\\\n    b:9876\npath=C:\\\\data\\tx\nname=\\u0041b\n";
        assert_eq!(
            pairs(text),
            owned(&[
                ("namesrvAddr", "a:9876;b:9876"),
                ("path", "C:\\data\tx"),
                ("name", "Ab"),
            ])
        );
    }

    #[test]
    fn value_keeps_inner_separators_and_trailing_text() {
        assert_eq!(
            pairs("brokerIP1=rmq-0.rmq.ns.svc:10911\n"),
            owned(&[("brokerIP1", "rmq-0.rmq.ns.svc:10911")])
        );
    }

    #[test]
    fn written_text_parses_back_to_the_same_entries() {
        let entries = [
            ("brokerPermission", "6"),
            ("a key", "v=1:2"),
            ("#x", " lead"),
            ("multi", "l1\nl2\\"),
        ];
        let text = write(entries.iter().copied());
        assert!(text.starts_with("brokerPermission=6\n"));
        assert_eq!(parse(&text), owned(&entries));
    }

    #[test]
    fn windows_line_endings_are_not_part_of_values() {
        assert_eq!(
            pairs("listenPort=10911\r\nbrokerId=0\r\n"),
            owned(&[("listenPort", "10911"), ("brokerId", "0")])
        );
    }
}
