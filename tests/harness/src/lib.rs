//! What the tests that drive real Docker clients share, so that the example engine's tests
//! and the proxy's differential suite run clients the same way:
//!
//! - [`command`]: a client command for one engine (no inherited `DOCKER_*` settings, an empty
//!   client configuration, optionally a pinned API version), run with a deadline;
//! - [`clients`]: the clients beyond the docker CLIs (Debian's docker-compose, the Python
//!   `docker` SDK) and the rule that a missing one skips outside CI and fails under it;
//! - [`terminal`]: a client on a real pseudo-terminal, keys typed as the shell prompts;
//! - [`mask`]: what a command showed, with what varies from run to run (ids, times, a
//!   session's own tag) masked, so two runs can be compared as text;
//! - [`proxy`]: a proxy binary started on a private unix socket in front of an engine.

pub mod clients;
pub mod command;
pub mod mask;
pub mod proxy;
pub mod terminal;

pub use clients::{docker_compose, docker_py, python3, require, test_engine, CLI_20_10, CLI_28};
pub use command::{client, in_ci, lines, run_command, run_command_within, unix_seconds, Out, Target, COMMAND_TIMEOUT};
