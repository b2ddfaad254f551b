//! What the real-engine tests share: which engine to use, and the rule that CI must run them.

use moby_api_runtime::client::Host;

/// The engine of `MOBY_API_TEST_DOCKER_HOST` (started by `cargo xtask test`). Without it the
/// caller skips, except under CI, where the test fails.
pub fn engine_host() -> Option<Host> {
    match std::env::var("MOBY_API_TEST_DOCKER_HOST") {
        Ok(text) if !text.is_empty() => Some(Host::parse(&text).expect("MOBY_API_TEST_DOCKER_HOST")),
        _ if std::env::var_os("CI").is_some_and(|v| !v.is_empty()) => panic!(
            "MOBY_API_TEST_DOCKER_HOST is not set, and CI must run the real-engine tests: start an engine with \
             `bash tests/engine/engine.sh start DIR` and export MOBY_API_TEST_DOCKER_HOST=unix://DIR/docker.sock"
        ),
        _ => {
            println!("skipped: no engine (set MOBY_API_TEST_DOCKER_HOST=unix:///…/docker.sock)");
            None
        }
    }
}
