//! `cargo xtask bench`: stage timings of the generator, and with `--compile` the debug-build
//! time of one version of the generated crate next to bollard-stubs from crates.io.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use moby_api_codegen::pipeline::{self, Inputs, Timings};
use moby_api_codegen::summary::{summarize, VersionSummary};

use crate::root;

/// bollard-stubs releases to compare with: the one closest to our newest versions, and the latest.
const BOLLARD_STUBS: [(&str, &str); 2] = [("bollard-stubs-1-48", "=1.48.3-rc.28.0.4"), ("bollard-stubs-latest", "=1.53.1-rc.29.3.1")];
/// moby-api features to compare (one version each).
const MOBY_VERSIONS: [&str; 3] = ["v1_41", "v1_48", "v1_49"];

pub fn run(inputs: &Inputs, runs: usize, compile: bool) -> Result<(), String> {
    let runs = runs.max(1);
    let mut all: Vec<Timings> = Vec::new();
    let mut lines = 0;
    let mut versions = 0;
    let mut summaries = Vec::new();
    for _ in 0..runs {
        let (history, files, t) = pipeline::generate(inputs, &root().join("templates")).map_err(|e| e.to_string())?;
        lines = files.iter().map(|f| f.contents.lines().count()).sum::<usize>();
        versions = history.versions().count();
        summaries = summarize(&history, &files);
        all.push(t);
    }
    let median = |f: fn(&Timings) -> Duration| format!("{} ms", median(all.iter().map(f).collect()).as_millis());
    println!(
        "generator, all {versions} versions ({lines} lines written), {} profile, {runs} runs\n",
        if cfg!(debug_assertions) { "dev" } else { "release" }
    );
    println!("| stage | median |\n|---|---:|");
    println!("| load: read + sha256, YAML, overlays, Swagger→OpenAPI, openapiv3 | {} |", median(|t| t.load));
    println!("| IR: build, naming, history, sharing | {} |", median(|t| t.ir));
    println!("| emit: token streams, compatibility matrix, changelog check | {} |", median(|t| t.emit));
    println!("| format: syn + prettyplease | {} |", median(|t| t.format));
    println!("| **total** | **{}** |", median(|t| t.total()));
    if compile {
        compile_times(runs, &summaries)?;
    }
    Ok(())
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

/// Builds each crate once to warm its dependencies, then times rebuilding only the crate.
fn compile_times(runs: usize, summaries: &[VersionSummary]) -> Result<(), String> {
    let dir = root().join("target/bench-compile");
    let mut members = Vec::new();
    for feature in MOBY_VERSIONS {
        let name = format!("moby-api-{}", feature.replace('_', "-"));
        let dep = format!("moby-api = {{ path = {:?}, default-features = false, features = [\"{feature}\"] }}", root().join("generated"));
        write_package(&dir, &name, &dep)?;
        members.push((name, "moby-api".to_string(), format!("moby-api {feature}")));
    }
    for (name, version) in BOLLARD_STUBS {
        write_package(&dir, name, &format!("bollard-stubs = \"{version}\""))?;
        members.push((name.to_string(), "bollard-stubs".to_string(), format!("bollard-stubs {}", version.trim_start_matches('='))));
    }
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    // Each package is its own workspace (two bollard-stubs 1.x cannot share a lockfile);
    // one target directory lets them share the dependencies they have in common.
    let cargo_in = |package: &str, args: &[&str]| -> Result<Duration, String> {
        let start = Instant::now();
        let out = Command::new(&cargo)
            .args(args)
            .current_dir(dir.join(package))
            .env("CARGO_TARGET_DIR", dir.join("target"))
            .output()
            .map_err(|e| e.to_string())?;
        if !out.status.success() {
            return Err(format!("`cargo {}` failed:\n{}", args.join(" "), String::from_utf8_lossy(&out.stderr)));
        }
        Ok(start.elapsed())
    };
    println!("\ndebug build of one crate (dependencies already built), median of {runs} interleaved runs\n");
    println!("| crate | median | lines of Rust compiled |\n|---|---:|---:|");
    for (package, _, _) in &members {
        cargo_in(package, &["build", "-q"])?;
    }
    // Interleaved, so a slower phase of the machine hits every crate alike.
    let mut times: Vec<Vec<Duration>> = vec![Vec::new(); members.len()];
    for _ in 0..runs {
        for (i, (package, krate, _)) in members.iter().enumerate() {
            cargo_in(package, &["clean", "-q", "-p", krate])?;
            times[i].push(cargo_in(package, &["build", "-q"])?);
        }
    }
    for ((_, krate, label), t) in members.iter().zip(times) {
        println!("| {label} | {:.1?} | {} |", median(t), compiled_lines(krate, label, summaries));
    }
    Ok(())
}

fn write_package(dir: &Path, name: &str, dependency: &str) -> Result<(), String> {
    let pkg = dir.join(name);
    std::fs::create_dir_all(pkg.join("src")).map_err(|e| e.to_string())?;
    std::fs::write(
        pkg.join("Cargo.toml"),
        format!("[package]\nname = \"{name}\"\nversion = \"0.0.0\"\nedition = \"2021\"\npublish = false\n\n[dependencies]\n{dependency}\n\n[workspace]\n"),
    )
    .map_err(|e| e.to_string())?;
    std::fs::write(pkg.join("src/lib.rs"), "").map_err(|e| e.to_string())
}

/// Lines of Rust the build compiles: for moby-api the modules of its one feature.
fn compiled_lines(krate: &str, label: &str, summaries: &[VersionSummary]) -> String {
    let count = |p: &Path| std::fs::read_to_string(p).map(|t| t.lines().count()).unwrap_or(0);
    if krate == "moby-api" {
        let feature = label.rsplit(' ').next().unwrap_or_default();
        return summaries.iter().find(|s| s.version.ident() == feature).map(|s| s.lines.to_string()).unwrap_or_else(|| "?".into());
    }
    let registry =
        std::env::var_os("CARGO_HOME").map(std::path::PathBuf::from).unwrap_or_else(|| dirs_home().join(".cargo")).join("registry/src");
    let version = label.rsplit(' ').next().unwrap_or_default();
    let mut total = 0;
    for index in std::fs::read_dir(registry).into_iter().flatten().flatten() {
        let src = index.path().join(format!("{krate}-{version}/src"));
        let mut stack = vec![src];
        while let Some(d) = stack.pop() {
            for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
                let p = e.path();
                if p.is_dir() {
                    stack.push(p);
                } else if p.extension().is_some_and(|x| x == "rs") {
                    total += count(&p);
                }
            }
        }
        if total > 0 {
            break;
        }
    }
    total.to_string()
}

fn dirs_home() -> std::path::PathBuf {
    std::env::var_os("HOME").map(std::path::PathBuf::from).unwrap_or_default()
}
