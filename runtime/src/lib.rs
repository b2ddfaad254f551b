//! The handwritten runtime that the generated `moby-api` crate builds on.
//!
//! Generated code stays declarative; what it shares lives here once: today the JSON
//! helpers of the models, later the transports, streams and server glue.

pub mod json;
#[cfg(feature = "streams")]
pub mod stream;
