//! A user who talks to the daemon over a unix socket compiles no TLS crate: `moby-api`'s
//! dependency tree (this platform's, from the lock file) with `client` and `server` but
//! without `tls` holds none; with `tls` it holds rustls and its provider (so the check sees
//! what it looks for).

use std::collections::BTreeSet;
use std::process::Command;

/// Crates that only a TLS stack brings: rustls and its providers and verifiers, and the
/// OpenSSL and platform TLS bindings a dependency could bring instead.
const TLS_CRATES: &[&str] = &[
    "rustls",
    "rustls-webpki",
    "rustls-platform-verifier",
    "rustls-native-certs",
    "webpki-roots",
    "ring",
    "aws-lc-rs",
    "aws-lc-sys",
    "tokio-rustls",
    "hyper-rustls",
    "native-tls",
    "hyper-tls",
    "tokio-native-tls",
    "openssl",
    "openssl-sys",
    "security-framework",
    "schannel",
];

/// The names of the crates in `moby-api`'s normal and build dependency tree with `features`.
fn tree(features: &str) -> BTreeSet<String> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = Command::new(cargo)
        .args(["tree", "--offline", "--package", "moby-api", "--no-default-features", "--features", features])
        .args(["--edges", "normal,build", "--prefix", "none", "--format", "{p}"])
        .current_dir(moby_api_tests::root())
        .output()
        .unwrap();
    assert!(out.status.success(), "cargo tree failed: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap().lines().filter_map(|l| l.split_whitespace().next()).map(str::to_owned).collect()
}

fn tls_crates(tree: &BTreeSet<String>) -> Vec<&str> {
    TLS_CRATES.iter().copied().filter(|c| tree.contains(*c)).collect()
}

#[test]
fn a_unix_socket_build_has_no_tls_crate() {
    let tree = tree("v1_41,client,server,roundtrip");
    assert!(tree.contains("reqwest") && tree.contains("axum"), "{tree:?}");
    assert_eq!(tls_crates(&tree), Vec::<&str>::new(), "without the `tls` feature");
}

#[test]
fn the_tls_feature_brings_rustls_with_aws_lc() {
    let tree = tree("v1_41,tls");
    let found = tls_crates(&tree);
    for wanted in ["rustls", "aws-lc-rs", "rustls-platform-verifier"] {
        assert!(found.contains(&wanted), "{wanted} missing from {found:?}");
    }
    // Nor a second provider or OpenSSL.
    for unwanted in ["ring", "openssl", "native-tls"] {
        assert!(!found.contains(&unwanted), "{unwanted} in {found:?}");
    }
}
