//! Real answers of every engine in spec/engines.yaml (20.10 and 28.5.2), captured at every
//! version each serves by tests/engine/capture-fixtures.sh into
//! `tests/fixtures/engine/<engine>/v1.XX/`, read with that version's models.
//!
//! Every JSON body (and every line of a JSON-lines one) goes through the version's
//! `roundtrip::response` with the status the engine answered: it must decode, and encoding
//! it again must give back every member that was sent. Members the version's models do not
//! define (the engine is newer than the spec, or the spec forgot them) are found by walking
//! each body against the version's IR types, and listed per engine, file and JSON path, with
//! the versions where they occur, in a snapshot: a spec error shows up as a reviewable diff
//! and is fixed in spec/corrections.

use std::collections::BTreeMap;
use std::path::Path;

use moby_api_codegen::engines::Engine;
use moby_api_codegen::ir::{ApiSpec, Status, TypeExpr, TypeKind};
use moby_api_codegen::version::VersionSet;
use moby_api_codegen::ApiVersion;
use serde_json::Value;

type Roundtrip = fn(&str, u16, &Value) -> Option<Result<Value, serde_json::Error>>;

fn roundtrip_of(v: ApiVersion) -> Roundtrip {
    macro_rules! versions {
        ($($m:ident = $n:literal),*) => {
            match v.minor {
                $($n => moby_api::$m::roundtrip::response,)*
                other => panic!("the tests crate does not enable moby-api's v1_{other}"),
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
        v1_41 = 41,
        v1_42 = 42,
        v1_43 = 43,
        v1_44 = 44,
        v1_45 = 45,
        v1_46 = 46,
        v1_47 = 47,
        v1_48 = 48,
        v1_49 = 49,
        v1_50 = 50,
        v1_51 = 51
    )
}

/// `ContainerWait.failed-start.409.json` → operation `ContainerWait`, status 409; no status
/// means 200. `None` for what is not JSON (`SystemPing.txt`).
struct Fixture {
    operation: String,
    status: u16,
    lines: bool,
}

fn fixture_of(file: &Path) -> Option<Fixture> {
    let name = file.file_name()?.to_str()?;
    let (stem, ext) = name.rsplit_once('.')?;
    let lines = match ext {
        "json" => false,
        "jsonl" => true,
        _ => return None,
    };
    let mut parts = stem.split('.');
    let operation = parts.next()?.to_string();
    let status = parts.next_back().and_then(|last| last.parse().ok()).unwrap_or(200);
    Some(Fixture { operation, status, lines })
}

/// What a body holds that the model of its version does not define, and what decoding and
/// encoding it again lost; guided by the IR type. Paths read `$.NetworkSettings.Networks{}.GwPriority`:
/// map values are `{}` and array items `[]`, so a member has one path whatever the names
/// and counts of a capture.
struct Walk<'a> {
    spec: &'a ApiSpec,
    /// JSON paths of members no model type defines.
    unknown: Vec<String>,
    /// Members sent but not written back, or written back changed.
    lost: Vec<String>,
}

fn is_empty_like(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::Array(a) => a.is_empty(),
        Value::Object(o) => o.is_empty(),
        _ => false,
    }
}

fn same_scalar(sent: &Value, kept: &Value) -> bool {
    match (sent, kept) {
        (Value::Number(a), Value::Number(b)) => a == b || a.as_f64() == b.as_f64(),
        _ => sent == kept,
    }
}

impl Walk<'_> {
    fn value(&mut self, at: &str, ty: &TypeExpr, sent: &Value, kept: Option<&Value>) {
        // The engine's `null` and an absent member mean the same; the model may write either
        // (or an empty collection, or a default where the member is required).
        if sent.is_null() {
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
                                self.unknown.push(here.clone());
                                match kept.get(k) {
                                    None if !v.is_null() => self.lost.push(format!("{here}: not defined by the model, dropped")),
                                    kept => self.untyped(&here, v, kept),
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
                    for (s, k) in s.iter().zip(k) {
                        self.value(&format!("{at}[]"), item, s, Some(k));
                    }
                }
                _ => self.lost.push(format!("{at}: array changed")),
            },
            TypeExpr::Map(item) => match (sent, kept) {
                (Value::Object(s), Value::Object(k)) => {
                    for (key, s) in s {
                        self.value(&format!("{at}{{}}"), item, s, k.get(key));
                    }
                }
                _ => self.lost.push(format!("{at}: map changed")),
            },
            TypeExpr::Nullable(t) => self.value(at, t, sent, Some(kept)),
            TypeExpr::Scalar(_) => self.scalar(at, sent, kept),
            TypeExpr::Any => self.untyped(at, sent, Some(kept)),
        }
    }

    /// A value no type describes must come back as it was sent.
    fn untyped(&mut self, at: &str, sent: &Value, kept: Option<&Value>) {
        match kept {
            None if sent.is_null() => {}
            None => self.lost.push(format!("{at}: dropped")),
            Some(kept) if !equal_json(sent, kept) => self.lost.push(format!("{at}: {sent} became {kept}")),
            Some(_) => {}
        }
    }

    fn scalar(&mut self, at: &str, sent: &Value, kept: &Value) {
        if !same_scalar(sent, kept) {
            self.lost.push(format!("{at}: {sent} became {kept}"));
        }
    }
}

/// Equal as JSON, numbers by value; `null` and an absent member are the same.
fn equal_json(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Object(a), Value::Object(b)) => {
            let keys = a.keys().chain(b.keys());
            keys.into_iter().all(|k| equal_json(a.get(k).unwrap_or(&Value::Null), b.get(k).unwrap_or(&Value::Null)))
        }
        (Value::Array(a), Value::Array(b)) => a.len() == b.len() && a.iter().zip(b).all(|(a, b)| equal_json(a, b)),
        _ => same_scalar(a, b) || (is_empty_like(a) && is_empty_like(b)),
    }
}

/// The model of the answer: the type the spec gives the status, else, for an error status
/// it does not list, the error model (as `roundtrip::response` decodes it).
fn answer_type(spec: &ApiSpec, operation: &str, status: u16) -> Result<TypeExpr, String> {
    let op = spec.operation(operation).ok_or_else(|| format!("{operation} is not an operation of {}", spec.version))?;
    let listed = op.responses.iter().find(|r| r.status == Status::Code(status));
    match listed {
        Some(r) => r.ty.clone().ok_or_else(|| format!("{operation} {status} has no body type in {}", spec.version)),
        None if status >= 400 => spec
            .type_named("ErrorResponse")
            .map(|(id, _)| TypeExpr::Named(id))
            .ok_or_else(|| format!("{} has no ErrorResponse", spec.version)),
        None => Err(format!("{operation} does not answer {status} in {}", spec.version)),
    }
}

#[test]
fn every_fixture_of_every_engine_decodes_with_its_versions_models_and_keeps_every_member() {
    let history = moby_api_tests::history();
    let engines = moby_api_codegen::engines::load(&moby_api_tests::root().join("spec")).expect("spec/engines.yaml");
    let mut failures = Vec::new();
    // "engine file path" → the versions where the member occurs.
    let mut unknown: BTreeMap<String, VersionSet> = BTreeMap::new();
    let mut bodies = 0;
    let mut not_generated = Vec::new();
    for engine in &engines {
        let dir = moby_api_tests::root().join("tests/fixtures/engine").join(&engine.name);
        let captured = captured_versions(engine, &dir, &mut not_generated);
        assert_eq!(
            captured,
            engine.fixtures,
            "Engine {}: the versions in {} are not those spec/engines.yaml says were captured",
            engine.name,
            dir.display()
        );
        for v in engine.fixtures.iter() {
            let spec = history.spec(v).unwrap();
            let roundtrip = roundtrip_of(v);
            let mut files: Vec<_> = std::fs::read_dir(dir.join(format!("v{v}"))).unwrap().map(|e| e.unwrap().path()).collect();
            files.sort();
            for file in files {
                let Some(fixture) = fixture_of(&file) else { continue };
                let label = format!("{} v{v}/{}", engine.name, file.file_name().unwrap().to_string_lossy());
                // Byte for byte: what the engine sent, however it is laid out.
                let bytes = std::fs::read(&file).unwrap();
                let docs: Vec<Value> = if fixture.lines {
                    bytes.split(|b| *b == b'\n').filter(|l| !l.is_empty()).map(|l| serde_json::from_slice(l).unwrap()).collect()
                } else {
                    vec![serde_json::from_slice(&bytes).unwrap_or_else(|e| panic!("{label}: not JSON: {e}"))]
                };
                let ty = match answer_type(spec, &fixture.operation, fixture.status) {
                    Ok(ty) => ty,
                    Err(e) => {
                        failures.push(format!("{label}: {e}"));
                        continue;
                    }
                };
                for (i, doc) in docs.iter().enumerate() {
                    bodies += 1;
                    let at = if fixture.lines { format!("{label} line {}", i + 1) } else { label.clone() };
                    // What the models do not define, whether the body decodes or not: the body
                    // against itself loses nothing.
                    let mut walk = Walk { spec, unknown: Vec::new(), lost: Vec::new() };
                    walk.value("$", &ty, doc, Some(doc));
                    let file = file.file_name().unwrap().to_string_lossy();
                    for path in walk.unknown {
                        unknown.entry(format!("{} {file} {path}", engine.name)).or_default().insert(v);
                    }
                    match roundtrip(&fixture.operation, fixture.status, doc) {
                        None => failures.push(format!("{at}: roundtrip::response has no arm for {} {}", fixture.operation, fixture.status)),
                        Some(Err(e)) => failures.push(format!("{at}: DOES NOT DECODE: {e}")),
                        Some(Ok(kept)) => {
                            let mut walk = Walk { spec, unknown: Vec::new(), lost: Vec::new() };
                            walk.value("$", &ty, doc, Some(&kept));
                            failures.extend(walk.lost.into_iter().map(|l| format!("{at}: {l}")));
                        }
                    }
                }
            }
        }
    }
    if !not_generated.is_empty() {
        println!("captured, but not read (the generator has no such version yet): {}", not_generated.join(", "));
    }
    assert!(bodies > 1000, "only {bodies} bodies were read");
    // Listed before the snapshot is compared, so that both show in one run.
    for failure in &failures {
        eprintln!("{failure}");
    }
    let unknown: BTreeMap<String, String> = unknown.into_iter().map(|(k, v)| (k, v.to_string())).collect();
    insta::assert_yaml_snapshot!("members_the_models_do_not_define", unknown);
    assert!(failures.is_empty(), "{} problems (listed above)", failures.len());
}

/// The versions captured in an engine's directory that the generator has; those it has
/// not (yet) are noted in `not_generated`.
fn captured_versions(engine: &Engine, dir: &Path, not_generated: &mut Vec<String>) -> VersionSet {
    let mut set = VersionSet::EMPTY;
    let entries = std::fs::read_dir(dir).unwrap_or_else(|e| panic!("Engine {}: {}: {e}", engine.name, dir.display()));
    for entry in entries {
        let name = entry.unwrap().file_name().to_string_lossy().into_owned();
        let Some(version) = name.strip_prefix('v') else { continue };
        match ApiVersion::parse(version) {
            Some(v) => set.insert(v),
            None => not_generated.push(format!("{} {name}", engine.name)),
        }
    }
    set
}
