//! What a command showed, with what varies from run to run masked, so that two runs of the
//! same session (against two engines, or directly and through a proxy) compare as text.

use serde_json::Value;

use crate::command::Out;

/// Exit status, then the output lines (stdout, then stderr) sorted, with the session's tag
/// replaced by `T`: for sessions whose lines come in an order that may vary.
pub fn shown(tag: &str, out: &Out) -> String {
    let mut lines: Vec<String> = out.stdout.lines().chain(out.stderr.lines()).map(|l| l.trim().replace(tag, "T")).collect();
    lines.retain(|l| !l.is_empty());
    lines.sort();
    format!("[{}] {}", out.status.unwrap_or(-1), lines.join(" | "))
}

/// `text` with the session's `tag` replaced by `T`, timestamps (`2024-05-01T10:00:00.123Z`,
/// also with a space for the `T` and an offset) by `<time>`, and runs of 12 or more hex
/// digits (ids, digests, nanosecond times) by `<id>`.
pub fn mask(text: &str, tag: &str) -> String {
    let text = if tag.is_empty() { text.to_owned() } else { text.replace(tag, "T") };
    hex_runs(&times(&text))
}

/// [`mask`], every remaining run of digits replaced by `N` and every run of spaces by one
/// space: for output made of counters, process ids, host ports and clock readings in
/// columns padded to their width (`top`, `port`).
pub fn mask_numbers(text: &str, tag: &str) -> String {
    let masked = mask(text, tag);
    let mut out = String::with_capacity(masked.len());
    let mut previous = ' ';
    for c in masked.chars() {
        let same_run = (c.is_ascii_digit() && previous.is_ascii_digit()) || (c == ' ' && previous == ' ');
        if !same_run {
            out.push(if c.is_ascii_digit() { 'N' } else { c });
        }
        previous = c;
    }
    out
}

/// A JSON answer masked: every string as by [`mask`], and the members named in `volatile`
/// (anywhere in the document: addresses, process ids) replaced by `"<masked>"`. Text that is
/// not JSON is masked as text.
pub fn mask_json(text: &str, tag: &str, volatile: &[&str]) -> String {
    fn walk(value: &mut Value, tag: &str, volatile: &[&str]) {
        match value {
            Value::String(s) => *s = mask(s, tag),
            Value::Array(items) => items.iter_mut().for_each(|v| walk(v, tag, volatile)),
            Value::Object(members) => {
                for (key, member) in members.iter_mut() {
                    if volatile.contains(&key.as_str()) {
                        *member = Value::String("<masked>".into());
                    } else {
                        walk(member, tag, volatile);
                    }
                }
                // Maps keyed by ids or the tag (networks' containers, labels); members in
                // name order, whatever order they came in: JSON's member order carries
                // nothing, and models write theirs in the spec's order (and serde_json keeps
                // insertion order wherever a crate of the build enables `preserve_order`).
                let mut masked: Vec<(String, Value)> = std::mem::take(members).into_iter().map(|(k, v)| (mask(&k, tag), v)).collect();
                masked.sort_by(|a, b| a.0.cmp(&b.0));
                *members = masked.into_iter().collect();
            }
            _ => {}
        }
    }
    match serde_json::from_str::<Value>(text) {
        Ok(mut value) => {
            walk(&mut value, tag, volatile);
            serde_json::to_string_pretty(&value).expect("JSON prints")
        }
        Err(_) => mask(text, tag),
    }
}

/// Replaces RFC 3339 times (`YYYY-MM-DD[T ]HH:MM:SS[.fraction][Z|±HH:MM]`) by `<time>`.
fn times(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < bytes.len() {
        if let Some(len) = time_at(&bytes[i..]) {
            out.push_str("<time>");
            i += len;
        } else {
            // Copy one whole character.
            let c = text[i..].chars().next().expect("a character at a char boundary");
            out.push(c);
            i += c.len_utf8();
        }
    }
    out
}

/// The length of the time that starts `b`, if one does.
fn time_at(b: &[u8]) -> Option<usize> {
    const SHAPE: &[u8] = b"dddd-dd-ddTdd:dd:dd";
    if b.len() < SHAPE.len() {
        return None;
    }
    for (i, &s) in SHAPE.iter().enumerate() {
        let ok = match s {
            b'd' => b[i].is_ascii_digit(),
            b'T' => b[i] == b'T' || b[i] == b' ',
            other => b[i] == other,
        };
        if !ok {
            return None;
        }
    }
    let mut n = SHAPE.len();
    if b.get(n) == Some(&b'.') {
        n += 1;
        while b.get(n).is_some_and(u8::is_ascii_digit) {
            n += 1;
        }
    }
    match b.get(n) {
        Some(b'Z') => n += 1,
        Some(b'+' | b'-') if b.len() >= n + 6 && b[n + 3] == b':' => n += 6,
        _ => {}
    }
    Some(n)
}

/// Replaces runs of 12 or more lowercase hex digits by `<id>`.
fn hex_runs(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut run = String::new();
    let flush = |run: &mut String, out: &mut String| {
        if run.len() >= 12 {
            out.push_str("<id>");
        } else {
            out.push_str(run);
        }
        run.clear();
    };
    for c in text.chars() {
        if c.is_ascii_digit() || ('a'..='f').contains(&c) {
            run.push(c);
        } else {
            flush(&mut run, &mut out);
            out.push(c);
        }
    }
    flush(&mut run, &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_ids_times_and_the_tag() {
        let text = "px1x2-box 2024-05-01T10:00:00.123456789Z sha256:0c9f75cd2d7905697be2b8603c2ea61065412e5b2771114bbb5dc9baec143dc9 3f6c79613389 cafe 2024-05-01 10:00:00+02:00";
        assert_eq!(mask(text, "px1x2"), "T-box <time> sha256:<id> <id> cafe <time>");
        assert_eq!(mask_numbers("80/tcp -> 127.0.0.1:32768", ""), "N/tcp -> N.N.N.N:N");
        assert_eq!(mask_numbers("root   4242   17  sleep 300", ""), "root N N sleep N");
    }

    #[test]
    fn masks_volatile_members_anywhere() {
        let json = r#"[{"Id":"0c9f75cd2d79","State":{"Pid":4242,"Status":"running"},"Labels":{"t1":"x"}}]"#;
        let masked = mask_json(json, "t1", &["Pid"]);
        let value: Value = serde_json::from_str(&masked).unwrap();
        assert_eq!(value[0]["Id"], "<id>");
        assert_eq!(value[0]["State"]["Pid"], "<masked>");
        assert_eq!(value[0]["State"]["Status"], "running");
        assert_eq!(value[0]["Labels"]["T"], "x");
    }
}
