//! Snapshot tests: one small spec per schema feature → IR (insta) and emitted Rust (insta,
//! and compiled: the same code is committed in tests/spec-fixtures, a crate of the workspace).
//!
//! Update after an intended change with `INSTA_UPDATE=always MOBY_API_BLESS=1 cargo test -p moby-api-codegen --test snapshots`.

use std::path::{Path, PathBuf};

use moby_api_codegen::emit::standalone_module;
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
