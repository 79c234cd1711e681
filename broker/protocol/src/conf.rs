//! Java-properties configuration (`broker.conf`, `namesrv.properties`) read through one table of
//! keys per settings struct.
//!
//! A [`Key`] names a setting (Apache's spelling, plus the old spellings Apache still reads) and
//! says how its text becomes the field and how the field is written back. Reading a file
//! ([`read`]), applying one key ([`apply`]), listing unknown keys and answering
//! `GET_BROKER_CONFIG` ([`show`]) all go through the same table, so a key cannot be parsed one
//! way and reported another. Values are trimmed; a value that does not parse, or is outside the
//! key's bounds, is a [`ValueError`] naming the key, the value and what was expected.
//!
//! Tables are built with [`conf_key!`](crate::conf_key):
//!
//! ```
//! use std::time::Duration;
//! use rmq_protocol::conf::{self, Key};
//! use rmq_protocol::conf_key;
//!
//! #[derive(Default)]
//! struct Settings { port: u16, timeout: Duration, verbose: bool }
//!
//! const KEYS: &[Key<Settings>] = &[
//!     conf_key!("listenPort": port = number(0, 65535)),
//!     conf_key!("timeoutMillis" | "timeoutMills": timeout = millis(1)),
//!     conf_key!("verbose": verbose = value),
//! ];
//!
//! let mut settings = Settings::default();
//! let unknown = conf::read(KEYS, &mut settings, "listenPort=9876\ntimeoutMills=50\nother=1\n").unwrap();
//! assert_eq!((settings.port, settings.timeout), (9876, Duration::from_millis(50)));
//! assert_eq!(unknown, ["other"]);
//! assert_eq!(conf::show(KEYS, &settings)[0], ("listenPort", "9876".to_owned()));
//! ```

use std::net::IpAddr;
use std::path::PathBuf;

/// A key's value does not parse or is outside its bounds.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{key}={value:?} is not valid: expected {expected}")]
pub struct ValueError {
    pub key: String,
    pub value: String,
    pub expected: &'static str,
}

/// One setting of a struct `C`.
pub struct Key<C: 'static> {
    /// Apache's spelling.
    pub name: &'static str,
    /// Older spellings Apache still reads.
    pub aliases: &'static [&'static str],
    /// Stores the (trimmed) text, or says what was expected.
    pub set: fn(&mut C, &str) -> Result<(), &'static str>,
    /// The current value as a properties file writes it.
    pub get: fn(&C) -> String,
}

impl<C> Key<C> {
    /// Whether `key` is this setting's name or one of its old spellings.
    pub fn is(&self, key: &str) -> bool {
        self.name == key || self.aliases.contains(&key)
    }
}

impl<C> std::fmt::Debug for Key<C> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Key")
            .field("name", &self.name)
            .field("aliases", &self.aliases)
            .finish_non_exhaustive()
    }
}

/// Applies one entry: `Ok(true)` when `keys` has it, `Ok(false)` when it is not one of them.
pub fn apply<C>(
    keys: &[Key<C>],
    config: &mut C,
    key: &str,
    value: &str,
) -> Result<bool, ValueError> {
    let Some(entry) = keys.iter().find(|k| k.is(key)) else {
        return Ok(false);
    };
    let value = value.trim();
    (entry.set)(config, value).map_err(|expected| ValueError {
        key: key.to_owned(),
        value: value.to_owned(),
        expected,
    })?;
    Ok(true)
}

/// Applies every entry of properties `text` in order; returns the keys `keys` does not have.
pub fn read<C>(keys: &[Key<C>], config: &mut C, text: &str) -> Result<Vec<String>, ValueError> {
    let mut unknown = Vec::new();
    for (key, value) in crate::body::properties::parse(text) {
        if !apply(keys, config, &key, &value)? {
            unknown.push(key);
        }
    }
    Ok(unknown)
}

/// Every setting's name and current value, in table order.
pub fn show<C>(keys: &[Key<C>], config: &C) -> Vec<(&'static str, String)> {
    keys.iter().map(|k| (k.name, (k.get)(config))).collect()
}

/// A value type a key can hold without bounds: how it reads and writes.
pub trait Value: Sized {
    /// What a valid value looks like, for the error.
    const EXPECTED: &'static str;
    fn parse_value(text: &str) -> Option<Self>;
    fn write_value(&self) -> String;
}

impl Value for bool {
    const EXPECTED: &'static str = "true or false";
    /// Exactly `true` or `false`: Java's `Boolean.parseBoolean` would read any other text as
    /// false, hiding a typo.
    fn parse_value(text: &str) -> Option<bool> {
        match text {
            "true" => Some(true),
            "false" => Some(false),
            _ => None,
        }
    }
    fn write_value(&self) -> String {
        self.to_string()
    }
}

impl Value for String {
    const EXPECTED: &'static str = "a non-empty value";
    fn parse_value(text: &str) -> Option<String> {
        (!text.is_empty()).then(|| text.to_owned())
    }
    fn write_value(&self) -> String {
        self.clone()
    }
}

impl Value for PathBuf {
    const EXPECTED: &'static str = "a path";
    fn parse_value(text: &str) -> Option<PathBuf> {
        (!text.is_empty()).then(|| PathBuf::from(text))
    }
    fn write_value(&self) -> String {
        self.display().to_string()
    }
}

impl Value for IpAddr {
    const EXPECTED: &'static str = "an IP address";
    fn parse_value(text: &str) -> Option<IpAddr> {
        text.parse().ok()
    }
    fn write_value(&self) -> String {
        self.to_string()
    }
}

/// A [`Value`] read from `text`, or what was expected.
pub fn value<T: Value>(text: &str) -> Result<T, &'static str> {
    T::parse_value(text).ok_or(T::EXPECTED)
}

/// A whole number within `min..=max`.
pub fn number<T: std::str::FromStr + PartialOrd>(
    text: &str,
    min: T,
    max: T,
) -> Result<T, &'static str> {
    match text.parse::<T>() {
        Ok(n) if n >= min && n <= max => Ok(n),
        _ => Err("a whole number in the allowed range"),
    }
}

/// Milliseconds, at least `min`.
pub fn millis(text: &str, min: u64) -> Result<std::time::Duration, &'static str> {
    number::<u64>(text, min, u64::MAX / 2).map(std::time::Duration::from_millis)
}

/// A row of a key table: `"name" | "old name": field.path = kind`, where kind is
/// - `number(min, max)`: a whole number within bounds;
/// - `millis(min)`: a `Duration` written in milliseconds, at least `min`;
/// - `value`: a [`Value`] (booleans, non-empty text, paths, IP addresses, enums);
/// - `with(set, get)`: `set: fn(&str) -> Result<T, &'static str>` and `get: fn(&T) -> String`.
#[macro_export]
macro_rules! conf_key {
    ($name:literal $(| $alias:literal)*: $($field:ident).+ = number($min:expr, $max:expr)) => {
        $crate::conf::Key {
            name: $name,
            aliases: &[$($alias),*],
            set: |c, v| {
                c.$($field).+ = $crate::conf::number(v, $min, $max)?;
                Ok(())
            },
            get: |c| c.$($field).+.to_string(),
        }
    };
    ($name:literal $(| $alias:literal)*: $($field:ident).+ = millis($min:expr)) => {
        $crate::conf::Key {
            name: $name,
            aliases: &[$($alias),*],
            set: |c, v| {
                c.$($field).+ = $crate::conf::millis(v, $min)?;
                Ok(())
            },
            get: |c| c.$($field).+.as_millis().to_string(),
        }
    };
    ($name:literal $(| $alias:literal)*: $($field:ident).+ = value) => {
        $crate::conf::Key {
            name: $name,
            aliases: &[$($alias),*],
            set: |c, v| {
                c.$($field).+ = $crate::conf::value(v)?;
                Ok(())
            },
            get: |c| $crate::conf::Value::write_value(&c.$($field).+),
        }
    };
    ($name:literal $(| $alias:literal)*: $($field:ident).+ = with($set:expr, $get:expr)) => {
        $crate::conf::Key {
            name: $name,
            aliases: &[$($alias),*],
            set: |c, v| {
                let set: fn(&str) -> Result<_, &'static str> = $set;
                c.$($field).+ = set(v)?;
                Ok(())
            },
            get: |c| ($get)(&c.$($field).+),
        }
    };
}

#[cfg(test)]
mod tests {
    use std::net::IpAddr;
    use std::time::Duration;

    use super::*;

    #[derive(Debug, Default)]
    struct Inner {
        ratio: u32,
    }

    #[derive(Debug, Default)]
    struct Settings {
        port: u16,
        timeout: Duration,
        enabled: bool,
        name: String,
        bind: Option<IpAddr>,
        inner: Inner,
        list: Vec<String>,
    }

    const KEYS: &[Key<Settings>] = &[
        crate::conf_key!("listenPort": port = number(0, 65535)),
        crate::conf_key!("timeoutMillis" | "timeoutMills": timeout = millis(1)),
        crate::conf_key!("enabled": enabled = value),
        crate::conf_key!("name": name = value),
        crate::conf_key!("bindAddress": bind = with(
            |v: &str| value::<IpAddr>(v).map(Some),
            |b: &Option<IpAddr>| b.map(|ip| ip.to_string()).unwrap_or_default()
        )),
        crate::conf_key!("ratio": inner.ratio = number(0, 100)),
        crate::conf_key!("addrs": list = with(
            |v: &str| Ok(v.split(';').filter(|a| !a.is_empty()).map(str::to_owned).collect()),
            |l: &Vec<String>| l.join(";")
        )),
    ];

    #[test]
    fn every_kind_of_key_reads_its_text_and_writes_it_back() {
        let mut s = Settings::default();
        let text = "listenPort=10911\ntimeoutMillis = 250 \nenabled=true\nname=b1\n\
                    bindAddress=127.0.0.1\nratio=75\naddrs=a:1;b:2\n";
        assert_eq!(read(KEYS, &mut s, text).unwrap(), Vec::<String>::new());
        assert_eq!(s.port, 10911);
        assert_eq!(s.timeout, Duration::from_millis(250));
        assert!(s.enabled);
        assert_eq!(s.inner.ratio, 75);
        assert_eq!(s.list, ["a:1", "b:2"]);
        let shown: Vec<(&str, String)> = show(KEYS, &s);
        let written: String = shown.iter().map(|(k, v)| format!("{k}={v}\n")).collect();
        let mut again = Settings::default();
        read(KEYS, &mut again, &written).unwrap();
        assert_eq!(show(KEYS, &again), shown);
    }

    #[test]
    fn an_old_spelling_sets_the_same_field_and_is_shown_under_the_new_name() {
        let mut s = Settings::default();
        assert_eq!(apply(KEYS, &mut s, "timeoutMills", "40"), Ok(true));
        assert_eq!(s.timeout, Duration::from_millis(40));
        assert!(show(KEYS, &s).contains(&("timeoutMillis", "40".to_owned())));
    }

    #[test]
    fn unknown_keys_are_returned_in_file_order_and_change_nothing() {
        let mut s = Settings::default();
        let unknown = read(KEYS, &mut s, "zeta=1\nlistenPort=1\nalpha=2\n").unwrap();
        assert_eq!(unknown, ["zeta", "alpha"]);
        assert_eq!(apply(KEYS, &mut s, "nope", "x"), Ok(false));
    }

    #[test]
    fn a_bad_value_names_the_key_the_value_and_what_was_expected() {
        let mut s = Settings::default();
        let cases = [
            ("listenPort", "65536", "a whole number in the allowed range"),
            ("listenPort", "-1", "a whole number in the allowed range"),
            ("timeoutMillis", "0", "a whole number in the allowed range"),
            ("enabled", "yes", "true or false"),
            ("enabled", "TRUE", "true or false"),
            ("name", "", "a non-empty value"),
            ("bindAddress", "localhost", "an IP address"),
        ];
        for (key, value, expected) in cases {
            let error = apply(KEYS, &mut s, key, value).unwrap_err();
            assert_eq!(
                error,
                ValueError {
                    key: key.into(),
                    value: value.into(),
                    expected
                }
            );
        }
        assert_eq!(s.port, 0, "a refused value leaves the field as it was");
    }
}
