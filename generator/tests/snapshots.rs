//! Snapshot tests: one small spec per schema feature → IR (insta) and emitted Rust (insta,
//! and compiled: the same code is committed in tests/spec-fixtures, a crate of the workspace);
//! and three versions of one API → operation classes and a whole emitted crate
//! (tests/ops-fixture, compiled too).
//!
//! Update after an intended change with `INSTA_UPDATE=always MOBY_API_BLESS=1 cargo test -p moby-api-codegen --test snapshots`.

use std::path::{Path, PathBuf};

use moby_api_codegen::emit::format::format_all;
use moby_api_codegen::emit::{emit_crate, standalone_module};
use moby_api_codegen::ir::history::operations::ItemClasses;
use moby_api_codegen::ir::History;
use moby_api_codegen::pipeline::build_from_text;
use moby_api_codegen::ApiVersion;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf()
}

fn build(name: &str) -> Result<moby_api_codegen::ir::ApiSpec, moby_api_codegen::Diagnostics> {
    let text = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/specs").join(format!("{name}.yaml"))).unwrap();
    build_from_text(&text, &format!("specs/{name}.yaml"), ApiVersion::new(41), &[])
}

/// The emitted module must equal the committed, compiled copy in tests/spec-fixtures.
fn check_compiled_copy(name: &str, code: &str) {
    let path = root().join("tests/spec-fixtures/src").join(format!("{name}.rs"));
    if std::env::var_os("MOBY_API_BLESS").is_some() {
        std::fs::write(&path, code).unwrap();
        return;
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(committed == code, "{} is stale; rerun with MOBY_API_BLESS=1", path.display());
}

macro_rules! feature_snapshot {
    ($($name:ident),* $(,)?) => {$(
        #[test]
        fn $name() {
            let name = stringify!($name);
            let spec = build(name).unwrap_or_else(|e| panic!("{e}"));
            insta::assert_yaml_snapshot!(format!("{name}_ir"), spec);
            let code = standalone_module(spec).unwrap_or_else(|e| panic!("{e}"));
            insta::assert_snapshot!(format!("{name}_code"), code);
            check_compiled_copy(name, &code);
        }
    )*};
}

feature_snapshot!(all_of, nullable, open_enum, map, nested_inline, header_param, streaming, upgrade, decoding_policy, secret);

#[test]
fn name_collision_is_reported_with_both_places() {
    let err = build("name_collision").unwrap_err();
    insta::assert_snapshot!(err.to_string());
    assert!(err.to_string().contains("/definitions/VolumeCreateBody"));
}

/// Three versions of one small API (specs/operations/): which operation items each class
/// covers, and the whole crate emitted for them, committed and compiled as
/// tests/ops-fixture (whose behaviour tests/tests/operation_classes.rs checks).
#[test]
fn operation_classes_share_what_did_not_change() {
    let specs: Vec<_> = [40, 41, 42]
        .into_iter()
        .map(|minor| {
            let file = format!("operations/v1.{minor}.yaml");
            let text = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/specs").join(&file)).unwrap();
            build_from_text(&text, &format!("specs/{file}"), ApiVersion::new(minor), &[]).unwrap_or_else(|e| panic!("{e}"))
        })
        .collect();
    let history = History::new(specs);
    let ops = &history.ops;
    let kinds = [
        ("params", &ops.params),
        ("requests", &ops.requests),
        ("replies", &ops.replies),
        ("outcomes", &ops.outcomes),
        ("services", &ops.services),
    ];
    let classes_of =
        |kind: &ItemClasses, name: &str| kind.classes.iter().filter(|c| c.name == name).map(|c| c.versions.to_string()).collect::<Vec<_>>();
    // What never changed is one class; a change splits only what it touches.
    assert_eq!(classes_of(&ops.services, "VolumeApi"), ["1.40–1.42"]);
    assert_eq!(classes_of(&ops.services, "ContainerApi"), ["1.40", "1.41", "1.42"]);
    assert_eq!(classes_of(&ops.params, "ContainerListParams"), ["1.40–1.42"]);
    assert_eq!(classes_of(&ops.requests, "ContainerListRequest"), ["1.40–1.42"]);
    assert_eq!(classes_of(&ops.replies, "ContainerListReply"), ["1.40–1.41", "1.42"]);
    assert_eq!(classes_of(&ops.params, "ContainerStartParams"), ["1.41–1.42"]);
    assert_eq!(classes_of(&ops.requests, "ContainerStartRequest"), ["1.40", "1.41–1.42"]);
    assert_eq!(classes_of(&ops.replies, "ContainerStartReply"), ["1.40–1.42"]);
    assert_eq!(classes_of(&ops.outcomes, "ContainerStartOutcome"), ["1.40–1.42"]);
    let mut table = String::new();
    for (kind, classes) in kinds {
        for c in &classes.classes {
            table.push_str(&format!("{kind:9} {:24} {:10} shared/{}\n", c.name, c.versions.to_string(), c.module));
        }
    }
    insta::assert_snapshot!("operation_classes", table);

    let units = emit_crate(&history, &root().join("templates")).unwrap_or_else(|e| panic!("{e}"));
    let files = format_all(units).unwrap_or_else(|e| panic!("{e}"));
    let fixture = root().join("tests/ops-fixture");
    let mut expected = std::collections::BTreeMap::new();
    for f in files {
        let contents = match f.path.as_str() {
            // The generated crate's manifest, as a workspace member of its own.
            "generated/Cargo.toml" => f
                .contents
                .replacen("name = \"moby-api\"", "name = \"moby-api-ops-fixture\"\npublish = false", 1)
                .replace("path = \"../runtime\"", "path = \"../../runtime\""),
            _ => f.contents,
        };
        let path = f.path.strip_prefix("generated/").expect("every crate file is under generated/").to_owned();
        expected.insert(path, contents);
    }
    let on_disk: std::collections::BTreeSet<String> =
        walk(&fixture.join("src")).into_iter().map(|p| p.strip_prefix(&fixture).unwrap().to_string_lossy().into_owned()).collect();
    if std::env::var_os("MOBY_API_BLESS").is_some() {
        let _ = std::fs::remove_dir_all(fixture.join("src"));
        for (path, contents) in &expected {
            let path = fixture.join(path);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, contents).unwrap();
        }
        return;
    }
    for (path, contents) in &expected {
        let committed = std::fs::read_to_string(fixture.join(path)).unwrap_or_default();
        assert!(committed == *contents, "tests/ops-fixture/{path} is stale; rerun with MOBY_API_BLESS=1");
    }
    let stray: Vec<&String> = on_disk.iter().filter(|p| !expected.contains_key(*p)).collect();
    assert!(stray.is_empty(), "tests/ops-fixture has files the generator no longer makes: {stray:?}; rerun with MOBY_API_BLESS=1");
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else {
            out.push(path);
        }
    }
    out
}
