//! Compares generated files with what is on disk and writes them: the one place that knows
//! which files under `generated/` belong to the generator (they start with the preamble).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use crate::emit::format::PREAMBLE;
use crate::emit::GeneratedFile;

/// What writing `files` into a directory would change.
#[derive(Debug, Default)]
pub struct Plan {
    /// Files to write: (path, contents, whether it is new).
    pub write: Vec<(PathBuf, String, bool)>,
    /// Generated files on disk that are no longer produced.
    pub remove: Vec<PathBuf>,
    pub unchanged: usize,
}

impl Plan {
    pub fn is_empty(&self) -> bool {
        self.write.is_empty() && self.remove.is_empty()
    }

    /// Human-readable list of the differences, paths relative to `root`.
    pub fn describe(&self, root: &Path) -> String {
        let rel = |p: &Path| p.strip_prefix(root).unwrap_or(p).display().to_string();
        let mut out = String::new();
        for (path, _, new) in &self.write {
            out.push_str(&format!("  {} {}\n", if *new { "missing " } else { "differs " }, rel(path)));
        }
        for path in &self.remove {
            out.push_str(&format!("  obsolete {}\n", rel(path)));
        }
        out
    }

    pub fn apply(&self) -> std::io::Result<()> {
        for (path, contents, _) in &self.write {
            if let Some(parent) = path.parent() {
                std::fs::create_dir_all(parent)?;
            }
            std::fs::write(path, contents)?;
        }
        for path in &self.remove {
            std::fs::remove_file(path)?;
        }
        Ok(())
    }
}

pub fn plan(files: &[GeneratedFile], out_dir: &Path) -> Plan {
    let mut plan = Plan::default();
    let mut expected = BTreeSet::new();
    for f in files {
        let path = out_dir.join(&f.path);
        expected.insert(path.clone());
        match std::fs::read_to_string(&path) {
            Ok(current) if current == f.contents => plan.unchanged += 1,
            Ok(_) => plan.write.push((path, f.contents.clone(), false)),
            Err(_) => plan.write.push((path, f.contents.clone(), true)),
        }
    }
    plan.remove = generated_files_on_disk(out_dir).into_iter().filter(|p| !expected.contains(p)).collect();
    plan
}

/// Files below `dir` whose first line is the generator's preamble.
fn generated_files_on_disk(dir: &Path) -> Vec<PathBuf> {
    let marker = PREAMBLE.lines().next().unwrap_or_default().trim_start_matches("// ");
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else { continue };
        for entry in entries.flatten() {
            let p = entry.path();
            if p.is_dir() {
                stack.push(p);
            } else if std::fs::read_to_string(&p).is_ok_and(|t| t.lines().next().is_some_and(|l| l.contains(marker))) {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}
