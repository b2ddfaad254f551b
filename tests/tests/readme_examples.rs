//! The README and the crate docs show the programs of `tests/examples/` (which `cargo test`
//! compiles); these tests fail when a copy drifts from the compiled file.

const EXAMPLES: &[&str] =
    &["list_containers.rs", "run_and_stream_logs.rs", "exec_with_stdin.rs", "build_from_directory.rs", "minimal_server.rs"];

/// The example without its leading `//!` header: what the README quotes.
fn quoted_part(source: &str) -> String {
    source.lines().skip_while(|l| l.starts_with("//!") || l.is_empty()).collect::<Vec<_>>().join("\n")
}

#[test]
fn crate_docs_quote_every_compiled_example_verbatim() {
    let root = moby_api_tests::root();
    let docs = std::fs::read_to_string(root.join("templates/generated-lib.md")).unwrap();
    let drifted: Vec<&str> = EXAMPLES
        .iter()
        .copied()
        .filter(|name| !docs.contains(&quoted_part(&std::fs::read_to_string(root.join("tests/examples").join(name)).unwrap())))
        .collect();
    assert!(drifted.is_empty(), "templates/generated-lib.md does not quote these examples verbatim: {drifted:?}");
}

#[test]
fn readme_quotes_every_compiled_example_verbatim() {
    let root = moby_api_tests::root();
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    let mut drifted = Vec::new();
    for name in EXAMPLES {
        let source = std::fs::read_to_string(root.join("tests/examples").join(name)).unwrap();
        if !readme.contains(&quoted_part(&source)) {
            drifted.push(*name);
        }
    }
    assert!(drifted.is_empty(), "README.md does not quote these examples verbatim (copy them from tests/examples/): {drifted:?}");
}
