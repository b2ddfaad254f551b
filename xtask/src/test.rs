//! `cargo xtask test`: everything CI checks, in order, on a fresh machine.
//!
//! Tests that talk to a real Docker Engine read its socket from `MOBY_API_TEST_ENGINE_<NAME>`
//! (`MOBY_API_TEST_ENGINE_20_10`, `MOBY_API_TEST_ENGINE_28_5_2`: one per engine of
//! spec/engines.yaml). This command starts every engine in the background while the checks
//! that need none run (tests/engine/engine.sh installs Debian's docker.io when it runs as
//! root with apt and the engine is missing, and fetches 28.5.2 from Debian unstable once),
//! hands their sockets to the tests, and stops them afterwards, also when a step fails.
//! Under CI an engine that cannot start fails the run; elsewhere the tests that need it say
//! they were skipped.

use std::path::PathBuf;
use std::process::Command;
use std::thread::JoinHandle;

use moby_api_codegen::engines::Engine;
use moby_api_codegen::pipeline::Inputs;

use crate::{engine, root};

pub fn run(inputs: &Inputs) -> Result<(), String> {
    let listed = moby_api_codegen::engines::load(&inputs.project_spec).map_err(|e| e.to_string())?;
    // Dropped on every way out of this function: the engines never outlive the command.
    let mut engines = Engines::start(&listed);
    step("generated code is fresh", || crate::codegen::run(inputs, true))?;
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let run = |args: &[&str], env: &[(String, String)]| -> Result<(), String> {
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
    let env = step("private Docker Engines for the engine tests", || engines.ready())?;
    let tests = step("tests, all versions", || run(&["test", "--workspace", "--all-features", "--no-fail-fast"], &env));
    drop(engines);
    tests?;
    // Feature resolution for this package alone: moby-api with only `v1_41`, as a downstream crate sees it.
    step("downstream crate with only v1_41", || run(&["test", "--package", "moby-api-consumer"], &[]))?;
    step("the packaged crates build the README's programs for several versions, without TLS", || crate::published::downstream(&cargo))?;
    println!("\nall checks passed");
    Ok(())
}

/// The engines of spec/engines.yaml, each starting in a thread of its own and stopped when
/// this is dropped.
struct Engines {
    engines: Vec<Starting>,
}

struct Starting {
    engine: Engine,
    /// Its state directory: short, because unix socket paths are limited to 107 bytes.
    dir: PathBuf,
    /// `engine.sh start`, until `ready` has waited for it.
    start: Option<JoinHandle<Result<String, String>>>,
}

impl Engines {
    fn start(engines: &[Engine]) -> Engines {
        let engines = engines
            .iter()
            .map(|e| {
                let dir = std::env::temp_dir().join(format!("moby-api-test-engine-{}", e.name));
                let (d, name) = (dir.clone(), e.name.clone());
                let start = std::thread::spawn(move || engine::start(&d, &name));
                Starting { engine: e.clone(), dir, start: Some(start) }
            })
            .collect();
        Engines { engines }
    }

    /// Waits for every engine; the variables that carry their sockets to the tests. An engine
    /// that did not start fails the run under CI, and is left out (its tests skip) elsewhere.
    fn ready(&mut self) -> Result<Vec<(String, String)>, String> {
        let ci = std::env::var_os("CI").is_some_and(|v| !v.is_empty());
        let mut env = Vec::new();
        let mut failures = Vec::new();
        for e in &mut self.engines {
            let Some(start) = e.start.take() else { continue };
            match start.join().unwrap_or_else(|_| Err("the thread that started it panicked".into())) {
                Ok(host) => {
                    println!("Engine {} at {host} ({})", e.engine.name, e.engine.env_var());
                    env.push((e.engine.env_var(), host));
                }
                Err(why) if ci => failures.push(format!("Engine {}: {why}", e.engine.name)),
                Err(why) => println!("warning: no Engine {}, its tests will be skipped: {why}", e.engine.name),
            }
        }
        if failures.is_empty() {
            Ok(env)
        } else {
            Err(failures.join("\n"))
        }
    }
}

impl Drop for Engines {
    fn drop(&mut self) {
        let stops: Vec<_> = self
            .engines
            .iter_mut()
            .map(|e| {
                let (start, dir) = (e.start.take(), e.dir.clone());
                std::thread::spawn(move || {
                    // A start still running would bring the engine up after the stop.
                    if let Some(start) = start {
                        let _ = start.join();
                    }
                    engine::stop(&dir);
                })
            })
            .collect();
        for stop in stops {
            let _ = stop.join();
        }
    }
}

fn step<T>(name: &str, f: impl FnOnce() -> Result<T, String>) -> Result<T, String> {
    println!("\n==> {name}");
    let start = std::time::Instant::now();
    let value = f()?;
    println!("==> {name}: ok ({:.1?})", start.elapsed());
    Ok(value)
}
