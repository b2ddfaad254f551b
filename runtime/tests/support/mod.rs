//! What the real-engine tests share: which engine to use, and the rule that CI must run them.

use moby_api_runtime::client::Host;

/// The variable `cargo xtask test` sets to Engine 20.10's socket (spec/engines.yaml), the
/// engine these tests were written against.
const ENGINE: &str = "MOBY_API_TEST_ENGINE_20_10";

/// The engine of `MOBY_API_TEST_ENGINE_20_10` (started by `cargo xtask test`). Without it
/// the caller skips, except under CI, where the test fails.
pub fn engine_host() -> Option<Host> {
    match std::env::var(ENGINE) {
        Ok(text) if !text.is_empty() => Some(Host::parse(&text).expect(ENGINE)),
        _ if std::env::var_os("CI").is_some_and(|v| !v.is_empty()) => panic!(
            "{ENGINE} is not set, and CI must run the real-engine tests: start an engine with \
             `bash tests/engine/engine.sh start DIR` and export {ENGINE}=unix://DIR/docker.sock"
        ),
        _ => {
            println!("skipped: no engine (set {ENGINE}=unix:///…/docker.sock)");
            None
        }
    }
}
