//! Per-version summary of what is generated (operations, types, new shapes, lines compiled
//! with only that version's feature): a snapshot, so every change shows its size.

use moby_api_codegen::pipeline;
use moby_api_codegen::summary::summarize;
use moby_api_tests::{inputs, root};

#[test]
fn per_version_summary() {
    let (history, files, _) = pipeline::generate(&inputs(), &root().join("templates")).unwrap_or_else(|e| panic!("{e}"));
    let rows = summarize(&history, &files);
    assert_eq!(rows.len(), 26);
    let mut table = String::from("| version | operations | types | new shapes | lines compiled |\n|---|---:|---:|---:|---:|\n");
    for r in &rows {
        table.push_str(&format!("| {} | {} | {} | {} | {} |\n", r.version, r.operations, r.types, r.new_types, r.lines));
    }
    // Every version compiles at least its own re-exports and the crate root.
    assert!(rows.iter().all(|r| r.lines > 1000 && r.types > 100), "{rows:?}");
    let distinct = history.shared.len();
    let total: usize = rows.iter().map(|r| r.types).sum();
    table.push_str(&format!("\n{total} types over 26 versions are {distinct} distinct Rust types.\n"));
    insta::assert_snapshot!(table);
}
