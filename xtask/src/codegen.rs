//! `cargo xtask codegen [--check]`: writes or checks the generated crate.

use moby_api_codegen::output;
use moby_api_codegen::pipeline::{self, Inputs};

use crate::root;

pub fn run(inputs: &Inputs, check: bool) -> Result<(), String> {
    let root = root();
    let (_, files, timings) = pipeline::generate(inputs, &root.join("templates")).map_err(|e| e.to_string())?;
    let plan = output::plan(&files, &root.join("generated"));
    if check {
        if plan.is_empty() {
            println!("generated/ is up to date ({} files)", files.len());
            return Ok(());
        }
        return Err(format!("generated/ is stale; run `cargo xtask codegen`:\n{}", plan.describe(&root).trim_end()));
    }
    plan.apply().map_err(|e| format!("cannot write generated/: {e}"))?;
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
