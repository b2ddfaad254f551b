//! Real responses of a Docker Engine 20.10 (API 1.41), captured at every version it accepts
//! from 1.24 to 1.41 by tests/engine/capture-fixtures.sh, read with each version's models.
//!
//! Every body must deserialize, and encoding it again must keep every member. Members the
//! model does not define (the engine is newer than old specs; the models keep them as sent)
//! are listed in a snapshot, so a spec error shows up as a reviewable diff and is fixed in
//! spec/corrections.

use std::collections::BTreeMap;
use std::path::Path;

use moby_api_codegen::ir::{ApiSpec, Status, TypeExpr, TypeKind};
use moby_api_codegen::ApiVersion;
use serde_json::Value;

type Roundtrip = fn(&str, u16, &Value) -> Option<Result<Value, serde_json::Error>>;

fn roundtrip_of(v: ApiVersion) -> Roundtrip {
    macro_rules! versions {
        ($($m:ident = $n:literal),*) => {
            match v.minor {
                $($n => moby_api::$m::roundtrip::response,)*
                other => panic!("no fixtures are expected for 1.{other}"),
            }
        };
    }
    versions!(
        v1_24 = 24,
        v1_25 = 25,
        v1_26 = 26,
        v1_27 = 27,
        v1_28 = 28,
        v1_29 = 29,
        v1_30 = 30,
        v1_31 = 31,
        v1_32 = 32,
        v1_33 = 33,
        v1_34 = 34,
        v1_35 = 35,
        v1_36 = 36,
        v1_37 = 37,
        v1_38 = 38,
        v1_39 = 39,
        v1_40 = 40,
        v1_41 = 41
    )
}

/// Compares what was sent with what the typed model wrote back, guided by the IR type.
struct Compare<'a> {
    spec: &'a ApiSpec,
    lost: Vec<String>,
    unknown: Vec<String>,
}

fn is_empty_like(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::Array(a) => a.is_empty(),
        Value::Object(o) => o.is_empty(),
        _ => false,
    }
}

impl Compare<'_> {
    fn value(&mut self, at: &str, ty: &TypeExpr, sent: &Value, kept: Option<&Value>) {
        // The engine's `null` and an absent member mean the same; the model may write either
        // (or an empty collection for a required one).
        if sent.is_null() {
            if kept.is_some_and(|k| !is_empty_like(k)) {
                self.lost.push(format!("{at}: null became {}", kept.unwrap()));
            }
            return;
        }
        let Some(kept) = kept else {
            self.lost.push(format!("{at}: dropped"));
            return;
        };
        match ty {
            TypeExpr::Named(id) => match &self.spec.ty(*id).kind {
                TypeKind::Struct { fields, rest } => {
                    let (Value::Object(sent), Value::Object(kept)) = (sent, kept) else {
                        self.lost.push(format!("{at}: expected objects, got {sent} / {kept}"));
                        return;
                    };
                    for (k, v) in sent {
                        let here = format!("{at}.{k}");
                        match (fields.iter().find(|f| &f.wire_name == k), &rest.declared) {
                            (Some(f), _) => self.value(&here, &f.ty, v, kept.get(k)),
                            (None, Some(extra)) => self.value(&here, extra, v, kept.get(k)),
                            (None, None) => {
                                // Kept by the decoding policy, as sent.
                                self.unknown.push(self.spec.ty(*id).name.clone() + "." + k);
                                if kept.get(k) != Some(v) {
                                    self.lost.push(format!("{here}: unknown member not kept as sent"));
                                }
                            }
                        }
                    }
                }
                TypeKind::Enum { .. } => self.scalar(at, sent, kept),
                TypeKind::Alias(t) => self.value(at, t, sent, Some(kept)),
            },
            TypeExpr::Array(item) => match (sent, kept) {
                (Value::Array(s), Value::Array(k)) if s.len() == k.len() => {
                    for (i, (s, k)) in s.iter().zip(k).enumerate() {
                        self.value(&format!("{at}[{i}]"), item, s, Some(k));
                    }
                }
                _ => self.lost.push(format!("{at}: array changed")),
            },
            TypeExpr::Map(item) => match (sent, kept) {
                (Value::Object(s), Value::Object(k)) => {
                    for (key, s) in s {
                        self.value(&format!("{at}[{key:?}]"), item, s, k.get(key));
                    }
                }
                _ => self.lost.push(format!("{at}: map changed")),
            },
            TypeExpr::Nullable(t) => self.value(at, t, sent, Some(kept)),
            TypeExpr::Scalar(_) | TypeExpr::Any => self.scalar(at, sent, kept),
        }
    }

    fn scalar(&mut self, at: &str, sent: &Value, kept: &Value) {
        let same = match (sent, kept) {
            (Value::Number(a), Value::Number(b)) => a == b || a.as_f64() == b.as_f64(),
            _ => sent == kept,
        };
        if !same {
            self.lost.push(format!("{at}: {sent} became {kept}"));
        }
    }
}

/// `ContainerStatsStream.jsonl` holds ContainerStats lines; every other file is named after its operation.
fn operation_of(file: &Path) -> Option<(String, bool)> {
    let stem = file.file_stem()?.to_str()?;
    let lines = file.extension()? == "jsonl";
    if file.extension()? == "txt" {
        return None;
    }
    Some((stem.strip_suffix("Stream").unwrap_or(stem).to_string(), lines))
}

#[test]
fn every_fixture_reads_into_its_versions_model_and_keeps_every_known_field() {
    let history = moby_api_tests::history();
    let dir = moby_api_tests::root().join("tests/fixtures/engine");
    let mut failures = Vec::new();
    let mut unknown: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut bodies = 0;
    for v in history.versions().filter(|v| v.minor <= 41) {
        let spec = history.spec(v).unwrap();
        let roundtrip = roundtrip_of(v);
        let mut files: Vec<_> = std::fs::read_dir(dir.join(format!("v{v}")))
            .unwrap_or_else(|e| panic!("fixtures for {v}: {e}"))
            .map(|e| e.unwrap().path())
            .collect();
        files.sort();
        assert!(files.len() >= 17, "v{v} has only {} fixtures", files.len());
        for file in files {
            let Some((op, lines)) = operation_of(&file) else { continue };
            let label = format!("v{v}/{}", file.file_name().unwrap().to_string_lossy());
            let text = std::fs::read_to_string(&file).unwrap();
            let docs: Vec<Value> = if lines {
                text.lines().filter(|l| !l.trim().is_empty()).map(|l| serde_json::from_str(l).unwrap()).collect()
            } else {
                vec![serde_json::from_str(&text).unwrap()]
            };
            let Some(ty) =
                spec.operation(&op).and_then(|o| o.responses.iter().find(|r| r.status == Status::Code(200))).and_then(|r| r.ty.clone())
            else {
                failures.push(format!("{label}: {op} has no typed 200 response in v{v}"));
                continue;
            };
            for (i, doc) in docs.iter().enumerate() {
                bodies += 1;
                match roundtrip(&op, 200, doc) {
                    None => failures.push(format!("{label}: no roundtrip for {op}")),
                    Some(Err(e)) => failures.push(format!("{label} line {i}: does not deserialize: {e}")),
                    Some(Ok(kept)) => {
                        let mut c = Compare { spec, lost: Vec::new(), unknown: Vec::new() };
                        c.value("$", &ty, doc, Some(&kept));
                        failures.extend(c.lost.into_iter().map(|l| format!("{label} line {i}: {l}")));
                        let entry = unknown.entry(format!("v{v} {op}")).or_default();
                        entry.extend(c.unknown);
                        entry.sort();
                        entry.dedup();
                    }
                }
            }
        }
    }
    assert!(failures.is_empty(), "{} problems:\n{}", failures.len(), failures.join("\n"));
    assert!(bodies > 300, "only {bodies} bodies were read");
    unknown.retain(|_, v| !v.is_empty());
    insta::assert_yaml_snapshot!("members_the_specs_do_not_know", unknown);
}
