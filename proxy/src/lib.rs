//! `moby-proxy`: a Docker socket proxy that knows the Engine API.
//!
//! Every request is classified once, the way the engine will read it, against the
//! generated route table of its version ([`classify`]); judged by the policy of one
//! configuration file ([`config`]): operations allowed, typed rules on bodies ([`rules`]),
//! visibility scoped by a label ([`scope`]); and forwarded faithfully, rebuilt from what
//! was classified ([`forward`], bodiless reads over [`http1`]). Each decision is one audit line ([`audit`]).
//!
//! - [`tables`]: the generated route tables of every version built in;
//! - [`proxy`]: one request from the client to the engine and back;
//! - [`typed`]: `--typed`, every JSON answer through the version's models;
//! - `main.rs`: the command line and serving.

pub mod audit;
pub mod classify;
pub mod config;
pub mod forward;
pub mod http1;
pub mod proxy;
pub mod rules;
pub mod scope;
pub mod tables;
pub mod typed;

/// The newest models the proxy is built with: the body rules read every version's bodies
/// through them.
pub use moby_api::v1_55 as newest;
