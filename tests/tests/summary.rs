//! Per-version summary of what is generated (operations, types, new shapes, lines compiled
//! with only that version's feature and the client and server), and how many items the
//! versions share: a snapshot, so every change shows its size and why.

use moby_api_codegen::pipeline;
use moby_api_codegen::summary::summarize;
use moby_api_tests::{inputs, root};

#[test]
fn per_version_summary() {
    let (history, files, _) = pipeline::generate(&inputs(), &root().join("templates")).unwrap_or_else(|e| panic!("{e}"));
    let rows = summarize(&history, &files);
    let versions = history.versions().count();
    assert_eq!(rows.len(), versions);
    let mut table =
        String::from("| version | operations | types | new shapes | lines compiled (client and server) |\n|---|---:|---:|---:|---:|\n");
    for r in &rows {
        table.push_str(&format!("| {} | {} | {} | {} | {} |\n", r.version, r.operations, r.types, r.new_types, r.lines));
    }
    // Every version compiles at least its own re-exports, its client and its server.
    assert!(rows.iter().all(|r| r.lines > 5000 && r.types > 100), "{rows:?}");
    let total_types: usize = rows.iter().map(|r| r.types).sum();
    let total_operations: usize = rows.iter().map(|r| r.operations).sum();
    let ops = &history.ops;
    let crate_lines: usize = files.iter().filter(|f| f.path.starts_with("generated/")).map(|f| f.contents.lines().count()).sum();
    table.push_str(&format!(
        "\n{total_types} types over {versions} versions are {} distinct Rust types. Their {total_operations} operations are {} \
         parameter structs, {} requests (each a server request type and a client request builder), {} replies, {} client \
         answer enums and {} server traits: each is emitted once, in `shared/`, for the versions in which it is identical, \
         and a version module re-exports what it uses. The crate is {crate_lines} lines.\n",
        history.shared.len(),
        ops.params.classes.len(),
        ops.requests.classes.len(),
        ops.replies.classes.len(),
        ops.outcomes.classes.len(),
        ops.services.classes.len(),
    ));
    insta::assert_snapshot!(table);
}
