//! `cargo xtask bench-peers`: the generated client against bollard and curl on a private
//! Docker Engine (request rates and log throughput), and the generated server against the
//! same route in plain axum and against that engine's dockerd (request rates), as markdown
//! tables. `--only client` or `--only server` runs one half.
//!
//! Starts (or reuses) the engine with tests/engine/engine.sh, builds the standalone crate
//! tests/bench in release into target/bench (its own workspace and lock file, so bollard
//! stays out of the main one), runs it against the engine's socket, and stops the engine
//! again unless it was already running. A benchmark: nothing about time is asserted.

use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use crate::{engine, root};

/// The engine's state directory: short, because unix socket paths are limited to 107 bytes.
fn engine_dir() -> PathBuf {
    std::env::temp_dir().join("moby-api-bench-engine")
}

/// What to measure, passed on to the benchmark binary.
pub struct Options {
    pub requests: usize,
    pub log_mb: u64,
    pub runs: usize,
    pub server_requests: usize,
    /// `client` or `server`; both when `None`.
    pub only: Option<String>,
}

pub fn run(options: &Options) -> Result<(), String> {
    let dir = engine_dir();
    let was_running = answers_ping(&dir.join("docker.sock"));
    // The server half needs the engine too: its dockerd is the `/_ping` peer.
    let host = engine::start(&dir, "20.10")?;
    let result = build_and_run(&host, options);
    if was_running {
        eprintln!("engine in {} was already running: left running", dir.display());
    } else {
        engine::stop(&dir);
    }
    result
}

fn build_and_run(host: &str, options: &Options) -> Result<(), String> {
    let root = root();
    let target = root.join("target/bench");
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    eprintln!("building tests/bench (release) into {}", target.display());
    let status = Command::new(&cargo)
        .args(["build", "--release", "--manifest-path"])
        .arg(root.join("tests/bench/Cargo.toml"))
        .env("CARGO_TARGET_DIR", &target)
        .status()
        .map_err(|e| format!("cannot run cargo: {e}"))?;
    if !status.success() {
        return Err(format!("building tests/bench failed ({status})"));
    }
    let mut bench = Command::new(target.join("release/moby-api-bench"));
    bench.arg("--socket").arg(host).args([
        "--requests",
        &options.requests.to_string(),
        "--log-mb",
        &options.log_mb.to_string(),
        "--runs",
        &options.runs.to_string(),
        "--server-requests",
        &options.server_requests.to_string(),
    ]);
    if let Some(only) = &options.only {
        bench.args(["--only", only]);
    }
    let status = bench.status().map_err(|e| format!("cannot run moby-api-bench: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("moby-api-bench failed ({status})"))
    }
}

/// Whether an engine answers `/_ping` on `socket` (so that this run must not stop it).
fn answers_ping(socket: &Path) -> bool {
    let Ok(mut stream) = UnixStream::connect(socket) else { return false };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
    let _ = stream.set_write_timeout(Some(Duration::from_secs(2)));
    if stream.write_all(b"GET /_ping HTTP/1.0\r\nHost: docker\r\n\r\n").is_err() {
        return false;
    }
    let mut answer = Vec::new();
    let _ = stream.take(4096).read_to_end(&mut answer);
    answer.starts_with(b"HTTP/1.1 200") || answer.starts_with(b"HTTP/1.0 200")
}
