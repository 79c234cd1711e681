//! Typed values of `broker.conf` keys: one parser per kind of value and one error, shared by the
//! broker's, the replication and the messaging settings.

use std::time::Duration;

/// A key's value does not parse or is out of its bounds.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{key}={value:?} is not valid: expected {expected}")]
pub struct ValueError {
    pub key: String,
    pub value: String,
    pub expected: &'static str,
}

impl ValueError {
    pub fn new(key: &str, value: &str, expected: &'static str) -> ValueError {
        ValueError {
            key: key.into(),
            value: value.into(),
            expected,
        }
    }
}

/// Any text but the empty one.
pub fn non_empty(key: &str, v: &str) -> Result<String, ValueError> {
    if v.is_empty() {
        return Err(ValueError::new(key, v, "a non-empty value"));
    }
    Ok(v.to_owned())
}

/// A whole number within `min..=max`.
pub fn number<T: std::str::FromStr + PartialOrd>(
    key: &str,
    v: &str,
    min: T,
    max: T,
) -> Result<T, ValueError> {
    match v.parse::<T>() {
        Ok(n) if n >= min && n <= max => Ok(n),
        _ => Err(ValueError::new(
            key,
            v,
            "a whole number in the allowed range",
        )),
    }
}

/// Milliseconds, at least `min`.
pub fn millis(key: &str, v: &str, min: u64) -> Result<Duration, ValueError> {
    number::<u64>(key, v, min, u64::MAX / 2).map(Duration::from_millis)
}

/// `true` or `false`, spelled as Java's `Boolean.parseBoolean` writes them.
pub fn boolean(key: &str, v: &str) -> Result<bool, ValueError> {
    match v {
        "true" => Ok(true),
        "false" => Ok(false),
        _ => Err(ValueError::new(key, v, "true or false")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_outside_their_bounds_are_refused_with_the_key_named() {
        assert_eq!(number::<i32>("k", "5", 1, 10), Ok(5));
        let error = number::<i32>("k", "11", 1, 10).unwrap_err();
        assert_eq!(error.key, "k");
        assert_eq!(error.value, "11");
        assert!(number::<i32>("k", "x", 1, 10).is_err());
    }

    #[test]
    fn millis_below_the_minimum_are_refused() {
        assert_eq!(millis("k", "0", 0), Ok(Duration::ZERO));
        assert!(millis("k", "0", 1).is_err());
        assert_eq!(millis("k", "1500", 1), Ok(Duration::from_millis(1500)));
    }

    #[test]
    fn only_true_and_false_are_booleans() {
        assert_eq!(boolean("k", "true"), Ok(true));
        assert_eq!(boolean("k", "false"), Ok(false));
        assert!(boolean("k", "TRUE").is_err());
        assert!(boolean("k", "1").is_err());
    }
}
