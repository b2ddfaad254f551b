//! Helpers shared by the project's cross-crate tests (in `tests/tests/`).

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use moby_api_codegen::ir::History;
use moby_api_codegen::pipeline::{self, Inputs, Timings};

/// The repository root.
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("tests/ lives in the repository").to_path_buf()
}

/// The inputs as `cargo xtask codegen` finds them (honours MOBY_API_SPEC_DIR).
pub fn inputs() -> Inputs {
    let root = root();
    Inputs {
        upstream: std::env::var_os("MOBY_API_SPEC_DIR").map(PathBuf::from).unwrap_or_else(|| root.join("../shared/docker-api")),
        project_spec: root.join("spec"),
    }
}

/// The IR of all versions, built once per test binary.
pub fn history() -> &'static History {
    static HISTORY: OnceLock<History> = OnceLock::new();
    HISTORY.get_or_init(|| match pipeline::load_history(&inputs(), &mut Timings::default()) {
        Ok(h) => h,
        Err(e) => panic!("the specifications do not load:\n{e}"),
    })
}
