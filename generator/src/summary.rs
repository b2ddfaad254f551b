//! Per-version figures of the generated crate: operations, types, and the lines a build
//! with only that version's feature compiles.

use std::collections::HashMap;

use serde::Serialize;

use crate::emit::models::module_name;
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
    /// Lines of Rust compiled with only this version's feature (roundtrip helpers excluded).
    pub lines: usize,
}

pub fn summarize(history: &History, files: &[GeneratedFile]) -> Vec<VersionSummary> {
    let lines_of: HashMap<&str, usize> = files.iter().map(|f| (f.path.as_str(), f.contents.lines().count())).collect();
    let module_sets: HashMap<String, VersionSet> = history.shared.iter().map(|c| (module_name(c.versions), c.versions)).collect();
    history
        .specs
        .iter()
        .map(|spec| {
            let v = spec.version;
            let base = [
                "generated/src/lib.rs".to_string(),
                "generated/src/shared/mod.rs".to_string(),
                format!("generated/src/{}/mod.rs", v.ident()),
                format!("generated/src/{}/models.rs", v.ident()),
            ];
            let shared: usize = module_sets
                .iter()
                .filter(|(_, set)| set.contains(v))
                .map(|(m, _)| lines_of.get(format!("generated/src/shared/{m}.rs").as_str()).copied().unwrap_or(0))
                .sum();
            VersionSummary {
                version: v,
                operations: spec.operations.len(),
                types: spec.types.len(),
                new_types: history.shared.iter().filter(|c| c.versions.first() == Some(v)).count(),
                // Every version emits these files; a missing one is a bug here, not bad input.
                lines: shared + base.iter().map(|p| lines_of[p.as_str()]).sum::<usize>(),
            }
        })
        .collect()
}
