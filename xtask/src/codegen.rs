//! `cargo xtask codegen [--check]`: writes or checks the generated crate.

use moby_api_codegen::output;
use moby_api_codegen::pipeline::{self, Inputs};

use crate::root;

pub fn run(inputs: &Inputs, check: bool) -> Result<(), String> {
    let root = root();
    let (_, files, timings) = pipeline::generate(inputs, &root.join("templates")).map_err(|e| e.to_string())?;
    let plan = output::plan(&files, &root);
    if check {
        if plan.is_empty() {
            println!("generated files are up to date ({} files)", files.len());
            return Ok(());
        }
        return Err(format!("generated files are stale; run `cargo xtask codegen`:\n{}", plan.describe(&root).trim_end()));
    }
    plan.apply().map_err(|e| format!("cannot write generated files: {e}"))?;
    println!(
        "generated {} files ({} written, {} removed) in {:.2?} (load {:.2?}, IR {:.2?}, emit {:.2?}, format {:.2?})",
        files.len(),
        plan.write.len(),
        plan.remove.len(),
        timings.total(),
        timings.load,
        timings.ir,
        timings.emit,
        timings.format
    );
    Ok(())
}

/// Writes only `docs/compatibility.md`.
pub fn matrix(inputs: &Inputs) -> Result<(), String> {
    let history = pipeline::load_history(inputs, &mut pipeline::Timings::default()).map_err(|e| e.to_string())?;
    let engines = moby_api_codegen::engines::load(&inputs.project_spec).map_err(|e| e.to_string())?;
    let path = root().join(moby_api_codegen::matrix::PATH);
    std::fs::create_dir_all(path.parent().unwrap_or(&path)).map_err(|e| e.to_string())?;
    std::fs::write(&path, moby_api_codegen::matrix::render(&history, &engines)).map_err(|e| format!("{}: {e}", path.display()))?;
    println!("wrote {}", moby_api_codegen::matrix::PATH);
    Ok(())
}
