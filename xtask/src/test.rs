//! `cargo xtask test`: everything CI checks, in order, on a fresh machine.

use std::process::Command;

use moby_api_codegen::pipeline::Inputs;

use crate::root;

pub fn run(inputs: &Inputs) -> Result<(), String> {
    step("generated code is fresh", || crate::codegen::run(inputs, true))?;
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let run = |args: &[&str]| -> Result<(), String> {
        let status = Command::new(&cargo).args(args).current_dir(root()).status().map_err(|e| format!("cannot run cargo: {e}"))?;
        if status.success() {
            Ok(())
        } else {
            Err(format!("`cargo {}` failed ({status})", args.join(" ")))
        }
    };
    step("clippy, all versions together, no warnings", || {
        run(&["clippy", "--workspace", "--all-targets", "--all-features", "--", "-D", "warnings"])
    })?;
    step("tests, all versions", || run(&["test", "--workspace", "--all-features", "--no-fail-fast"]))?;
    // Feature resolution for this package alone: moby-api with only `v1_41`, as a downstream crate sees it.
    step("downstream crate with only v1_41", || run(&["test", "--package", "moby-api-consumer"]))?;
    println!("\nall checks passed");
    Ok(())
}

fn step(name: &str, f: impl FnOnce() -> Result<(), String>) -> Result<(), String> {
    println!("\n==> {name}");
    let start = std::time::Instant::now();
    f()?;
    println!("==> {name}: ok ({:.1?})", start.elapsed());
    Ok(())
}
