//! The handwritten runtime that the generated `moby-api` crate builds on.
//!
//! Generated code stays declarative; what it shares lives here once:
//! - [`json`]: helpers of the models (always on);
//! - [`version`], [`filters`] and [`path`]: API versions, the `filters` parameter and path
//!   parameters, used by both sides (always on);
//! - [`secret`]: values kept out of `Debug` output (credentials, build arguments), and the
//!   headers and query parameters that hold them (always on);
//! - `stream` (feature `streams`): log frames, JSON lines and progress as `futures::Stream`s;
//! - `client` (feature `client`): endpoints from the environment and docker contexts, the
//!   unix/TCP/TLS transport, lazy API version negotiation, Docker errors, registry auth;
//! - `server` (feature `server`): the dispatcher behind the generated axum route traits:
//!   version prefixes, greedy routes, Docker's query conventions and JSON errors, streamed
//!   and hijacked responses, serving on unix sockets and TCP.

#[cfg(feature = "client")]
pub mod client;
pub mod filters;
pub mod json;
pub mod path;
pub mod secret;
#[cfg(feature = "server")]
pub mod server;
#[cfg(feature = "streams")]
pub mod stream;
pub mod version;
