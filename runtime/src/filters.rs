//! Docker's `filters` query parameter, shared by the client (which sends it) and the
//! server side (which parses it).
//!
//! On the wire it is JSON. The spec documents `map[string][]string`
//! (`{"status":["exited"]}`); the daemon's own form, which the Go client sends, is
//! `map[string]map[string]bool` (`{"status":{"exited":true}}`). [`Filters`] sends the
//! documented form and reads both.

use std::collections::BTreeMap;
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

    /// Adds one term (`add("label", "com.example=1")`); repeated terms of a key are ORed
    /// by the daemon, different keys ANDed.
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
}
