//! Per-version figures of the generated crate: operations, types, and the lines a build
//! with only that version's feature (and the client and server) compiles.

use std::collections::HashMap;

use serde::Serialize;

use crate::emit::GeneratedFile;
use crate::ir::History;
use crate::version::{ApiVersion, VersionSet};

#[derive(Debug, Clone, Serialize)]
pub struct VersionSummary {
    pub version: ApiVersion,
    pub operations: usize,
    pub types: usize,
    /// Types whose shape first appears in this version (the rest are shared with older ones).
    pub new_types: usize,
    /// Lines of Rust compiled with only this version's feature and `client` and `server`
    /// (roundtrip decoders excluded).
    pub lines: usize,
}

pub fn summarize(history: &History, files: &[GeneratedFile]) -> Vec<VersionSummary> {
    // Which versions compile a file: those of its `shared/` module, or of its version module.
    let sets: HashMap<String, VersionSet> = history.shared_modules().into_iter().collect();
    let versions_of = |path: &str| -> Option<VersionSet> {
        let rest = path.strip_prefix("generated/src/")?;
        if rest.ends_with("roundtrip.rs") || !rest.ends_with(".rs") {
            return None;
        }
        let (dir, module) = rest.split_once('/').unwrap_or(("", rest));
        match dir {
            // lib.rs
            "" => Some(history.covered()),
            "shared" if module == "mod.rs" => Some(history.covered()),
            "shared" => sets.get(module.trim_end_matches(".rs").split('/').next()?).copied(),
            version => ApiVersion::parse(version).map(VersionSet::single),
        }
    };
    let compiled: Vec<(VersionSet, usize)> =
        files.iter().filter_map(|f| versions_of(&f.path).map(|set| (set, f.contents.lines().count()))).collect();
    history
        .specs
        .iter()
        .map(|spec| {
            let v = spec.version;
            VersionSummary {
                version: v,
                operations: spec.operations.len(),
                types: spec.types.len(),
                new_types: history.shared.iter().filter(|c| c.versions.first() == Some(v)).count(),
                lines: compiled.iter().filter(|(set, _)| set.contains(v)).map(|(_, lines)| lines).sum(),
            }
        })
        .collect()
}
