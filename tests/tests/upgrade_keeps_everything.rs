//! The Swagger 2.0 → OpenAPI 3.0 upgrade loses nothing the specs say, on all 26 real specs:
//! every `x-nullable`, description, enum, default, format and vendor extension survives
//! (counted before and after; a body schema may be repeated per media type, so never fewer).

use std::collections::BTreeMap;

use moby_api_codegen::source::{self, manifest::Manifest, Upstream};
use moby_api_tests::inputs;
use serde_json::Value;

/// `nullable_key` is `x-nullable` in Swagger and `nullable` in OpenAPI 3.0: the upgrade must
/// turn every one of the former into the latter.
fn count(v: &Value, nullable_key: &str, counts: &mut BTreeMap<String, usize>) {
    match v {
        Value::Object(map) => {
            for (k, child) in map {
                let key = match (k.as_str(), child) {
                    (k, Value::Bool(true)) if k == nullable_key => Some("nullable: true".to_string()),
                    ("description" | "enum" | "default" | "format" | "$ref" | "example", _) => Some(k.clone()),
                    (x, _)
                        if x.starts_with("x-")
                            && !matches!(x, "x-produces" | "x-consumes" | "x-collection-format" | "x-body-name" | "x-examples") =>
                    {
                        Some(k.clone())
                    }
                    _ => None,
                };
                if let Some(key) = key {
                    *counts.entry(key).or_default() += 1;
                }
                count(child, nullable_key, counts);
            }
        }
        Value::Array(items) => items.iter().for_each(|i| count(i, nullable_key, counts)),
        _ => {}
    }
}

#[test]
fn nothing_is_lost_in_the_upgrade() {
    let inputs = inputs();
    let upstream = Upstream::open(&inputs.upstream, Manifest::load(&inputs.project_spec.join("manifest.yaml")).unwrap()).unwrap();
    let overlays = source::load_overlays(&inputs.project_spec).unwrap();
    let imports = source::load_imports(&upstream, &overlays).unwrap();
    for v in moby_api_tests::history().versions() {
        let file = source::base_file(v);
        let mut swagger = upstream.docs[&file].clone();
        source::apply_overlays(&mut swagger, &file, v, &overlays, &imports).unwrap();
        let upgraded = source::swagger2::upgrade(&swagger, &file).unwrap();
        let (mut before, mut after) = (BTreeMap::new(), BTreeMap::new());
        count(&swagger, "x-nullable", &mut before);
        count(&upgraded, "nullable", &mut after);
        assert!(before["description"] > 500 && before["nullable: true"] >= 2, "v{v}: {before:?}");
        for (key, n) in &before {
            let m = after.get(key).copied().unwrap_or(0);
            assert!(m >= *n, "v{v}: {key} occurs {n} times in Swagger but {m} times after the upgrade");
        }
        // And the typed model keeps the produces/consumes of every operation.
        let api = source::to_openapi(&swagger, &file).unwrap();
        for (path, item) in &api.paths.paths {
            let item = item.as_item().unwrap();
            for (method, op) in item.iter() {
                assert!(op.extensions.contains_key("x-produces") && op.extensions.contains_key("x-consumes"), "v{v} {method} {path}");
            }
        }
    }
}
