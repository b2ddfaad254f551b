//! `cargo xtask`: the project's commands (codegen, bench).

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

mod bench;
mod bench_build;
mod bench_peers;
mod bench_proxy;
mod codegen;
mod diff;
mod engine;
mod load;
mod published;
mod test;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(name = "cargo xtask", about = "moby-api project tasks")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(clap::Args, Clone)]
pub struct SpecArgs {
    /// Directory with the upstream Docker Engine API files (v1.25.yaml … v1.49.yaml, v1.24.md, CHANGELOG.md).
    #[arg(long, env = "MOBY_API_SPEC_DIR")]
    spec_dir: Option<PathBuf>,
}

#[derive(Subcommand)]
enum Command {
    /// Regenerate the `generated/` crate from the specifications.
    Codegen {
        /// Change nothing; fail and name the files that differ from what would be generated.
        #[arg(long)]
        check: bool,
        #[command(flatten)]
        spec: SpecArgs,
    },
    /// Print what changed between two API versions (either order), e.g. `diff 1.40 1.41`.
    Diff {
        /// The version to compare from (`1.40`, `v1.40`).
        from: String,
        /// The version to compare to.
        to: String,
        /// Machine-readable output.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        spec: SpecArgs,
    },
    /// Write the compatibility document (docs/compatibility.md); `codegen` writes it too.
    Matrix {
        #[command(flatten)]
        spec: SpecArgs,
    },
    /// Run every check CI runs: freshness, clippy, all tests, the downstream crate.
    Test {
        #[command(flatten)]
        spec: SpecArgs,
    },
    /// The published crates' checks of `test` alone: rustdoc as docs.rs builds it, and the
    /// packaged crates building the README's programs in a crate outside the workspace.
    Published,
    /// Time every stage of generating all versions, and optionally compare the compile time
    /// of one version of the generated crate with bollard-stubs.
    Bench {
        /// Runs of the generator to take the median of.
        #[arg(long, default_value_t = 5)]
        runs: usize,
        /// Also measure debug-build times (one version of moby-api vs bollard-stubs).
        #[arg(long)]
        compile: bool,
        #[command(flatten)]
        spec: SpecArgs,
    },
    /// Clean debug and release build times of one client program on moby-api (unix socket
    /// only, and with `tls`) and on bollard (likewise), interleaved, as a markdown table.
    BenchBuild {
        /// Clean builds per program and profile (at least 3 for a spread).
        #[arg(long, default_value_t = 3)]
        runs: usize,
        /// Only the unix-socket builds (no TLS stack on either side).
        #[arg(long, conflicts_with = "tls_only")]
        unix_only: bool,
        /// Only the builds with TLS.
        #[arg(long)]
        tls_only: bool,
    },
    /// Benchmark the generated client against bollard and curl on a private Docker Engine
    /// (request rates and log throughput), and the generated server against plain axum and
    /// that engine's dockerd (request rates), as markdown tables (tests/bench).
    BenchPeers {
        /// Requests per run of the client's `/_ping` measurements (a quarter of them for `/containers/json`).
        #[arg(long, default_value_t = 2000)]
        requests: usize,
        /// MiB of log output to read back.
        #[arg(long, default_value_t = 64)]
        log_mb: u64,
        /// Timed runs per measurement (at least 3); each cell is their median.
        #[arg(long, default_value_t = 5)]
        runs: usize,
        /// Requests per run of the server measurements (sequential; a sixteenth per connection
        /// for 16 connections).
        #[arg(long, default_value_t = 10_000)]
        server_requests: usize,
        /// Only the client or only the server half.
        #[arg(long, value_parser = ["client", "server"])]
        only: Option<String>,
    },
    /// Benchmark the socket proxy (moby-proxy, release) against the engine directly and
    /// against HAProxy as a path-allowlist proxy (installed with apt when missing), all on
    /// unix sockets in front of a private Engine 28.5.2: request rates, log throughput, CPU
    /// per request, as a markdown table.
    BenchProxy {
        /// Requests per round of the `/_ping` measurement (a quarter of them for `/containers/json`).
        #[arg(long, default_value_t = 8000)]
        requests: usize,
        /// Concurrent keep-alive connections.
        #[arg(long, default_value_t = 8)]
        connections: usize,
        /// MiB of log output to read back.
        #[arg(long, default_value_t = 200)]
        log_mb: u64,
        /// Rounds per measurement (each contender once per round), after one warm-up round.
        #[arg(long, default_value_t = 5)]
        runs: usize,
    },
    /// Load the example engine (release build) on loopback with wrk while streams stay
    /// open; print requests, errors and resident memory over time (installs wrk with apt
    /// when missing).
    Load {
        /// Concurrent wrk connections.
        #[arg(long, default_value_t = 100)]
        connections: usize,
        /// Streams held open meanwhile (half `events`, half `logs -f`).
        #[arg(long, default_value_t = 200)]
        streams: usize,
        /// wrk rounds (each on one path: container list, `/_ping`, container inspect).
        #[arg(long, default_value_t = 6)]
        rounds: usize,
        /// Seconds per round.
        #[arg(long, default_value_t = 10)]
        seconds: u64,
    },
}

/// The repository root (the parent of `xtask/`).
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("xtask lives in the repository").to_path_buf()
}

impl SpecArgs {
    pub fn inputs(&self) -> moby_api_codegen::pipeline::Inputs {
        let root = root();
        moby_api_codegen::pipeline::Inputs {
            upstream: self.spec_dir.clone().unwrap_or_else(|| root.join("../shared/docker-api")),
            project_spec: root.join("spec"),
        }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Codegen { check, spec } => codegen::run(&spec.inputs(), check),
        Command::Diff { from, to, json, spec } => diff::run(&spec.inputs(), &from, &to, json),
        Command::Matrix { spec } => codegen::matrix(&spec.inputs()),
        Command::Test { spec } => test::run(&spec.inputs()),
        Command::Published => {
            let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
            published::rustdoc(&cargo).and_then(|()| published::downstream(&cargo))
        }
        Command::Bench { runs, compile, spec } => bench::run(&spec.inputs(), runs, compile),
        Command::BenchBuild { runs, unix_only, tls_only } => bench_build::run(runs, !unix_only, !tls_only),
        Command::BenchPeers { requests, log_mb, runs, server_requests, only } => {
            bench_peers::run(&bench_peers::Options { requests, log_mb, runs, server_requests, only })
        }
        Command::BenchProxy { requests, connections, log_mb, runs } => {
            bench_proxy::run(&bench_proxy::Options { requests, connections, log_mb, runs })
        }
        Command::Load { connections, streams, rounds, seconds } => load::run(&load::Options { connections, streams, rounds, seconds }),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("{message}");
            ExitCode::FAILURE
        }
    }
}
