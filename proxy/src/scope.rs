//! Visibility scoping by one label: a scoped client sees and touches only the containers,
//! volumes and networks that carry it (and the exec instances of those containers).
//!
//! - Lists, prunes and events get the scope's `label` term added to their `filters`; the
//!   engine ANDs repeated `label` terms, so a client's own filters (a `label!=` too) can
//!   only narrow what it sees.
//! - `system df` is filtered after decoding: its containers and volumes.
//! - Every operation on one object looks it up first, the way the engine will resolve the
//!   name, id or id prefix given, and goes out with the object's full id; an object
//!   without the label answers the engine's own 404, as if it did not exist.
//!
//! Images are not scoped: they are shared by every client of the engine (pulls and builds
//! are judged by the registry rule instead).

use moby_api_runtime::server::{ApiVersion, Query, StatusCode};
use serde_json::{Map, Value};

use crate::classify::Classified;
use crate::config::Scope;
use crate::forward::Upstream;

/// The kinds of object a scope hides.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Container,
    Volume,
    Network,
    Exec,
}

impl Kind {
    /// The kind of object the operation's path parameter names, if it is scoped.
    pub fn of(classified: &Classified) -> Option<(Kind, &'static str)> {
        let template = classified.template;
        let kind = if template.starts_with("/containers/{id}") {
            Kind::Container
        } else if template.starts_with("/volumes/{name}") {
            Kind::Volume
        } else if template.starts_with("/networks/{id}") {
            Kind::Network
        } else if template.starts_with("/exec/{id}") {
            Kind::Exec
        } else {
            return None;
        };
        let param = if kind == Kind::Volume { "name" } else { "id" };
        Some((kind, param))
    }

    fn inspect_path(self, id: &str) -> String {
        let id = moby_api_runtime::path::encode_path_param(id);
        match self {
            Kind::Container => format!("/containers/{id}/json"),
            Kind::Volume => format!("/volumes/{id}"),
            Kind::Network => format!("/networks/{id}"),
            Kind::Exec => format!("/exec/{id}/json"),
        }
    }

    /// The engine's own message for an object that does not exist.
    pub fn not_found(self, id: &str) -> String {
        match self {
            Kind::Container => format!("No such container: {id}"),
            Kind::Volume => format!("get {id}: no such volume"),
            Kind::Network => format!("network {id} not found"),
            Kind::Exec => format!("No such exec instance: {id}"),
        }
    }
}

/// What a look-up found.
pub enum Lookup {
    /// Visible: its full id (the name, for a volume).
    Visible(String),
    /// Not there, or not the client's: answer 404 with this message.
    Hidden(String),
    /// The engine did not answer a look-up: let it answer the request itself.
    Unknown,
}

/// Looks up the object the request names, at the request's version.
pub async fn lookup(upstream: &Upstream, scope: &Scope, version: ApiVersion, kind: Kind, id: &str) -> Lookup {
    let (status, body) = match upstream.get_json(version, &kind.inspect_path(id)).await {
        Ok(answer) => answer,
        Err(_) => return Lookup::Unknown,
    };
    if status == StatusCode::NOT_FOUND {
        return Lookup::Hidden(kind.not_found(id));
    }
    if !status.is_success() {
        return Lookup::Unknown;
    }
    let (labels, full) = match kind {
        Kind::Container => (&body["Config"]["Labels"], body["Id"].as_str()),
        Kind::Volume => (&body["Labels"], body["Name"].as_str()),
        Kind::Network => (&body["Labels"], body["Id"].as_str()),
        Kind::Exec => {
            // An exec instance belongs to its container.
            let Some(container) = body["ContainerID"].as_str() else { return Lookup::Unknown };
            return match Box::pin(lookup(upstream, scope, version, Kind::Container, container)).await {
                Lookup::Visible(_) => Lookup::Visible(body["ID"].as_str().unwrap_or(id).to_owned()),
                Lookup::Hidden(_) => Lookup::Hidden(kind.not_found(id)),
                Lookup::Unknown => Lookup::Unknown,
            };
        }
    };
    if has_label(labels, scope) {
        Lookup::Visible(full.unwrap_or(id).to_owned())
    } else {
        Lookup::Hidden(kind.not_found(id))
    }
}

/// Whether a `Labels` object carries the scope's label.
pub fn has_label(labels: &Value, scope: &Scope) -> bool {
    labels.get(&scope.key).and_then(Value::as_str) == Some(scope.value.as_str())
}

/// The operations whose `filters` get the scope's label term.
pub fn is_filtered_list(operation: &str) -> bool {
    matches!(operation, "ContainerList" | "ContainerPrune" | "VolumeList" | "VolumePrune" | "NetworkList" | "NetworkPrune" | "SystemEvents")
}

/// The query with the scope's `label` term added to `filters` (either form the engine
/// reads: `{"label":["a=b"]}` or `{"label":{"a=b":true}}`); every other pair kept.
pub fn scoped_query(raw: &str, scope: &Scope) -> Result<String, String> {
    let query = Query::parse(raw);
    let mut filters = Map::new();
    if let Some(given) = query.get("filters").filter(|f| !f.trim().is_empty()) {
        let value: Value = serde_json::from_str(given).map_err(|e| format!("invalid filter: {e}"))?;
        let Value::Object(map) = value else { return Err("invalid filter: not an object".to_owned()) };
        for (key, terms) in map {
            let list: Vec<Value> = match terms {
                Value::Array(items) => items,
                Value::Object(set) => {
                    set.into_iter().filter(|(_, on)| on.as_bool() == Some(true)).map(|(term, _)| Value::String(term)).collect()
                }
                _ => return Err(format!("invalid filter: {key:?} is neither a list nor a set")),
            };
            filters.insert(key, Value::Array(list));
        }
    }
    let labels = filters.entry("label").or_insert_with(|| Value::Array(Vec::new()));
    if let Value::Array(list) = labels {
        list.push(Value::String(scope.term()));
    }
    let mut out: Vec<String> =
        query.pairs().filter(|(k, _)| *k != "filters").map(|(k, v)| format!("{}={}", encode(k), encode(v))).collect();
    out.push(format!("filters={}", encode(&Value::Object(filters).to_string())));
    Ok(out.join("&"))
}

/// Percent-encodes a query key or value (everything but unreserved characters).
fn encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// `system df` with only the scope's containers and volumes.
pub fn filter_data_usage(mut body: Value, scope: &Scope) -> Value {
    if let Some(containers) = body.get_mut("Containers").and_then(Value::as_array_mut) {
        containers.retain(|c| has_label(&c["Labels"], scope));
    }
    if let Some(volumes) = body.get_mut("Volumes").and_then(Value::as_array_mut) {
        volumes.retain(|v| has_label(&v["Labels"], scope));
    }
    // 1.42+ nests each kind under `…Usage.Items`.
    for (kind, labels) in [("ContainerUsage", "Labels"), ("VolumeUsage", "Labels")] {
        if let Some(items) = body.get_mut(kind).and_then(|u| u.get_mut("Items")).and_then(Value::as_array_mut) {
            items.retain(|i| has_label(&i[labels], scope));
        }
    }
    body
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scope() -> Scope {
        Scope { key: "owner".into(), value: "ci".into() }
    }

    #[test]
    fn filters_are_narrowed_never_widened() {
        let q = scoped_query("all=1", &scope()).unwrap();
        assert_eq!(Query::parse(&q).get("filters"), Some(r#"{"label":["owner=ci"]}"#));
        assert_eq!(Query::parse(&q).get("all"), Some("1"));
        let q = scoped_query("filters=%7B%22label%22%3A%7B%22owner%3Dbob%22%3Atrue%7D%7D", &scope()).unwrap();
        assert_eq!(Query::parse(&q).get("filters"), Some(r#"{"label":["owner=bob","owner=ci"]}"#));
        let q = scoped_query(r#"filters={"label!":["owner=ci"],"status":["running"]}"#, &scope()).unwrap();
        let filters: Value = serde_json::from_str(Query::parse(&q).get("filters").unwrap()).unwrap();
        assert_eq!(filters["label"], serde_json::json!(["owner=ci"]));
        assert_eq!(filters["label!"], serde_json::json!(["owner=ci"]));
        assert!(scoped_query("filters=%7B", &scope()).is_err());
    }
}
