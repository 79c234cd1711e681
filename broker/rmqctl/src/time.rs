//! Milliseconds since the epoch as UTC text, without a calendar crate.

/// `2023-11-14T22:13:20.123Z`; 0 and negative values (a field that was never set) give `-`.
pub fn format_millis(millis: i64) -> String {
    if millis <= 0 {
        return "-".to_owned();
    }
    let secs = millis.div_euclid(1000);
    let ms = millis.rem_euclid(1000);
    let days = secs.div_euclid(86_400);
    let of_day = secs.rem_euclid(86_400);
    let (year, month, day) = civil_from_days(days);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{ms:03}Z",
        of_day / 3600,
        of_day % 3600 / 60,
        of_day % 60
    )
}

/// Howard Hinnant's `civil_from_days`: days since 1970-01-01 to a proleptic Gregorian date.
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn millis_are_formatted_as_utc_with_milliseconds() {
        assert_eq!(format_millis(1_700_000_000_123), "2023-11-14T22:13:20.123Z");
        assert_eq!(format_millis(1), "1970-01-01T00:00:00.001Z");
    }

    #[test]
    fn leap_days_and_year_ends_land_on_the_right_date() {
        // 2024-02-29T12:00:00Z and 1999-12-31T23:59:59.999Z
        assert_eq!(format_millis(1_709_208_000_000), "2024-02-29T12:00:00.000Z");
        assert_eq!(format_millis(946_684_799_999), "1999-12-31T23:59:59.999Z");
    }

    #[test]
    fn unset_timestamps_are_a_dash() {
        assert_eq!(format_millis(0), "-");
        assert_eq!(format_millis(-5), "-");
    }
}
