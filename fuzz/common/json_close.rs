//! JSON equality that lets a float move by one unit in the last place: serde_json, without its
//! `float_roundtrip` feature (the workspace does not enable it), reads some decimal floats one
//! ULP off, so a float read, written and read again may differ by that much. Everything else
//! must be equal.

use serde_json::Value;

/// Whether `a` and `b` are equal but for floats one ULP apart.
pub fn close(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => {
            if x == y {
                return true;
            }
            match (x.as_f64(), y.as_f64()) {
                (Some(x), Some(y)) if x.is_finite() && y.is_finite() => ulps(x, y) <= 1,
                _ => false,
            }
        }
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(x, y)| close(x, y))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| close(v, w)))
        }
        _ => a == b,
    }
}

fn ulps(x: f64, y: f64) -> u64 {
    if x == y {
        return 0;
    }
    if x.is_sign_negative() != y.is_sign_negative() {
        return u64::MAX;
    }
    x.to_bits().abs_diff(y.to_bits())
}

/// Panics unless `again` equals `value` as [`close`] says.
pub fn assert_close<T: serde::Serialize + std::fmt::Debug>(again: &T, value: &T, context: &str) {
    let (a, b) = (
        serde_json::to_value(again).expect("a value writes as JSON"),
        serde_json::to_value(value).expect("a value writes as JSON"),
    );
    assert!(
        close(&a, &b),
        "changed through a round trip: {context}\n  left: {again:?}\n right: {value:?}"
    );
}
