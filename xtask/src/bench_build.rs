//! `cargo xtask bench-build`: what a user waits for. The clean debug and release builds of
//! one client program (list the containers, the README's first program) written on
//! `moby-api` (one version and `client`, unix socket only and with `tls`) and on bollard
//! (its defaults, unix socket only, and with rustls on aws-lc-rs, the provider `tls` uses),
//! every dependency included, as a user's first `cargo build` compiles it.
//!
//! Each program is a crate of its own outside the workspace, depending on `moby-api` by
//! version as from crates.io (the packaged crates, as `cargo xtask published` makes them,
//! so the working tree can change while this runs), built offline from the lock file of
//! `tests/bench` (which holds both moby-api's and bollard's dependencies, so the crates they
//! share resolve to the same versions), into a target directory that is deleted before
//! every build. The runs are interleaved (every contender once per round, the order
//! rotating), so a busier phase of the machine hits them alike; the table gives each
//! contender's median with its smallest and largest run, of the wall time and of the CPU
//! time (which other work on a shared machine moves much less). `--unix-only` leaves the
//! TLS builds out: aws-lc-sys, a C library both TLS builds compile, takes most of their time;
//! `--tls-only` measures only those.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use crate::root;

/// The README's first program, as it is compiled by the tests.
const MOBY_PROGRAM: &str = "tests/examples/list_containers.rs";

/// The same program on bollard.
const BOLLARD_PROGRAM: &str = r#"//! List every container, running or not, like `docker ps -a`.

use bollard::query_parameters::ListContainersOptionsBuilder;
use bollard::Docker;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let docker = Docker::connect_with_defaults()?;
    let all = ListContainersOptionsBuilder::default().all(true).build();
    for container in docker.list_containers(Some(all)).await? {
        let id = container.id.unwrap_or_default();
        let names = container.names.unwrap_or_default().join(",");
        println!("{:.12}  {:<20}  {}", id, names, container.status.unwrap_or_default());
    }
    Ok(())
}
"#;

struct Contender {
    /// The package's name and the table's row.
    name: &'static str,
    label: String,
    /// Its dependency on moby-api or bollard (and what follows it in the manifest).
    dependencies: String,
    program: String,
}

pub fn run(runs: usize, with_tls: bool, with_unix: bool) -> Result<(), String> {
    let runs = runs.max(1);
    let dir = root().join("target/bench-build");
    let program = std::fs::read_to_string(root().join(MOBY_PROGRAM)).map_err(|e| format!("{MOBY_PROGRAM}: {e}"))?;
    let version = crate::published::version_of(&program).ok_or_else(|| format!("{MOBY_PROGRAM} names no version module"))?;
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let packed = crate::published::pack(&cargo, &dir)?;
    let moby = |features: &str| {
        format!(
            "moby-api = {{ version = \"{}\", default-features = false, features = [\"{version}\", {features}] }}\n\n[patch.crates-io]\n{}",
            packed.version, packed.patches
        )
    };
    let bollard_version = locked_version("bollard")?;
    let contenders = [
        Contender {
            name: "moby-api-unix",
            label: format!("moby-api {version} + client (unix socket only)"),
            dependencies: moby("\"client\""),
            program: program.clone(),
        },
        Contender {
            name: "moby-api-tls",
            label: format!("moby-api {version} + client + tls (rustls, aws-lc-rs)"),
            dependencies: moby("\"client\", \"tls\""),
            program,
        },
        Contender {
            name: "bollard-unix",
            label: format!("bollard {bollard_version}, default features (unix socket only)"),
            dependencies: format!("bollard = \"={bollard_version}\""),
            program: BOLLARD_PROGRAM.to_string(),
        },
        Contender {
            name: "bollard-tls",
            label: format!("bollard {bollard_version} + aws-lc-rs (rustls, aws-lc-rs)"),
            dependencies: format!("bollard = {{ version = \"={bollard_version}\", features = [\"aws-lc-rs\"] }}"),
            program: BOLLARD_PROGRAM.to_string(),
        },
    ];
    let contenders: Vec<Contender> = contenders
        .into_iter()
        .filter(|c| if c.name.ends_with("-tls") { with_tls } else { with_unix })
        .collect();
    for contender in &contenders {
        write_package(&dir, contender)?;
    }

    let profiles: [(&str, &[&str]); 2] = [("debug", &[]), ("release", &["--release"])];
    // builds[profile][contender]
    let mut builds = vec![vec![Vec::new(); contenders.len()]; profiles.len()];
    let mut crates = vec![0; contenders.len()];
    for round in 0..runs {
        for (p, (profile, args)) in profiles.iter().enumerate() {
            for k in 0..contenders.len() {
                let c = (round + k) % contenders.len();
                let build = clean_build(&cargo, &dir, contenders[c].name, args)?;
                eprintln!(
                    "round {}/{runs}, {profile}: {} {:.1} s wall, {:.1} s CPU ({} crates)",
                    round + 1,
                    contenders[c].name,
                    build.wall.as_secs_f64(),
                    build.cpu.as_secs_f64(),
                    build.crates
                );
                crates[c] = build.crates;
                builds[p][c].push(build);
            }
        }
    }

    let jobs = std::env::var("CARGO_BUILD_JOBS").unwrap_or_else(|_| "default".into());
    println!(
        "\nclean build of one client program (every dependency), {runs} interleaved runs each, \
         {} cores, CARGO_BUILD_JOBS={jobs}; median (min–max) of the wall time and of the CPU time \
         (user + system of cargo and everything it ran: less moved by other work on the machine)\n",
        std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0)
    );
    println!("| program | crates compiled | debug, wall | debug, CPU | release, wall | release, CPU |\n|---|---:|---:|---:|---:|---:|");
    for (c, contender) in contenders.iter().enumerate() {
        let cell = |builds: &[Build], of: fn(&Build) -> Duration| {
            let mut t: Vec<f64> = builds.iter().map(|b| of(b).as_secs_f64()).collect();
            t.sort_by(f64::total_cmp);
            format!("{:.0} s ({:.0}–{:.0})", t[t.len() / 2], t[0], t[t.len() - 1])
        };
        let (debug, release) = (&builds[0][c], &builds[1][c]);
        println!(
            "| {} | {} | {} | {} | {} | {} |",
            contender.label,
            crates[c],
            cell(debug, |b| b.wall),
            cell(debug, |b| b.cpu),
            cell(release, |b| b.wall),
            cell(release, |b| b.cpu)
        );
    }
    Ok(())
}

/// One clean build.
#[derive(Clone)]
struct Build {
    wall: Duration,
    /// User and system time of cargo and every process it waited for (rustc, build scripts,
    /// the C compiler).
    cpu: Duration,
    crates: usize,
}

/// User plus system time of this process's children that have ended and been waited for
/// (`cutime` and `cstime` of /proc/self/stat, which include their own waited-for children).
fn children_cpu() -> Result<Duration, String> {
    let stat = std::fs::read_to_string("/proc/self/stat").map_err(|e| format!("/proc/self/stat: {e}"))?;
    // The fields after the command name, which is in parentheses: state is field 3, cutime 16.
    let fields: Vec<&str> = stat.rsplit_once(')').map(|(_, rest)| rest.split_whitespace().collect()).unwrap_or_default();
    let field = |n: usize| fields.get(n - 3).and_then(|f| f.parse::<u64>().ok()).ok_or("/proc/self/stat: no cutime and cstime");
    // Clock ticks of 1/100 s (USER_HZ, 100 on Linux's every architecture for this interface).
    Ok(Duration::from_millis((field(16)? + field(17)?) * 10))
}

/// Deletes the package's target directory and builds it; the time and the number of crates
/// compiled.
fn clean_build(cargo: &str, dir: &Path, package: &str, args: &[&str]) -> Result<Build, String> {
    let target = dir.join("target").join(package);
    if target.exists() {
        std::fs::remove_dir_all(&target).map_err(|e| format!("{}: {e}", target.display()))?;
    }
    let (start, cpu_before) = (Instant::now(), children_cpu()?);
    let out = Command::new(cargo)
        .args(["build", "--offline", "--locked"])
        .args(args)
        .current_dir(dir.join(package))
        .env("CARGO_TARGET_DIR", &target)
        .env_remove("RUSTFLAGS")
        .output()
        .map_err(|e| e.to_string())?;
    let (wall, cpu) = (start.elapsed(), children_cpu()? - cpu_before);
    let stderr = String::from_utf8_lossy(&out.stderr);
    if !out.status.success() {
        return Err(format!("building {package} failed:\n{stderr}"));
    }
    Ok(Build { wall, cpu, crates: stderr.lines().filter(|l| l.trim_start().starts_with("Compiling ")).count() })
}

/// A package of its own (not in the workspace), with a lock file resolved offline from
/// `tests/bench`'s, so `--locked` builds do not resolve again.
fn write_package(dir: &Path, contender: &Contender) -> Result<(), String> {
    let pkg = dir.join(contender.name);
    std::fs::create_dir_all(pkg.join("src")).map_err(|e| e.to_string())?;
    let manifest = format!(
        "[package]\nname = \"{}\"\nversion = \"0.0.0\"\nedition = \"2021\"\npublish = false\n\n[workspace]\n\n[dependencies]\n\
         tokio = {{ version = \"1\", features = [\"macros\", \"rt-multi-thread\"] }}\n{}\n",
        contender.name, contender.dependencies
    );
    std::fs::write(pkg.join("Cargo.toml"), manifest).map_err(|e| e.to_string())?;
    std::fs::write(pkg.join("src/main.rs"), &contender.program).map_err(|e| e.to_string())?;
    std::fs::copy(bench_lock(), pkg.join("Cargo.lock")).map_err(|e| e.to_string())?;
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = Command::new(cargo).args(["update", "--offline", "--workspace"]).current_dir(&pkg).output().map_err(|e| e.to_string())?;
    if !out.status.success() {
        return Err(format!("resolving {} offline failed:\n{}", contender.name, String::from_utf8_lossy(&out.stderr)));
    }
    Ok(())
}

fn bench_lock() -> PathBuf {
    root().join("tests/bench/Cargo.lock")
}

/// The version of a crate in `tests/bench`'s lock file.
fn locked_version(name: &str) -> Result<String, String> {
    let lock = std::fs::read_to_string(bench_lock()).map_err(|e| e.to_string())?;
    let entry = format!("name = \"{name}\"\nversion = \"");
    let at = lock.find(&entry).ok_or_else(|| format!("no {name} in tests/bench/Cargo.lock"))? + entry.len();
    Ok(lock[at..].split('"').next().unwrap_or_default().to_string())
}
