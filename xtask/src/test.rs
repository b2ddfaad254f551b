//! `cargo xtask test`: everything CI checks, in order, on a fresh machine.
//!
//! Tests that talk to a real Docker Engine read its socket from `MOBY_API_TEST_DOCKER_HOST`.
//! This command starts a private engine (tests/engine/engine.sh installs Debian's docker.io
//! when it runs as root with apt and the engine is missing), hands its socket to the tests
//! and stops it afterwards. Under CI an engine that cannot start fails the run; elsewhere
//! the engine tests say they were skipped.

use std::path::PathBuf;
use std::process::Command;

use moby_api_codegen::pipeline::Inputs;

use crate::root;

/// The engine's state directory: short, because unix socket paths are limited to 107 bytes.
fn engine_dir() -> PathBuf {
    std::env::temp_dir().join("moby-api-test-engine")
}

pub fn run(inputs: &Inputs) -> Result<(), String> {
    step("generated code is fresh", || crate::codegen::run(inputs, true))?;
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let run = |args: &[&str], env: &[(&str, String)]| -> Result<(), String> {
        let mut cmd = Command::new(&cargo);
        cmd.args(args).current_dir(root());
        for (k, v) in env {
            cmd.env(k, v);
        }
        let status = cmd.status().map_err(|e| format!("cannot run cargo: {e}"))?;
        if status.success() {
            Ok(())
        } else {
            Err(format!("`cargo {}` failed ({status})", args.join(" ")))
        }
    };
    step("clippy, all versions together, no warnings", || {
        run(&["clippy", "--workspace", "--all-targets", "--all-features", "--", "-D", "warnings"], &[])
    })?;
    step("rustdoc of the published crates as docs.rs builds them, no warnings", || crate::published::rustdoc(&cargo))?;
    let engine = step("a private Docker Engine for the engine tests", start_engine)?;
    let env: Vec<(&str, String)> = engine.iter().map(|host| ("MOBY_API_TEST_DOCKER_HOST", host.clone())).collect();
    let tests = step("tests, all versions", || run(&["test", "--workspace", "--all-features", "--no-fail-fast"], &env));
    if engine.is_some() {
        stop_engine();
    }
    tests?;
    // Feature resolution for this package alone: moby-api with only `v1_41`, as a downstream crate sees it.
    step("downstream crate with only v1_41", || run(&["test", "--package", "moby-api-consumer"], &[]))?;
    step("the packaged crates build the README's programs for several versions, without TLS", || crate::published::downstream(&cargo))?;
    println!("\nall checks passed");
    Ok(())
}

/// Starts the engine; `Ok(None)` when it cannot start outside CI.
fn start_engine() -> Result<Option<String>, String> {
    let dir = engine_dir();
    let out = Command::new("bash").arg(root().join("tests/engine/engine.sh")).arg("start").arg(&dir).output();
    let failure = match out {
        Ok(out) if out.status.success() => {
            let stdout = String::from_utf8_lossy(&out.stdout);
            match stdout.lines().find_map(|l| l.strip_prefix("export DOCKER_HOST=")) {
                Some(host) => {
                    println!("engine at {host}");
                    return Ok(Some(host.trim().to_string()));
                }
                None => format!("engine.sh printed no DOCKER_HOST:\n{stdout}"),
            }
        }
        Ok(out) => format!("engine.sh start failed ({}):\n{}", out.status, String::from_utf8_lossy(&out.stderr)),
        Err(e) => format!("cannot run engine.sh: {e}"),
    };
    if std::env::var_os("CI").is_some_and(|v| !v.is_empty()) {
        return Err(failure);
    }
    println!("warning: no Docker Engine, the engine tests will be skipped: {failure}");
    Ok(None)
}

fn stop_engine() {
    let status = Command::new("bash").arg(root().join("tests/engine/engine.sh")).arg("stop").arg(engine_dir()).status();
    if !status.is_ok_and(|s| s.success()) {
        eprintln!("warning: engine.sh stop {} did not finish cleanly", engine_dir().display());
    }
}

fn step<T>(name: &str, f: impl FnOnce() -> Result<T, String>) -> Result<T, String> {
    println!("\n==> {name}");
    let start = std::time::Instant::now();
    let value = f()?;
    println!("==> {name}: ok ({:.1?})", start.elapsed());
    Ok(value)
}
