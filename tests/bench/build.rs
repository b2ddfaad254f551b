//! Records the bollard and axum versions Cargo resolved (from this crate's own Cargo.lock),
//! so the report can name them.

use std::path::Path;

fn main() {
    let lock = Path::new(env!("CARGO_MANIFEST_DIR")).join("Cargo.lock");
    println!("cargo:rerun-if-changed={}", lock.display());
    let text = std::fs::read_to_string(&lock).unwrap_or_default();
    for (package, variable) in [("bollard", "BOLLARD_VERSION"), ("axum", "AXUM_VERSION")] {
        println!("cargo:rustc-env={variable}={}", version(&text, package));
    }
}

/// The version of the first package called `name` in the lock file.
fn version<'a>(lock: &'a str, name: &str) -> &'a str {
    let wanted = format!("name = \"{name}\"");
    let mut lines = lock.lines();
    while let Some(line) = lines.next() {
        if line.trim() == wanted {
            if let Some(v) = lines.next().and_then(|l| l.trim().strip_prefix("version = ")) {
                return v.trim_matches('"');
            }
        }
    }
    "unknown"
}
