//! Bad input gives located errors (file and JSON pointer), never a panic.

use moby_api_codegen::pipeline::build_from_text;
use moby_api_codegen::{ApiVersion, Diagnostics};

fn errors(yaml: &str) -> Diagnostics {
    build_from_text(yaml, "bad.yaml", ApiVersion::new(41), &[]).expect_err("the spec is malformed")
}

fn assert_located(d: &Diagnostics, pointer: &str, words: &str) {
    assert!(
        d.0.iter().any(|e| e.file == "bad.yaml" && e.pointer == pointer && e.message.contains(words)),
        "expected an error at {pointer} mentioning {words:?}, got:\n{d}"
    );
}

const HEAD: &str = "swagger: '2.0'\ninfo: {title: t, version: '1'}\n";

#[test]
fn missing_reference_target() {
    let d = errors(&format!(
        "{HEAD}paths: {{}}\ndefinitions:\n  A:\n    type: object\n    properties:\n      B: {{$ref: '#/definitions/Nope'}}\n"
    ));
    assert_located(&d, "/definitions/A/properties/B/$ref", "`#/components/schemas/Nope` does not resolve");
}

#[test]
fn wrong_types() {
    let d = errors(&format!("{HEAD}paths: {{}}\ndefinitions:\n  A:\n    type: object\n    properties: 7\n"));
    assert_located(&d, "/definitions/A/properties", "`properties` must be an object");
    let d = errors(&format!(
        "{HEAD}paths: {{}}\ndefinitions:\n  A:\n    type: object\n    required: yes-please\n    properties: {{X: {{type: string}}}}\n"
    ));
    assert!(d.0[0].pointer.starts_with("/definitions/A"), "{d}");
    let d = errors(&format!("{HEAD}paths: {{}}\ndefinitions:\n  A: {{type: [array, string]}}\n"));
    assert_located(&d, "/definitions/A/type", "must be one string");
    let d = errors(&format!("{HEAD}paths: {{}}\ndefinitions:\n  A: {{type: tuple}}\n"));
    assert_located(&d, "/definitions/A/type", "unknown type `tuple`");
}

#[test]
fn all_of_cycle() {
    let d = errors(&format!("{HEAD}paths: {{}}\ndefinitions:\n  A: {{allOf: [{{$ref: '#/definitions/B'}}]}}\n  B: {{allOf: [{{$ref: '#/definitions/A'}}, {{properties: {{x: {{type: string}}}}}}]}}\n"));
    assert!(d.0.iter().any(|e| e.message.contains("`allOf` cycle")), "{d}");
}

#[test]
fn recursive_values_are_boxed_not_rejected() {
    let spec = build_from_text(
        &format!("{HEAD}paths: {{}}\ndefinitions:\n  Tree:\n    type: object\n    properties:\n      Left: {{$ref: '#/definitions/Tree'}}\n      Children: {{type: array, items: {{$ref: '#/definitions/Tree'}}}}\n"),
        "ok.yaml",
        ApiVersion::new(41),
        &[],
    )
    .unwrap();
    let code = moby_api_codegen::emit::standalone_module(spec).unwrap();
    assert!(code.contains("pub left: Option<Box<Tree>>"), "{code}");
    assert!(code.contains("pub children: Option<Vec<Tree>>"), "{code}");
}

#[test]
fn duplicate_operation_ids() {
    let op = "{operationId: Same, responses: {200: {description: ok}}}";
    let d = errors(&format!("{HEAD}paths:\n  /a: {{get: {op}}}\n  /b: {{post: {op}}}\ndefinitions: {{}}\n"));
    assert_located(&d, "/paths/~1b/post/operationId", "duplicate operationId `Same` (also at /paths/~1a/get)");
}

#[test]
fn undeclared_path_parameter_and_undefined_required_property() {
    let d = errors(&format!(
        "{HEAD}paths:\n  /c/{{id}}: {{get: {{operationId: G, responses: {{200: {{description: ok}}}}}}}}\ndefinitions:\n  A: {{type: object, required: [Gone], properties: {{X: {{type: string}}}}}}\n"
    ));
    assert_located(&d, "/paths/~1c~1{id}/get", "path parameter `id`");
    assert_located(&d, "/definitions/A/required", "`Gone` is not defined");
}

#[test]
fn not_yaml_and_not_swagger() {
    let d = errors("a: [1, 2\n");
    assert!(d.0[0].message.contains("invalid YAML") && d.0[0].message.contains("line"), "{d}");
    let d = errors("openapi: 3.0.0\ninfo: {title: t, version: '1'}\npaths: {}\n");
    assert_located(&d, "/swagger", "not a Swagger 2.0 document");
}

/// A small deterministic PRNG: enough to mutate specs reproducibly.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

fn mutate(v: &mut serde_json::Value, rng: &mut Rng) {
    use serde_json::{json, Value};
    let replacements = [
        json!(null),
        json!(7),
        json!("x"),
        json!([]),
        json!({}),
        json!({"$ref": "#/definitions/Missing"}),
        json!({"type": "array"}),
        json!(true),
    ];
    match v {
        Value::Object(map) if !map.is_empty() => {
            let i = (rng.next() as usize) % map.len();
            let key = map.keys().nth(i).cloned().unwrap();
            match rng.next() % 4 {
                0 => {
                    map.shift_remove(&key);
                }
                1 => map[&key] = replacements[(rng.next() as usize) % replacements.len()].clone(),
                _ => mutate(&mut map[&key], rng),
            }
        }
        Value::Array(items) if !items.is_empty() => {
            let i = (rng.next() as usize) % items.len();
            mutate(&mut items[i], rng)
        }
        other => *other = replacements[(rng.next() as usize) % replacements.len()].clone(),
    }
}

#[test]
fn mutated_specs_never_panic() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/specs");
    let mut rng = Rng(0x9e3779b97f4a7c15);
    let mut rejected = 0;
    let mut runs = 0;
    // The fixture specs, and the versions of the operation classes' one in operations/.
    let mut files: Vec<_> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().path()).collect();
    files.extend(std::fs::read_dir(dir.join("operations")).unwrap().map(|e| e.unwrap().path()));
    files.retain(|p| p.extension().is_some_and(|e| e == "yaml"));
    files.sort();
    for file in files {
        let text = std::fs::read_to_string(file).unwrap();
        let base: serde_json::Value = moby_api_codegen::source::yaml::parse(&text, "x").unwrap();
        for _ in 0..300 {
            let mut doc = base.clone();
            for _ in 0..1 + rng.next() % 3 {
                mutate(&mut doc, &mut rng);
            }
            let json = serde_json::to_string(&doc).unwrap();
            runs += 1;
            let result = std::panic::catch_unwind(|| {
                build_from_text(&json, "mutated.yaml", ApiVersion::new(41), &[]).map(moby_api_codegen::emit::standalone_module)
            });
            match result {
                Err(_) => panic!("panicked on:\n{json}"),
                Ok(Err(d)) => {
                    rejected += 1;
                    assert!(d.0.iter().all(|e| e.file == "mutated.yaml"), "{d}");
                }
                Ok(Ok(code)) => {
                    code.unwrap_or_else(|e| panic!("emitted code does not parse for:\n{json}\n{e}"));
                }
            }
        }
    }
    assert!(rejected > runs / 10, "mutations should often be rejected ({rejected} of {runs})");
}

#[test]
fn operation_rust_name_must_be_a_string() {
    let d = errors(&format!(
        "{HEAD}paths:\n  /a:\n    get:\n      operationId: A\n      x-rust-name: [B]\n      responses: {{'200': {{description: ok}}}}\n"
    ));
    assert_located(&d, "/paths/~1a/get/x-rust-name", "`x-rust-name` must be a string");
}

#[test]
fn operation_rust_name_names_the_code_and_keeps_the_operation_id() {
    let yaml = format!("{HEAD}paths:\n  /a:\n    get:\n      operationId: OldName\n      x-rust-name: NewName\n      responses: {{'200': {{description: ok}}}}\n");
    let spec = build_from_text(&yaml, "ok.yaml", ApiVersion::new(41), &[]).unwrap();
    let op = &spec.operations[0];
    assert_eq!((op.id.as_str(), op.name.as_str()), ("OldName", "NewName"));
    let note = moby_api_codegen::emit::operation::renamed_note(op).expect("a renamed operation says so");
    assert!(note.contains("`OldName`"), "{note}");
}

#[test]
fn operation_rust_name_must_not_be_taken() {
    let d = errors(&format!(
        "{HEAD}paths:\n  /a:\n    get:\n      operationId: A\n      responses: {{'200': {{description: ok}}}}\n  /b:\n    get:\n      operationId: B\n      x-rust-name: A\n      responses: {{'200': {{description: ok}}}}\n"
    ));
    assert_located(&d, "/paths/~1b/get/x-rust-name", "`x-rust-name` `A` is already the name of the operation at /paths/~1a/get");
}
