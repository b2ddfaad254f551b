//! Docker's `filters` query parameter, shared by the client (which sends it) and the
//! server side (which parses it).
//!
//! On the wire it is JSON. The spec documents `map[string][]string`
//! (`{"status":["exited"]}`); the daemon's own form, which the Go client sends, is
//! `map[string]map[string]bool` (`{"status":{"exited":true}}`). [`Filters`] sends the
//! documented form and reads both.
//!
//! # How the daemon combines terms
//!
//! Checked against Engine 20.10 with both CLIs (the example engine's `filters` test runs
//! the same commands against it and against a real engine):
//!
//! - different keys are ANDed: `status=exited` and `name=web` selects exited containers
//!   named like `web`;
//! - repeated terms of one key are ORed (`status=exited`, `status=created`), **except
//!   `label`, whose terms are ANDed**: `label=a`, `label=b` selects what has both labels
//!   (moby's `MatchKVList`); a term is `key` (the label is there) or `key=value`;
//! - `label!` (`--filter label!=a`, accepted by the prunes only; lists answer 400) keeps
//!   what matches all of its terms and selects the rest: a prune with `label!=a` removes
//!   what has no label `a`;
//! - a key the operation does not know is a 400 `Invalid filter 'key'` (events excepted,
//!   which ignore unknown keys and `label!`).
//!
//! [`Filters::matches_labels`], [`Filters::matches_any`] and [`Filters::check_keys`] are
//! those rules, for servers.

use std::collections::{BTreeMap, HashMap};
use std::fmt;

use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Serialize};

/// Filter terms by key: `label=a`, `label=b`, `status=exited` …
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct Filters(BTreeMap<String, Vec<String>>);

impl Filters {
    pub fn new() -> Filters {
        Filters::default()
    }

    /// Adds one term (`add("label", "com.example=1")`). Different keys are ANDed by the
    /// daemon; repeated terms of a key are ORed, except `label`'s, which are ANDed (see
    /// the [module docs](self)).
    pub fn add(&mut self, key: impl Into<String>, value: impl Into<String>) -> &mut Filters {
        let values = self.0.entry(key.into()).or_default();
        let value = value.into();
        if !values.contains(&value) {
            values.push(value);
        }
        self
    }

    /// Builder form of [`add`](Filters::add).
    pub fn with(mut self, key: impl Into<String>, value: impl Into<String>) -> Filters {
        self.add(key, value);
        self
    }

    /// The terms of `key`, empty when absent.
    pub fn get(&self, key: &str) -> &[String] {
        self.0.get(key).map_or(&[], Vec::as_slice)
    }

    /// Removes every term of `key`.
    pub fn remove(&mut self, key: &str) -> &mut Filters {
        self.0.remove(key);
        self
    }

    pub fn contains_key(&self, key: &str) -> bool {
        self.0.contains_key(key)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Keys in sorted order with their terms.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &[String])> {
        self.0.iter().map(|(k, v)| (k.as_str(), v.as_slice()))
    }

    /// The daemon's `label` and `label!` rules for an object with `labels`: every `label`
    /// term matches (`key`: the label is there; `key=value`: it has that value), and, when
    /// there are `label!` terms, not all of them do.
    pub fn matches_labels(&self, labels: &HashMap<String, String>) -> bool {
        let all = |terms: &[String]| terms.iter().all(|term| label_matches(labels, term));
        all(self.get("label")) && (!self.contains_key("label!") || !all(self.get("label!")))
    }

    /// Whether any term of `key` passes `test`; true when `key` is absent (the terms of one
    /// key other than `label` are alternatives).
    pub fn matches_any(&self, key: &str, test: impl FnMut(&str) -> bool) -> bool {
        let terms = self.get(key);
        terms.is_empty() || terms.iter().map(String::as_str).any(test)
    }

    /// The daemon's check of the keys an operation accepts: the first other key is an
    /// error with its message, `Invalid filter 'key'`.
    pub fn check_keys(&self, accepted: &[&str]) -> Result<(), String> {
        match self.0.keys().find(|key| !accepted.contains(&key.as_str())) {
            Some(key) => Err(format!("Invalid filter '{key}'")),
            None => Ok(()),
        }
    }

    /// The query value: compact JSON in the documented `map[string][]string` form.
    pub fn to_query_value(&self) -> String {
        serde_json::to_string(&self.0).unwrap_or_else(|_| "{}".to_owned())
    }

    /// Parses a query value in either wire form; an empty value means no filters.
    pub fn from_query_value(value: &str) -> Result<Filters, serde_json::Error> {
        if value.trim().is_empty() {
            return Ok(Filters::default());
        }
        serde_json::from_str(value)
    }
}

/// One `label` term against an object's labels: `key` or `key=value`.
fn label_matches(labels: &HashMap<String, String>, term: &str) -> bool {
    match term.split_once('=') {
        Some((key, value)) => labels.get(key).is_some_and(|v| v == value),
        None => labels.contains_key(term),
    }
}

impl fmt::Display for Filters {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_query_value())
    }
}

impl<K: Into<String>, V: Into<String>> FromIterator<(K, V)> for Filters {
    fn from_iter<I: IntoIterator<Item = (K, V)>>(iter: I) -> Self {
        let mut filters = Filters::default();
        for (k, v) in iter {
            filters.add(k, v);
        }
        filters
    }
}

impl<'de> Deserialize<'de> for Filters {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_map(FiltersVisitor)
    }
}

struct FiltersVisitor;

impl<'de> Visitor<'de> for FiltersVisitor {
    type Value = Filters;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object of filter terms: {\"key\": [\"value\"]} or {\"key\": {\"value\": true}}")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Filters, A::Error> {
        let mut filters = Filters::default();
        while let Some(key) = map.next_key::<String>()? {
            let terms: Terms = map.next_value()?;
            let entry = filters.0.entry(key).or_default();
            for term in terms.0 {
                if !entry.contains(&term) {
                    entry.push(term);
                }
            }
        }
        Ok(filters)
    }
}

/// The terms of one key in either form; `{"v": false}` members are dropped, as the daemon does.
struct Terms(Vec<String>);

impl<'de> Deserialize<'de> for Terms {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct TermsVisitor;
        impl<'de> Visitor<'de> for TermsVisitor {
            type Value = Terms;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a list of strings or an object of booleans")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Terms, A::Error> {
                let mut terms = Vec::new();
                while let Some(t) = seq.next_element::<String>()? {
                    terms.push(t);
                }
                Ok(Terms(terms))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Terms, A::Error> {
                let mut terms = Vec::new();
                while let Some((term, on)) = map.next_entry::<String, bool>()? {
                    if on {
                        terms.push(term);
                    }
                }
                Ok(Terms(terms))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Terms, E> {
                Ok(Terms(vec![v.to_owned()]))
            }
        }
        deserializer.deserialize_any(TermsVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_both_wire_forms_and_writes_the_documented_one() {
        let documented = Filters::from_query_value(r#"{"status":["exited","dead"],"label":["a=1"]}"#).unwrap();
        let daemon = Filters::from_query_value(r#"{"status":{"exited":true,"dead":true,"running":false},"label":{"a=1":true}}"#).unwrap();
        assert_eq!(documented.get("status"), ["exited", "dead"]);
        assert_eq!(daemon.get("status").len(), 2);
        assert!(daemon.get("status").contains(&"dead".to_owned()));
        assert_eq!(documented.to_query_value(), r#"{"label":["a=1"],"status":["exited","dead"]}"#);
        assert_eq!(Filters::from_query_value("").unwrap(), Filters::new());
        assert!(Filters::from_query_value("[1]").is_err());
        assert!(Filters::from_query_value(r#"{"a":[1]}"#).is_err());
        assert_eq!(Filters::new().with("name", "x").with("name", "x").get("name"), ["x"]);
    }

    #[test]
    fn labels_are_anded_other_terms_ored() {
        let labels = |pairs: &[(&str, &str)]| pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect::<HashMap<_, _>>();
        let (a, b, ab) = (labels(&[("a", "1")]), labels(&[("b", "")]), labels(&[("a", "1"), ("b", "")]));
        let both = Filters::new().with("label", "a").with("label", "b");
        assert!(!both.matches_labels(&a) && !both.matches_labels(&b) && both.matches_labels(&ab));
        assert!(Filters::new().with("label", "a=1").matches_labels(&a));
        assert!(!Filters::new().with("label", "a=2").matches_labels(&a));
        assert!(Filters::new().matches_labels(&HashMap::new()));
        // `label!`: not all of its terms match.
        let not_a = Filters::new().with("label!", "a");
        assert!(!not_a.matches_labels(&a) && not_a.matches_labels(&b));
        let not_a_b = Filters::new().with("label!", "a").with("label!", "b");
        assert!(not_a_b.matches_labels(&a) && !not_a_b.matches_labels(&ab));

        let status = Filters::new().with("status", "exited").with("status", "created");
        assert!(status.matches_any("status", |s| s == "created") && !status.matches_any("status", |s| s == "running"));
        assert!(status.matches_any("name", |_| false));
        assert_eq!(status.check_keys(&["status"]), Ok(()));
        assert_eq!(status.with("foo", "x").check_keys(&["status"]), Err("Invalid filter 'foo'".to_owned()));
    }
}
