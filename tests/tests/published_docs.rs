//! What the published crates' users read (rustdoc and README of `moby-api` and
//! `moby-api-runtime`) leads nowhere they cannot follow: no file that only this repository's
//! developers have, and every link either a URL or an intra-doc path, which `cargo xtask
//! test` resolves with `RUSTDOCFLAGS=-D warnings`. An in-page anchor of the spec's rendered
//! page (`#operation/ContainerInspect`) or a path into the repository is neither.

use std::path::{Path, PathBuf};

/// Files beside the repository or in it but not in the packages, which documentation once cited.
const NOT_SHIPPED: &[&str] = &["NOTES.md", "LESSONS.md", "ENGINES.md", "PROXY-THREATS.md", "ARCHITECTURE.md", "DEVELOPERS.md", "../shared"];

/// What a user of the packages reads: the sources rustdoc renders and the READMEs.
fn published_files() -> Vec<PathBuf> {
    let root = moby_api_tests::root();
    let mut files = vec![root.join("generated/README.md"), root.join("runtime/README.md")];
    for dir in ["generated/src", "runtime/src"] {
        let mut stack = vec![root.join(dir)];
        while let Some(dir) = stack.pop() {
            for entry in std::fs::read_dir(&dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    stack.push(path);
                } else if path.extension().is_some_and(|x| x == "rs") {
                    files.push(path);
                }
            }
        }
    }
    files.sort();
    files
}

/// The documentation text of a file: doc comments of Rust, every line of Markdown.
fn doc_lines(path: &Path, text: &str) -> Vec<(usize, String)> {
    let markdown = path.extension().is_some_and(|x| x == "md");
    text.lines()
        .enumerate()
        .filter_map(|(i, line)| {
            let trimmed = line.trim_start();
            let doc = ["///", "//!"].iter().find_map(|p| trimmed.strip_prefix(p));
            match (markdown, doc) {
                (true, _) => Some((i + 1, line.to_string())),
                (false, Some(doc)) => Some((i + 1, doc.to_string())),
                (false, None) => None,
            }
        })
        .collect()
}

/// The targets of the Markdown links on a line: inline `[text](target)` and reference
/// definitions `[label]: target`.
fn link_targets(line: &str) -> Vec<String> {
    let mut targets: Vec<String> = line
        .match_indices("](")
        .filter_map(|(at, _)| {
            let rest = &line[at + 2..];
            rest.find(')').map(|end| rest[..end].trim().to_string())
        })
        .collect();
    let trimmed = line.trim_start();
    if let Some(after) = trimmed.strip_prefix('[').and_then(|s| s.split_once("]:")) {
        if let Some(target) = after.1.split_whitespace().next() {
            targets.push(target.to_string());
        }
    }
    targets
}

/// A URL, or a path rustdoc resolves (`super::models::BuildInfo`, `Self::send`,
/// `std::io::ErrorKind::TimedOut`, `crate::v1_41`, `mod@serve`).
fn is_followable(target: &str) -> bool {
    if ["https://", "http://", "mailto:"].iter().any(|scheme| target.starts_with(scheme)) {
        return true;
    }
    // A disambiguator may lead an intra-doc path: `mod@serve`, `struct@Client`.
    let path =
        target.split_once('@').map_or(target, |(kind, path)| if kind.chars().all(|c| c.is_ascii_lowercase()) { path } else { target });
    let path = path.trim_end_matches("()").trim_end_matches('!');
    !path.is_empty()
        && path.split("::").all(|segment| {
            let mut chars = segment.chars();
            chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_') && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
        })
}

#[test]
fn published_docs_cite_no_file_a_user_lacks_and_no_dead_anchor() {
    let root = moby_api_tests::root();
    let files = published_files();
    assert!(files.len() > 100, "the generated crate's sources were not found: {files:?}");
    let mut problems = Vec::new();
    for path in &files {
        let text = std::fs::read_to_string(path).unwrap();
        let shown = path.strip_prefix(&root).unwrap_or(path).display().to_string();
        for (number, line) in doc_lines(path, &text) {
            for name in NOT_SHIPPED.iter().filter(|name| line.contains(**name)) {
                problems.push(format!("{shown}:{number}: cites {name}, which users of the package do not have"));
            }
            for target in link_targets(&line).into_iter().filter(|t| !is_followable(t)) {
                problems.push(format!("{shown}:{number}: link to `{target}` leads nowhere in rustdoc or on crates.io"));
            }
        }
    }
    assert!(problems.is_empty(), "{} problems:\n{}", problems.len(), problems.join("\n"));
}

/// The checks above find what they look for.
#[test]
fn the_checks_see_dead_links_and_missing_files() {
    let line = "See [the inspect endpoint](#operation/ContainerInspect) and [notes](../NOTES.md), [`Client`](super::client::Client).";
    let targets = link_targets(line);
    assert_eq!(targets, ["#operation/ContainerInspect", "../NOTES.md", "super::client::Client"]);
    assert_eq!(targets.iter().map(|t| is_followable(t)).collect::<Vec<_>>(), [false, false, true]);
    assert_eq!(link_targets("[docs]: ARCHITECTURE.md"), ["ARCHITECTURE.md"]);
    assert!(is_followable("https://docs.docker.com/reference/api/engine/version/v1.41/#tag/Container"));
    assert!(is_followable("mod@serve") && !is_followable("user@host.md"));
    assert!(NOT_SHIPPED.iter().any(|name| line.contains(name)));
}
