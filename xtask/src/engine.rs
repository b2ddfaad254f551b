//! Private Docker Engines for the commands that need one: `tests/engine/engine.sh` starts
//! and stops them, one state directory each.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::root;

fn engine_sh() -> PathBuf {
    root().join("tests/engine/engine.sh")
}

/// `engine.sh start DIR NAME` (which also imports busybox:test); its `DOCKER_HOST`, or why
/// it did not start, with what engine.sh said on stderr.
pub fn start(dir: &Path, name: &str) -> Result<String, String> {
    let out =
        Command::new("bash").arg(engine_sh()).arg("start").arg(dir).arg(name).output().map_err(|e| format!("cannot run engine.sh: {e}"))?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    if !out.status.success() {
        return Err(format!("engine.sh start {} {name} failed ({}):\n{stderr}", dir.display(), out.status));
    }
    match stdout.lines().find_map(|l| l.strip_prefix("export DOCKER_HOST=")) {
        Some(host) => {
            eprint!("{stderr}");
            Ok(host.trim().to_string())
        }
        None => Err(format!("engine.sh printed no DOCKER_HOST:\n{stdout}{stderr}")),
    }
}

/// `engine.sh stop DIR`: the engine and everything it started; a warning if that fails.
pub fn stop(dir: &Path) {
    let status = Command::new("bash").arg(engine_sh()).arg("stop").arg(dir).status();
    if !status.is_ok_and(|s| s.success()) {
        eprintln!("warning: engine.sh stop {} did not finish cleanly", dir.display());
    }
}
