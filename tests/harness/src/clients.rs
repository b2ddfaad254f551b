//! The real clients the tests drive, and what happens when one is missing: a skip outside
//! CI, a failure under it.

use std::path::Path;
use std::process::Command;

use crate::command::in_ci;

/// The docker CLI 28.x.
pub const CLI_28: &str = "/usr/local/bin/docker";
/// Debian's docker CLI 20.10 (from `docker.io`).
pub const CLI_20_10: &str = "/usr/bin/docker";

/// Whether to go on: a missing prerequisite fails under CI and skips elsewhere.
pub fn require(available: bool, what: &str) -> bool {
    if available {
        return true;
    }
    assert!(!in_ci(), "{what} (CI is set, so this is a failure, not a skip)");
    eprintln!("skipped: {what}");
    false
}

/// The `DOCKER_HOST` of the private engine `name` (`20.10`, `28.5.2`) that `cargo xtask test`
/// started (`MOBY_API_TEST_ENGINE_20_10`, `MOBY_API_TEST_ENGINE_28_5_2`), or `None` (a skip
/// outside CI, a failure under it).
pub fn test_engine(name: &str) -> Option<String> {
    let var = format!("MOBY_API_TEST_ENGINE_{}", name.replace('.', "_"));
    let host = std::env::var(&var).ok().filter(|h| !h.is_empty());
    require(host.is_some(), &format!("{var} is not set: no Engine {name} to run against")).then(|| host.unwrap_or_default())
}

/// `python3`, if it runs (it drives the pseudo-terminal and docker-py).
pub fn python3() -> Option<&'static str> {
    let works = Command::new("python3").arg("--version").output().is_ok_and(|o| o.status.success());
    require(works, "python3 not found").then_some("python3")
}

/// `python3` with the `docker` SDK importable, installed with pip when missing.
pub fn docker_py() -> Option<&'static str> {
    let python = python3()?;
    let import = || Command::new(python).args(["-c", "import docker"]).output().is_ok_and(|o| o.status.success());
    let available = import()
        || (Command::new(python).args(["-m", "pip", "install", "--quiet", "docker"]).output().is_ok_and(|o| o.status.success())
            && import());
    require(available, "the Python docker SDK is not installed and `pip install docker` failed").then_some(python)
}

/// Debian's docker-compose (v1), installed with apt when missing (as root).
pub fn docker_compose() -> Option<&'static str> {
    const PATH: &str = "/usr/bin/docker-compose";
    let works = || Command::new(PATH).arg("version").output().is_ok_and(|o| o.status.success());
    if !works() && Path::new("/usr/bin/apt-get").exists() {
        let apt = |args: &[&str]| {
            Command::new("apt-get").args(args).env("DEBIAN_FRONTEND", "noninteractive").output().is_ok_and(|o| o.status.success())
        };
        let _ = apt(&["update", "-q"]) && apt(&["install", "-y", "-q", "--no-install-recommends", "docker-compose"]);
    }
    require(works(), "docker-compose is not installed and `apt-get install docker-compose` failed").then_some(PATH)
}
