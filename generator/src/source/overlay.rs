//! Project-authored overlays: reviewable JSON-Patch-style edits applied to an upstream Swagger document.
//!
//! Three kinds live in `spec/`: `derive/` (v1.24 made from v1.25), `corrections/` (where the
//! upstream spec disagrees with a real engine, each with its evidence) and `annotations/`
//! (facts the spec cannot express, such as streaming content kinds and Rust names).
//! Every change must say why, and a change whose target is missing is an error, so an
//! overlay never silently stops applying when upstream moves.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::Value;

use crate::diagnostics::{pointer_push, pointer_tokens, Diagnostic, Diagnostics};
use crate::source::manifest::json_pointer_of;
use crate::version::{ApiVersion, VersionSet};

#[derive(Debug, Clone)]
pub struct Overlay {
    /// Label of the overlay file, for diagnostics.
    pub file: String,
    pub title: String,
    pub versions: VersionSet,
    pub changes: Vec<Change>,
}

#[derive(Debug, Clone)]
pub struct Change {
    pub op: Op,
    /// JSON pointer into the upstream (Swagger 2.0) document.
    pub path: String,
    pub value: Option<Value>,
    /// Source of a `move` (a pointer) or of an `import` (`FILE#POINTER`).
    pub from: Option<String>,
    pub why: String,
    pub evidence: Option<String>,
    pub versions: VersionSet,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Op {
    /// Set an object member (new or existing) or insert into an array (`-` appends).
    Add,
    /// Delete a member or array element that must exist.
    Remove,
    /// Overwrite a value that must exist.
    Replace,
    /// RFC 7386 merge patch into an existing object (`null` deletes a member).
    Merge,
    /// Remove the value at `from` and add it at `path`.
    Move,
    /// Copy the value at `from` in another upstream file (`v1.48.yaml#/definitions/X`),
    /// as upstream wrote it, to `path`, which must not exist yet: a later version's
    /// definition of what an earlier one leaves untyped, without copying spec text here.
    Import,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawOverlay {
    title: String,
    #[serde(default)]
    versions: Option<String>,
    changes: Vec<RawChange>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawChange {
    op: Op,
    path: String,
    #[serde(default)]
    value: Option<Value>,
    #[serde(default)]
    from: Option<String>,
    why: String,
    #[serde(default)]
    evidence: Option<String>,
    #[serde(default)]
    versions: Option<String>,
}

impl Overlay {
    pub fn parse(text: &str, file: &str) -> Result<Overlay, Diagnostics> {
        let value = super::yaml::parse(text, file)?;
        let raw: RawOverlay =
            serde_path_to_error::deserialize(value).map_err(|e| Diagnostic::new(file, json_pointer_of(e.path()), e.inner().to_string()))?;
        let mut problems = Diagnostics::default();
        let versions = match raw.versions.as_deref() {
            None => VersionSet::all(),
            Some(text) => VersionSet::parse(text).unwrap_or_else(|e| {
                problems.push(Diagnostic::new(file, "/versions", e));
                VersionSet::EMPTY
            }),
        };
        let mut changes = Vec::with_capacity(raw.changes.len());
        for (i, c) in raw.changes.into_iter().enumerate() {
            let at = format!("/changes/{i}");
            let change_versions = match c.versions.as_deref() {
                None => versions,
                Some(text) => match VersionSet::parse(text) {
                    Ok(v) if v.is_subset(versions) => v,
                    Ok(_) => {
                        problems.push(Diagnostic::new(
                            file,
                            format!("{at}/versions"),
                            "the change's versions must lie within the overlay's versions",
                        ));
                        VersionSet::EMPTY
                    }
                    Err(e) => {
                        problems.push(Diagnostic::new(file, format!("{at}/versions"), e));
                        VersionSet::EMPTY
                    }
                },
            };
            if pointer_tokens(&c.path).is_none() {
                problems.push(Diagnostic::new(file, format!("{at}/path"), format!("`{}` is not a JSON pointer", c.path)));
            }
            let needs_value = matches!(c.op, Op::Add | Op::Replace | Op::Merge);
            if needs_value != c.value.is_some() {
                let msg = if needs_value { "this op needs a `value`" } else { "`remove`, `move` and `import` take no `value`" };
                problems.push(Diagnostic::new(file, at.clone(), msg));
            }
            let from_ok = match c.op {
                Op::Move => c.from.as_deref().is_some_and(|from| pointer_tokens(from).is_some()),
                Op::Import => c.from.as_deref().is_some_and(|from| import_source(from).is_some()),
                _ => c.from.is_none(),
            };
            if !from_ok {
                problems.push(Diagnostic::new(
                    file,
                    at.clone(),
                    "`move` needs a `from` pointer, `import` a `from` of the form `v1.48.yaml#/definitions/X`, and no other op takes one",
                ));
            }
            if c.why.trim().is_empty() {
                problems.push(Diagnostic::new(file, format!("{at}/why"), "every change must say why"));
            }
            changes.push(Change {
                op: c.op,
                path: c.path,
                value: c.value,
                from: c.from,
                why: c.why,
                evidence: c.evidence,
                versions: change_versions,
            });
        }
        problems.into_result(Overlay { file: file.to_string(), title: raw.title, versions, changes })
    }

    /// Applies the changes meant for `version` to `doc`; `doc_file` labels the document in errors.
    /// `imports` holds the upstream files that `import` changes copy from.
    pub fn apply(&self, doc: &mut Value, version: ApiVersion, doc_file: &str, imports: &Imports) -> Result<(), Diagnostics> {
        let mut problems = Diagnostics::default();
        for (i, change) in self.changes.iter().enumerate() {
            if !change.versions.contains(version) {
                continue;
            }
            if let Err(msg) = apply_change(doc, change, imports) {
                problems.push(Diagnostic::new(
                    &self.file,
                    format!("/changes/{i}"),
                    format!("cannot {} {}#{} (v{version}): {msg}", change.op.name(), doc_file, change.path),
                ));
            }
        }
        problems.into_result(())
    }
}

impl Op {
    pub fn name(self) -> &'static str {
        match self {
            Op::Add => "add",
            Op::Remove => "remove",
            Op::Replace => "replace",
            Op::Merge => "merge",
            Op::Move => "move",
            Op::Import => "import",
        }
    }
}

/// The upstream files that `import` changes copy from, each parsed once and as upstream
/// wrote it (no overlays applied).
#[derive(Debug, Default)]
pub struct Imports {
    docs: BTreeMap<String, Value>,
}

impl Imports {
    pub fn new(docs: BTreeMap<String, Value>) -> Imports {
        Imports { docs }
    }

    /// The files the `import` changes of `overlays` name, each with the first overlay file
    /// that names it (for errors).
    pub fn files(overlays: &[Overlay]) -> BTreeMap<&str, &str> {
        let mut files = BTreeMap::new();
        for overlay in overlays {
            for change in overlay.changes.iter().filter(|c| c.op == Op::Import) {
                if let Some((file, _)) = change.from.as_deref().and_then(import_source) {
                    files.entry(file).or_insert(overlay.file.as_str());
                }
            }
        }
        files
    }

    fn value(&self, from: &str) -> Result<Value, String> {
        let (file, pointer) = import_source(from).ok_or_else(|| format!("`from` {from} is not FILE#POINTER"))?;
        let doc = self.docs.get(file).ok_or_else(|| format!("{file} was not loaded for imports"))?;
        lookup(doc, pointer).cloned().ok_or_else(|| format!("{file}#{pointer} does not exist"))
    }
}

/// Splits an import's `from` into the upstream file and the pointer in it.
fn import_source(from: &str) -> Option<(&str, &str)> {
    let (file, pointer) = from.split_once('#')?;
    let is_spec = file.starts_with('v') && file.ends_with(".yaml") && !file.contains('/');
    (is_spec && pointer_tokens(pointer).is_some()).then_some((file, pointer))
}

fn apply_change(doc: &mut Value, change: &Change, imports: &Imports) -> Result<(), String> {
    if change.op == Op::Import {
        if lookup(doc, &change.path).is_some() {
            return Err("it already exists; an import only adds what the version lacks".into());
        }
        let value = imports.value(change.from.as_deref().unwrap_or_default())?;
        return apply_change(doc, &Change { op: Op::Add, value: Some(value), from: None, ..change.clone() }, imports);
    }
    if change.op == Op::Move {
        let from = change.from.as_deref().unwrap_or_default();
        let moved = lookup(doc, from).cloned().ok_or_else(|| format!("`from` {from} does not exist"))?;
        let step = |op, path: &str, value| Change {
            op,
            path: path.to_string(),
            value,
            from: None,
            why: String::new(),
            evidence: None,
            versions: change.versions,
        };
        apply_change(doc, &step(Op::Remove, from, None), imports)?;
        return apply_change(doc, &step(Op::Add, &change.path, Some(moved)), imports);
    }
    let tokens = pointer_tokens(&change.path).ok_or("not a JSON pointer")?;
    let Some((last, parents)) = tokens.split_last() else {
        return match change.op {
            Op::Replace => {
                *doc = change.value.clone().unwrap_or(Value::Null);
                Ok(())
            }
            Op::Merge => {
                merge_patch(doc, change.value.as_ref().unwrap_or(&Value::Null));
                Ok(())
            }
            _ => Err("cannot add or remove the whole document".into()),
        };
    };
    let mut parent = &mut *doc;
    let mut walked = String::new();
    for t in parents {
        walked = pointer_push(&walked, t);
        parent = child_mut(parent, t).ok_or_else(|| format!("{walked} does not exist"))?;
    }
    let value = || change.value.clone().unwrap_or(Value::Null);
    match (change.op, parent) {
        (Op::Add, Value::Object(map)) => {
            map.insert(last.clone(), value());
        }
        (Op::Add, Value::Array(items)) => {
            if last == "-" {
                items.push(value());
            } else {
                let i = array_index(last, items, items.len() + 1)?;
                items.insert(i, value());
            }
        }
        (Op::Remove, Value::Object(map)) => {
            map.shift_remove(last).ok_or_else(|| format!("member `{last}` does not exist"))?;
        }
        (Op::Remove, Value::Array(items)) => {
            let i = array_index(last, items, items.len())?;
            items.remove(i);
        }
        (Op::Replace | Op::Merge, parent) => {
            let target = child_mut(parent, last).ok_or_else(|| format!("`{last}` does not exist"))?;
            if change.op == Op::Replace {
                *target = value();
            } else {
                if !target.is_object() {
                    return Err("merge target is not an object".into());
                }
                merge_patch(target, change.value.as_ref().unwrap_or(&Value::Null));
            }
        }
        (_, other) => return Err(format!("parent is a {}, not an object or array", kind_of(other))),
    }
    Ok(())
}

/// The value at `pointer` (members by name, array elements as in [`array_index`]).
fn lookup<'a>(doc: &'a Value, pointer: &str) -> Option<&'a Value> {
    let mut v = doc;
    for t in pointer_tokens(pointer)? {
        v = match v {
            Value::Object(map) => map.get(&t)?,
            Value::Array(items) => items.get(array_index(&t, items, items.len()).ok()?)?,
            _ => return None,
        };
    }
    Some(v)
}

fn child_mut<'a>(v: &'a mut Value, token: &str) -> Option<&'a mut Value> {
    match v {
        Value::Object(map) => map.get_mut(token),
        Value::Array(items) => {
            let i = array_index(token, items, items.len()).ok()?;
            items.get_mut(i)
        }
        _ => None,
    }
}

/// An array position: a number, or `[key=value]` for the element whose member `key` is the
/// string `value`. Parameters move between versions, so overlays name them:
/// `/paths/~1build/post/parameters/[name=buildargs]`.
fn array_index(token: &str, items: &[Value], limit: usize) -> Result<usize, String> {
    if let Some((key, value)) = token.strip_prefix('[').and_then(|t| t.strip_suffix(']')).and_then(|t| t.split_once('=')) {
        let mut found = items.iter().enumerate().filter(|(_, v)| v.get(key).and_then(Value::as_str) == Some(value));
        return match (found.next(), found.next()) {
            (Some((i, _)), None) => Ok(i),
            (None, _) => Err(format!("no element has {key} = `{value}`")),
            (Some(_), Some(_)) => Err(format!("more than one element has {key} = `{value}`")),
        };
    }
    match token.parse::<usize>() {
        Ok(i) if i < limit => Ok(i),
        _ => Err(format!("`{token}` is not an index of this array (length {})", items.len())),
    }
}

fn kind_of(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// RFC 7386 JSON merge patch.
fn merge_patch(target: &mut Value, patch: &Value) {
    let Value::Object(patch) = patch else {
        *target = patch.clone();
        return;
    };
    if !target.is_object() {
        *target = Value::Object(Default::default());
    }
    let Value::Object(map) = target else { return };
    for (k, v) in patch {
        if v.is_null() {
            map.shift_remove(k);
        } else {
            merge_patch(map.entry(k.clone()).or_insert(Value::Null), v);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn overlay(text: &str) -> Overlay {
        Overlay::parse(text, "o.yaml").unwrap()
    }

    #[test]
    fn applies_ops_in_order() {
        let o = overlay(
            r#"
title: t
changes:
  - {op: remove, path: /paths/~1a, why: gone}
  - {op: add, path: /definitions/X/properties/B, value: {type: string}, why: new}
  - {op: replace, path: /definitions/X/type, value: object, why: fix}
  - {op: merge, path: /definitions/X, value: {x-nullable: true, description: null}, why: m}
  - {op: move, from: /definitions/X/properties/A, path: /definitions/X/properties/C, why: mv}
"#,
        );
        let mut doc =
            json!({"paths": {"/a": {}, "/b": {}}, "definitions": {"X": {"type": "obj", "description": "d", "properties": {"A": {}}}}});
        o.apply(&mut doc, ApiVersion::new(41), "doc.yaml", &Imports::default()).unwrap();
        assert_eq!(
            doc,
            json!({"paths": {"/b": {}}, "definitions": {"X": {"type": "object", "properties": {"B": {"type": "string"}, "C": {}}, "x-nullable": true}}})
        );
    }

    #[test]
    fn array_elements_by_member() {
        let o = overlay("title: t\nchanges:\n  - {op: merge, path: '/p/[name=b]', value: {type: string}, why: w}\n  - {op: remove, path: '/p/[name=a]', why: w}\n");
        let mut doc = json!({"p": [{"name": "a"}, {"name": "b", "type": "integer"}]});
        o.apply(&mut doc, ApiVersion::new(30), "d", &Imports::default()).unwrap();
        assert_eq!(doc, json!({"p": [{"name": "b", "type": "string"}]}));
    }

    #[test]
    fn missing_targets_are_located_errors() {
        let o = overlay("title: t\nchanges:\n  - {op: remove, path: /paths/~1nope, why: w}\n");
        let err = o.apply(&mut json!({"paths": {}}), ApiVersion::new(30), "v1.30.yaml", &Imports::default()).unwrap_err();
        assert_eq!(err.0[0].file, "o.yaml");
        assert_eq!(err.0[0].pointer, "/changes/0");
        assert!(err.0[0].message.contains("cannot remove v1.30.yaml#/paths/~1nope"), "{}", err.0[0].message);
    }

    #[test]
    fn imports_copy_from_another_upstream_file() {
        let imports = Imports::new(BTreeMap::from([(
            "v1.48.yaml".to_owned(),
            json!({"definitions": {"Stats": {"type": "object", "properties": {"cpu": {"$ref": "#/definitions/Cpu"}}}}}),
        )]));
        let o = overlay("title: t\nchanges:\n  - {op: import, path: /definitions/Stats, from: 'v1.48.yaml#/definitions/Stats', why: w}\n");
        assert_eq!(Imports::files(std::slice::from_ref(&o)), BTreeMap::from([("v1.48.yaml", "o.yaml")]));
        let mut doc = json!({"definitions": {}});
        o.apply(&mut doc, ApiVersion::new(41), "v1.41.yaml", &imports).unwrap();
        assert_eq!(doc["definitions"]["Stats"]["properties"]["cpu"], json!({"$ref": "#/definitions/Cpu"}));
        // Only what the version lacks: a second import of the same definition is an error.
        let err = o.apply(&mut doc, ApiVersion::new(41), "v1.41.yaml", &imports).unwrap_err();
        assert!(
            err.0[0].message.contains("cannot import v1.41.yaml#/definitions/Stats (v1.41): it already exists"),
            "{}",
            err.0[0].message
        );
        let missing = overlay("title: t\nchanges:\n  - {op: import, path: /definitions/X, from: 'v1.48.yaml#/definitions/X', why: w}\n");
        let err = missing.apply(&mut json!({"definitions": {}}), ApiVersion::new(41), "v1.41.yaml", &imports).unwrap_err();
        assert!(err.0[0].message.ends_with("v1.48.yaml#/definitions/X does not exist"), "{}", err.0[0].message);
        let unloaded = overlay("title: t\nchanges:\n  - {op: import, path: /definitions/X, from: 'v1.47.yaml#/definitions/X', why: w}\n");
        let err = unloaded.apply(&mut json!({"definitions": {}}), ApiVersion::new(41), "v1.41.yaml", &imports).unwrap_err();
        assert!(err.0[0].message.ends_with("v1.47.yaml was not loaded for imports"), "{}", err.0[0].message);
        for bad in ["'/definitions/X'", "'../v1.48.yaml#/definitions/X'", "'v1.48.yaml#definitions'"] {
            let text = format!("title: t\nchanges:\n  - {{op: import, path: /definitions/X, from: {bad}, why: w}}\n");
            let err = Overlay::parse(&text, "b.yaml").unwrap_err();
            assert_eq!(err.0[0].pointer, "/changes/0", "{bad}");
            assert!(err.0[0].message.contains("`import` a `from` of the form"), "{bad}: {}", err.0[0].message);
        }
    }

    #[test]
    fn version_filters_and_validation() {
        let o = overlay("title: t\nversions: 1.25..=1.30\nchanges:\n  - {op: remove, path: /a, why: w, versions: '1.30'}\n");
        let mut doc = json!({"a": 1});
        o.apply(&mut doc, ApiVersion::new(29), "d", &Imports::default()).unwrap();
        assert_eq!(doc, json!({"a": 1}));
        o.apply(&mut doc, ApiVersion::new(30), "d", &Imports::default()).unwrap();
        assert_eq!(doc, json!({}));
        let bad =
            Overlay::parse("title: t\nversions: 1.25..=1.30\nchanges:\n  - {op: add, path: x, why: '', versions: '1.31'}\n", "b.yaml")
                .unwrap_err();
        let pointers: Vec<_> = bad.0.iter().map(|d| d.pointer.as_str()).collect();
        assert_eq!(pointers, ["/changes/0/versions", "/changes/0/path", "/changes/0", "/changes/0/why"]);
    }
}
