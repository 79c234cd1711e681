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

/// `-s` of `resetOffsetByTime`: `now`, milliseconds since the epoch, or mqadmin's
/// `yyyy-MM-dd#HH:mm:ss:SSS` (read as UTC; mqadmin reads it in the JVM's time zone).
pub fn parse_reset_time(text: &str, now_ms: i64) -> Result<i64, String> {
    let text = text.trim();
    if text == "now" {
        return Ok(now_ms);
    }
    if let Ok(millis) = text.parse::<i64>() {
        return Ok(millis);
    }
    let bad = || format!("{text:?} is not `now`, milliseconds or yyyy-MM-dd#HH:mm:ss:SSS");
    let (date, time) = text.split_once('#').ok_or_else(bad)?;
    let date: Vec<i64> = date
        .split('-')
        .map(str::parse)
        .collect::<Result<_, _>>()
        .map_err(|_| bad())?;
    let time: Vec<i64> = time
        .split(':')
        .map(str::parse)
        .collect::<Result<_, _>>()
        .map_err(|_| bad())?;
    let (&[y, mo, d], &[h, mi, s, ms]) = (date.as_slice(), time.as_slice()) else {
        return Err(bad());
    };
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) || h > 23 || mi > 59 || s > 59 || ms > 999
    {
        return Err(bad());
    }
    let days = days_from_civil(y, mo, d);
    Ok(((days * 86_400 + h * 3600 + mi * 60 + s) * 1000) + ms)
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
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
    fn reset_times_read_now_millis_and_mqadmins_date_form() {
        assert_eq!(parse_reset_time("now", 42), Ok(42));
        assert_eq!(parse_reset_time("1700000000123", 0), Ok(1_700_000_000_123));
        let millis = parse_reset_time("2023-11-14#22:13:20:123", 0).unwrap();
        assert_eq!(format_millis(millis), "2023-11-14T22:13:20.123Z");
        assert!(parse_reset_time("2023-13-14#22:13:20:123", 0).is_err());
        assert!(parse_reset_time("yesterday", 0).is_err());
    }

    #[test]
    fn unset_timestamps_are_a_dash() {
        assert_eq!(format_millis(0), "-");
        assert_eq!(format_millis(-5), "-");
    }
}
