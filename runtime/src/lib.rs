//! The handwritten runtime that the generated `moby-api` crate builds on.
//!
//! Generated code stays declarative; what it shares lives here once:
//! - [`json`]: helpers of the models (always on);
//! - [`version`] and [`filters`]: API versions and the `filters` parameter, used by both
//!   sides (always on);
//! - `stream` (feature `streams`): log frames, JSON lines and progress as `futures::Stream`s;
//! - `client` (feature `client`): endpoints from the environment and docker contexts, the
//!   unix/TCP/TLS transport, lazy API version negotiation, Docker errors, registry auth.

#[cfg(feature = "client")]
pub mod client;
pub mod filters;
pub mod json;
#[cfg(feature = "streams")]
pub mod stream;
pub mod version;
