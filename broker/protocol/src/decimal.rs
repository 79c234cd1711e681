//! Integers as decimal text without allocating: header fields and JSON numbers are written
//! on every request and response.

/// `value` in decimal, written at the end of `buf` (20 bytes hold any `i64` with its sign).
pub fn decimal(value: i64, buf: &mut [u8; 20]) -> &str {
    let mut at = buf.len();
    let mut rest = value.unsigned_abs();
    loop {
        at -= 1;
        buf[at] = b'0' + (rest % 10) as u8;
        rest /= 10;
        if rest == 0 {
            break;
        }
    }
    if value < 0 {
        at -= 1;
        buf[at] = b'-';
    }
    // Only ASCII digits and '-' were written.
    std::str::from_utf8(&buf[at..]).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::decimal;

    proptest! {
        #[test]
        fn decimal_writes_what_to_string_writes(value in any::<i64>()) {
            let mut buf = [0; 20];
            prop_assert_eq!(decimal(value, &mut buf), value.to_string());
        }
    }

    #[test]
    fn decimal_writes_the_extremes() {
        let mut buf = [0; 20];
        assert_eq!(decimal(i64::MIN, &mut buf), "-9223372036854775808");
        assert_eq!(decimal(0, &mut buf), "0");
    }
}
