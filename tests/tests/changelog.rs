//! The IR diff of every version against its section of upstream's CHANGELOG.md: which
//! items the diff confirms, which it cannot see, and which changes no item mentions. A
//! snapshot, so a generator change that loses (or invents) a change shows up here.

use moby_api_codegen::changelog::{check, Report};
use moby_api_codegen::ApiVersion;
use moby_api_tests::{history, inputs};

fn report() -> Report {
    let path = inputs().upstream.join("CHANGELOG.md");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    check(history(), &text)
}

#[test]
fn changelog_against_the_diff() {
    let markdown = report().to_markdown();
    // The same text is committed as docs/changelog-check.md by `cargo xtask codegen`.
    let committed = std::fs::read_to_string(moby_api_tests::root().join(moby_api_codegen::changelog::PATH)).unwrap_or_default();
    assert_eq!(committed, markdown, "docs/changelog-check.md is stale; run `cargo xtask codegen`");
    insta::assert_snapshot!(markdown);
}

#[test]
fn every_version_from_1_25_has_a_row_with_items() {
    let report = report();
    let versions: Vec<ApiVersion> = report.rows.iter().map(|r| r.version).collect();
    assert_eq!(versions, moby_api_tests::history().versions().skip(1).collect::<Vec<_>>());
    for r in &report.rows {
        assert!(r.items > 0, "no changelog items for {}", r.version);
        assert_eq!(r.confirmed + r.unconfirmed.len(), r.items, "{}", r.version);
    }
}

/// Most changelog items describe a schema change the diff must show. The floor sits just
/// under today's share; a drop means the generator (or the matcher) lost changes.
#[test]
fn most_items_are_confirmed() {
    let report = report();
    let (confirmed, items) = (report.confirmed(), report.items());
    let share = confirmed as f64 / items as f64;
    println!("{confirmed} of {items} changelog items confirmed ({:.1}%)", share * 100.0);
    assert!(share >= 0.58, "only {confirmed} of {items} changelog items are confirmed by the diff ({:.1}%)", share * 100.0);
}
