//! The query string, parsed once, and Docker's conventions for reading it: lenient and strict booleans, numbers, repeated keys, csv lists, JSON
//! values and `filters`. Every failure is a 400 that names the parameter.

use std::str::FromStr;

use serde::de::DeserializeOwned;

use super::error::ApiError;
use crate::filters::Filters;

/// The query string, parsed once (percent-decoding, `+` as space, repeated keys kept in order).
///
/// `Debug` redacts the values of parameters that may hold secrets (`buildargs`).
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Query {
    pairs: Vec<(String, String)>,
}

impl std::fmt::Debug for Query {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let pairs = self.pairs.iter().map(|(k, v)| (k, if crate::secret::is_secret_query_key(k) { crate::secret::REDACTED } else { v }));
        f.debug_struct("Query").field("pairs", &pairs.collect::<Vec<_>>()).finish()
    }
}

impl Query {
    /// Parses `a=1&b=x+y&b=%2F&flag` (without the `?`). A key without `=` has the empty value;
    /// a malformed escape is kept as it was written rather than rejected.
    pub fn parse(raw: &str) -> Query {
        let pairs = raw
            .split('&')
            .filter(|part| !part.is_empty())
            .map(|part| {
                let (key, value) = part.split_once('=').unwrap_or((part, ""));
                (percent_decode(key, true), percent_decode(value, true))
            })
            .collect();
        Query { pairs }
    }

    /// Every pair in the order sent.
    pub fn pairs(&self) -> impl Iterator<Item = (&str, &str)> {
        self.pairs.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    pub fn is_empty(&self) -> bool {
        self.pairs.is_empty()
    }

    /// Whether the key was sent at all, with or without a value.
    pub fn contains(&self, name: &str) -> bool {
        self.pairs.iter().any(|(k, _)| k == name)
    }

    /// The first value of `name`, as Go's `FormValue` reads it.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.pairs.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }

    pub fn string(&self, name: &str) -> Option<String> {
        self.get(name).map(str::to_owned)
    }

    /// Docker's lenient boolean (`httputils.BoolValue`): absent → `None`; after trim and
    /// lowercase `""`, `0`, `no`, `false`, `none` → `Some(false)`, anything else `Some(true)`.
    pub fn bool(&self, name: &str) -> Option<bool> {
        let value = self.get(name)?.trim().to_ascii_lowercase();
        Some(!matches!(value.as_str(), "" | "0" | "no" | "false" | "none"))
    }

    /// Strict boolean (Go's `strconv.ParseBool`: `1 t T TRUE true True 0 f F FALSE false
    /// False`), for the parameters the daemon parses strictly; anything else (the empty
    /// value too) answers 400 naming the parameter. Absent → `None`.
    pub fn bool_strict(&self, name: &str) -> Result<Option<bool>, ApiError> {
        match self.get(name) {
            None => Ok(None),
            Some("1" | "t" | "T" | "TRUE" | "true" | "True") => Ok(Some(true)),
            Some("0" | "f" | "F" | "FALSE" | "false" | "False") => Ok(Some(false)),
            Some(other) => Err(invalid(name, other)),
        }
    }

    /// An integer or float: absent or empty → `None`; unparsable → 400
    /// `invalid value for query parameter "limit": "abc"`.
    pub fn number<T: FromStr>(&self, name: &str) -> Result<Option<T>, ApiError> {
        match self.get(name) {
            None | Some("") => Ok(None),
            Some(value) => value.parse().map(Some).map_err(|_| invalid(name, value)),
        }
    }

    /// Every value of a repeated key, in order (build `t`, df `type`, images/get `names` …);
    /// values are not split.
    pub fn repeated(&self, name: &str) -> Vec<String> {
        self.pairs.iter().filter(|(k, _)| k == name).map(|(_, v)| v.clone()).collect()
    }

    /// Like [`repeated`](Query::repeated), but each value is also split on `,`
    /// (`collectionFormat: csv`); empty parts are dropped.
    pub fn csv(&self, name: &str) -> Vec<String> {
        self.pairs
            .iter()
            .filter(|(k, _)| k == name)
            .flat_map(|(_, v)| v.split(','))
            .filter(|part| !part.is_empty())
            .map(str::to_owned)
            .collect()
    }

    /// A value holding JSON (`labels`, `buildargs`, `cachefrom` …): absent or empty → `None`,
    /// invalid → 400 naming the parameter.
    pub fn json<T: DeserializeOwned>(&self, name: &str) -> Result<Option<T>, ApiError> {
        match self.get(name) {
            None => Ok(None),
            Some(value) if value.trim().is_empty() => Ok(None),
            Some(value) => serde_json::from_str(value)
                .map(Some)
                .map_err(|e| ApiError::invalid_argument(format!("invalid value for query parameter \"{name}\": {e}"))),
        }
    }

    /// `filters` in either wire form (`{"status":["exited"]}` or `{"status":{"exited":true}}`);
    /// absent → `None`, empty → no filters, invalid → 400 naming the parameter.
    pub fn filters(&self, name: &str) -> Result<Option<Filters>, ApiError> {
        match self.get(name) {
            None => Ok(None),
            Some(value) => Filters::from_query_value(value)
                .map(Some)
                .map_err(|e| ApiError::invalid_argument(format!("invalid value for query parameter \"{name}\": {e}"))),
        }
    }
}

fn invalid(name: &str, value: &str) -> ApiError {
    ApiError::invalid_argument(format!("invalid value for query parameter \"{name}\": {value:?}"))
}

/// Decodes `%XX` escapes (and `+` as a space in query strings). A `%` not followed by two hex
/// digits stays as written; bytes that are not UTF-8 after decoding become U+FFFD.
pub(crate) fn percent_decode(input: &str, plus_as_space: bool) -> String {
    if !(input.contains('%') || plus_as_space && input.contains('+')) {
        return input.to_owned();
    }
    let bytes = input.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' => match (bytes.get(i + 1).copied().and_then(hex), bytes.get(i + 2).copied().and_then(hex)) {
                (Some(hi), Some(lo)) => {
                    out.push(hi << 4 | lo);
                    i += 3;
                    continue;
                }
                _ => out.push(b'%'),
            },
            b'+' if plus_as_space => out.push(b' '),
            b => out.push(b),
        }
        i += 1;
    }
    match String::from_utf8(out) {
        Ok(s) => s,
        Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
    }
}

fn hex(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_decodes_and_keeps_order() {
        let q = Query::parse("t=a%2Fb%3A1&t=c+d&flag&=x&&e=%zz%4&u=%C3%A9&bad=%FF");
        assert_eq!(q.repeated("t"), ["a/b:1", "c d"]);
        assert_eq!(q.get("t"), Some("a/b:1"));
        assert_eq!(q.get("flag"), Some(""));
        assert!(q.contains("flag"));
        assert_eq!(q.get(""), Some("x"));
        assert_eq!(q.get("e"), Some("%zz%4"));
        assert_eq!(q.get("u"), Some("é"));
        assert_eq!(q.get("bad"), Some("\u{fffd}"));
        assert_eq!(q.get("missing"), None);
        assert!(Query::parse("").is_empty());
        assert_eq!(percent_decode("a+b%2B", false), "a+b+");
    }

    #[test]
    fn lenient_booleans() {
        for (raw, want) in [
            ("1", true),
            ("true", true),
            ("True", true),
            ("yes", true),
            ("anything", true),
            ("", false),
            ("0", false),
            ("no", false),
            (" FALSE ", false),
            ("none", false),
            ("No", false),
        ] {
            let q = Query::parse(&format!("all={}", raw.replace(' ', "+")));
            assert_eq!(q.bool("all"), Some(want), "{raw:?}");
        }
        assert_eq!(Query::parse("all").bool("all"), Some(false));
        assert_eq!(Query::parse("x=1").bool("all"), None);
    }

    #[test]
    fn strict_booleans() {
        for raw in ["1", "t", "T", "TRUE", "true", "True"] {
            assert_eq!(Query::parse(&format!("v={raw}")).bool_strict("v"), Ok(Some(true)));
        }
        for raw in ["0", "f", "F", "FALSE", "false", "False"] {
            assert_eq!(Query::parse(&format!("v={raw}")).bool_strict("v"), Ok(Some(false)));
        }
        assert_eq!(Query::parse("").bool_strict("v"), Ok(None));
        for raw in ["yes", "", "tRUE", " 1"] {
            let e = Query::parse(&format!("verbose={raw}")).bool_strict("verbose").unwrap_err();
            assert_eq!(e.status(), axum::http::StatusCode::BAD_REQUEST);
            assert!(e.message().contains("\"verbose\""), "{}", e.message());
        }
    }

    #[test]
    fn numbers() {
        let q = Query::parse("limit=5&neg=-1&f=0.5&empty=&bad=abc");
        assert_eq!(q.number::<i64>("limit"), Ok(Some(5)));
        assert_eq!(q.number::<i64>("neg"), Ok(Some(-1)));
        assert_eq!(q.number::<f64>("f"), Ok(Some(0.5)));
        assert_eq!(q.number::<i64>("empty"), Ok(None));
        assert_eq!(q.number::<i64>("missing"), Ok(None));
        assert_eq!(q.number::<u8>("bad").unwrap_err().message(), r#"invalid value for query parameter "bad": "abc""#);
        assert!(q.number::<u64>("neg").is_err());
    }

    #[test]
    fn lists_json_and_filters() {
        let q = Query::parse("a=x,y&a=,z,&l=%7B%22k%22%3A%22v%22%7D&e=&j=%7B");
        assert_eq!(q.csv("a"), ["x", "y", "z"]);
        assert_eq!(q.repeated("a"), ["x,y", ",z,"]);
        let labels: Option<std::collections::HashMap<String, String>> = q.json("l").unwrap();
        assert_eq!(labels.unwrap()["k"], "v");
        assert_eq!(q.json::<serde_json::Value>("e"), Ok(None));
        assert_eq!(q.json::<serde_json::Value>("missing"), Ok(None));
        assert!(q.json::<serde_json::Value>("j").unwrap_err().message().contains("\"j\""));

        let both = Query::parse(r#"f1={"status":["exited"]}&f2={"status":{"exited":true}}&bad=[1]"#);
        assert_eq!(both.filters("f1").unwrap().unwrap().get("status"), ["exited"]);
        assert_eq!(both.filters("f2").unwrap().unwrap().get("status"), ["exited"]);
        assert!(both.filters("bad").unwrap_err().message().contains("\"bad\""));
        assert_eq!(both.filters("missing"), Ok(None));
    }
}
