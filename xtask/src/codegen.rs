//! `cargo xtask codegen [--check]`: writes or checks the generated crate.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use moby_api_codegen::emit::format::PREAMBLE;
use moby_api_codegen::pipeline::{self, Inputs};

use crate::root;

pub fn run(inputs: &Inputs, check: bool) -> Result<(), String> {
    let root = root();
    let (_, files, timings) = pipeline::generate(inputs, &root.join("templates")).map_err(|e| e.to_string())?;
    let out_dir = root.join("generated");

    let mut expected: BTreeSet<PathBuf> = BTreeSet::new();
    let mut stale = Vec::new();
    for f in &files {
        let path = out_dir.join(&f.path);
        expected.insert(path.clone());
        let current = std::fs::read_to_string(&path).ok();
        if current.as_deref() != Some(f.contents.as_str()) {
            stale.push((path, f.contents.as_str(), current.is_none()));
        }
    }
    // Generated files that would no longer be produced (a version or type set went away).
    let obsolete: Vec<PathBuf> = generated_files_on_disk(&out_dir).into_iter().filter(|p| !expected.contains(p)).collect();

    if check {
        if stale.is_empty() && obsolete.is_empty() {
            println!("generated/ is up to date ({} files)", files.len());
            return Ok(());
        }
        let mut msg = String::from("generated/ is stale; run `cargo xtask codegen`:\n");
        for (path, _, missing) in &stale {
            msg.push_str(&format!("  {} {}\n", if *missing { "missing" } else { "differs" }, rel(&root, path)));
        }
        for path in &obsolete {
            msg.push_str(&format!("  obsolete {}\n", rel(&root, path)));
        }
        return Err(msg.trim_end().to_string());
    }
    for (path, contents, _) in &stale {
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|e| format!("{}: {e}", parent.display()))?;
        }
        std::fs::write(path, contents).map_err(|e| format!("{}: {e}", path.display()))?;
    }
    for path in &obsolete {
        std::fs::remove_file(path).map_err(|e| format!("{}: {e}", path.display()))?;
    }
    println!(
        "generated {} files ({} written, {} removed) in {:.2?} (load {:.2?}, IR {:.2?}, emit {:.2?}, format {:.2?})",
        files.len(),
        stale.len(),
        obsolete.len(),
        timings.total(),
        timings.load,
        timings.ir,
        timings.emit,
        timings.format
    );
    Ok(())
}

fn rel(root: &Path, path: &Path) -> String {
    path.strip_prefix(root).unwrap_or(path).display().to_string()
}

/// Files under `generated/` that carry the generator's preamble (hand-written files never do).
fn generated_files_on_disk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    let first_line = PREAMBLE.lines().next().unwrap_or_default().trim_start_matches("// ");
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else { continue };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                if p.file_name().is_some_and(|n| n != "target") {
                    stack.push(p);
                }
            } else if std::fs::read_to_string(&p).is_ok_and(|t| t.lines().next().is_some_and(|l| l.contains(first_line))) {
                out.push(p);
            }
        }
    }
    out
}
