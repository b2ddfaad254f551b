//! Time as the daemon writes and reads it: Unix nanoseconds, RFC 3339 text (Go's
//! `RFC3339Nano` and the fixed-width log timestamps), `since`/`until` query values, and the
//! human durations of `docker ps`.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Nanoseconds since the Unix epoch (fits an `i64` until 2262, like Go's `UnixNano`).
pub fn now_nanos() -> i64 {
    let since = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default();
    i64::try_from(since.as_nanos()).unwrap_or(i64::MAX)
}

/// Go's zero time, which the daemon writes for "never" (`StartedAt` of a created container).
pub const ZERO_TIME: &str = "0001-01-01T00:00:00Z";

/// Go's `time.RFC3339Nano` in UTC: trailing zeros of the fraction are dropped, and so is the
/// fraction when it is zero (`2024-05-01T10:00:00.5Z`).
pub fn rfc3339_nanos(nanos: i64) -> String {
    let (secs, frac) = split(nanos);
    let mut text = date_time(secs);
    if frac != 0 {
        let digits = format!("{frac:09}");
        text.push('.');
        text.push_str(digits.trim_end_matches('0'));
    }
    text.push('Z');
    text
}

/// The fixed-width form of log timestamps (`jsonmessage.RFC3339NanoFixed`): always nine
/// digits, so that timestamped lines align.
pub fn rfc3339_fixed(nanos: i64) -> String {
    let (secs, frac) = split(nanos);
    format!("{}.{frac:09}Z", date_time(secs))
}

/// Whole seconds only (volume `CreatedAt`, like the daemon's `time.RFC3339`).
pub fn rfc3339_secs(nanos: i64) -> String {
    format!("{}Z", date_time(split(nanos).0))
}

fn split(nanos: i64) -> (i64, i64) {
    (nanos.div_euclid(1_000_000_000), nanos.rem_euclid(1_000_000_000))
}

/// `YYYY-MM-DDTHH:MM:SS` for seconds since the epoch (Howard Hinnant's `civil_from_days`).
fn date_time(secs: i64) -> String {
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}", rem / 3600, rem / 60 % 60, rem % 60)
}

/// A `since`/`until` value as the CLIs send it: Unix seconds with an optional fraction
/// (`1700000000.123456789`, what `timetypes.GetTimestamp` produces). `None` when it is not one.
pub fn parse_timestamp(value: &str) -> Option<i64> {
    let value = value.trim();
    let (secs, frac) = value.split_once('.').unwrap_or((value, ""));
    let secs: i64 = secs.parse().ok()?;
    if !frac.bytes().all(|b| b.is_ascii_digit()) || frac.len() > 9 {
        return None;
    }
    // "5" as a fraction is 0.5 s: pad to nine digits before reading it as nanoseconds.
    let frac: i64 = if frac.is_empty() { 0 } else { format!("{frac:0<9}").parse().ok()? };
    secs.checked_mul(1_000_000_000)?.checked_add(frac)
}

/// A prune's `until` as the daemon reads it (`timetypes.GetTimestamp`): a Go duration
/// before `now` (`10m`, `1h30m`, `1.5h`), or a timestamp ([`parse_timestamp`]). `None` when
/// it is neither.
pub fn parse_until(value: &str, now: i64) -> Option<i64> {
    parse_go_duration(value).map(|d| now - i64::try_from(d.as_nanos()).unwrap_or(i64::MAX)).or_else(|| parse_timestamp(value))
}

/// The `until` term of a prune's filters (the last one, as the daemon reads it), or a 400.
pub fn prune_until(filters: &moby_api_runtime::server::Filters) -> Result<Option<i64>, moby_api_runtime::server::ApiError> {
    match filters.get("until").last() {
        None => Ok(None),
        Some(value) => parse_until(value, now_nanos())
            .map(Some)
            .ok_or_else(|| moby_api_runtime::server::ApiError::invalid_argument(format!("invalid value for until: {value:?}"))),
    }
}

/// Go's `time.ParseDuration` for what prunes get: numbers with `ns`, `us`, `ms`, `s`, `m`,
/// `h` units, one after another (`1h30m`).
fn parse_go_duration(text: &str) -> Option<Duration> {
    const UNITS: [(&str, f64); 6] = [("ns", 1e-9), ("us", 1e-6), ("ms", 1e-3), ("s", 1.0), ("m", 60.0), ("h", 3600.0)];
    let mut rest = text.trim();
    if rest.is_empty() {
        return None;
    }
    let mut seconds = 0.0;
    while !rest.is_empty() {
        let number_len = rest.find(|c: char| !(c.is_ascii_digit() || c == '.')).filter(|&n| n > 0)?;
        let number: f64 = rest[..number_len].parse().ok()?;
        rest = &rest[number_len..];
        let (unit, factor) = UNITS.iter().filter(|(unit, _)| rest.starts_with(unit)).max_by_key(|(unit, _)| unit.len())?;
        seconds += number * factor;
        rest = &rest[unit.len()..];
    }
    Duration::try_from_secs_f64(seconds).ok()
}

/// Go's `units.HumanDuration`, which `docker ps` shows as "Up 5 seconds" and
/// "Exited (0) 2 minutes ago".
pub fn human_duration(d: Duration) -> String {
    let seconds = d.as_secs();
    // Go rounds hours to the nearest one (`int(d.Hours() + 0.5)`).
    let hours = (seconds + 1800) / 3600;
    match seconds {
        0 => "Less than a second".to_owned(),
        1 => "1 second".to_owned(),
        s if s < 60 => format!("{s} seconds"),
        s if s / 60 == 1 => "About a minute".to_owned(),
        s if s / 60 < 60 => format!("{} minutes", s / 60),
        _ if hours == 1 => "About an hour".to_owned(),
        _ if hours < 48 => format!("{hours} hours"),
        _ if hours < 24 * 7 * 2 => format!("{} days", hours / 24),
        _ if hours < 24 * 30 * 2 => format!("{} weeks", hours / 24 / 7),
        _ if hours < 24 * 365 * 2 => format!("{} months", hours / 24 / 30),
        _ => format!("{} years", hours / 24 / 365),
    }
}

/// The time between two instants in nanoseconds, never negative.
pub fn elapsed(from: i64, to: i64) -> Duration {
    Duration::from_nanos(u64::try_from(to.saturating_sub(from)).unwrap_or(0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats() {
        assert_eq!(rfc3339_nanos(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339_nanos(1_700_000_000_500_000_000), "2023-11-14T22:13:20.5Z");
        assert_eq!(rfc3339_fixed(1_700_000_000_000_000_001), "2023-11-14T22:13:20.000000001Z");
        assert_eq!(rfc3339_secs(951_782_400_999_999_999), "2000-02-29T00:00:00Z");
        assert_eq!(rfc3339_nanos(-1_000_000_000), "1969-12-31T23:59:59Z");
    }

    #[test]
    fn timestamps() {
        assert_eq!(parse_timestamp("1700000000"), Some(1_700_000_000_000_000_000));
        assert_eq!(parse_timestamp("1700000000.000000001"), Some(1_700_000_000_000_000_001));
        assert_eq!(parse_timestamp("1700000000.5"), Some(1_700_000_000_500_000_000));
        assert_eq!(parse_timestamp("soon"), None);
        assert_eq!(parse_timestamp("1.2.3"), None);
        let now = 10_000 * 1_000_000_000;
        assert_eq!(parse_until("1h30m", now), Some(now - 5400 * 1_000_000_000));
        assert_eq!(parse_until("10m", now), Some(now - 600 * 1_000_000_000));
        assert_eq!(parse_until("1700000000", now), Some(1_700_000_000_000_000_000));
        assert_eq!(parse_until("1x", now), None);
    }

    #[test]
    fn durations() {
        assert_eq!(human_duration(Duration::from_millis(300)), "Less than a second");
        assert_eq!(human_duration(Duration::from_secs(5)), "5 seconds");
        assert_eq!(human_duration(Duration::from_secs(90)), "About a minute");
        assert_eq!(human_duration(Duration::from_secs(600)), "10 minutes");
        assert_eq!(human_duration(Duration::from_secs(3 * 3600)), "3 hours");
        assert_eq!(human_duration(Duration::from_secs(3 * 86_400)), "3 days");
    }
}
