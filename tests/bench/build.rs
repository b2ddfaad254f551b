//! Records the bollard version Cargo resolved (from this crate's own Cargo.lock), so the
//! report can name it.

use std::path::Path;

fn main() {
    let lock = Path::new(env!("CARGO_MANIFEST_DIR")).join("Cargo.lock");
    println!("cargo:rerun-if-changed={}", lock.display());
    let text = std::fs::read_to_string(&lock).unwrap_or_default();
    let mut lines = text.lines();
    let mut version = "unknown";
    while let Some(line) = lines.next() {
        if line.trim() == "name = \"bollard\"" {
            if let Some(v) = lines.next().and_then(|l| l.trim().strip_prefix("version = ")) {
                version = v.trim_matches('"');
            }
            break;
        }
    }
    println!("cargo:rustc-env=BOLLARD_VERSION={version}");
}
