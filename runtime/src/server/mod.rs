//! The server side of the generated axum route traits: a dispatcher that serves a version's
//! routes on a service the way the daemon does.
//!
//! The generated code stays declarative (one [`Route`] per operation, a request type that
//! reads its typed parameters out of an [`Incoming`] and a reply type that becomes a
//! [`Response`]); what every operation shares lives here once:
//! - [`config`]: how the server presents itself ([`ServerConfig`]);
//! - [`error`]: Docker's JSON errors ([`ApiError`]);
//! - [`query`]: the query string and Docker's conventions for it ([`Query`]);
//! - [`incoming`]: one routed request ([`Incoming`], [`Context`], [`RequestBody`]);
//! - [`operation`]: typed requests and replies ([`Endpoint`], [`Reply`]) and the handler
//!   that serves them ([`Route::operation`]);
//! - [`body`]: response bodies that are not one JSON document ([`StreamBody`]);
//! - [`deferred`]: long polls, a JSON document after an early response head ([`Deferred`]);
//! - [`hijack`]: attach and exec connections ([`Hijack`], [`Upgraded`]);
//! - [`respond`]: typed results to HTTP responses;
//! - [`pattern`]: greedy route templates (`/images/{name}/json`);
//! - [`dispatch`]: version prefixes, routing, common headers, panics ([`router`]);
//! - [`serve`](mod@serve): unix sockets and TCP under timeouts, a connection cap and a shutdown
//!   deadline ([`ConnectionConfig`]), each request knowing its [`Peer`]; `connection` drives each
//!   connection.
//!
//! A minimal server:
//!
//! ```no_run
//! use std::sync::Arc;
//! use moby_api_runtime::server::{self, respond, ApiVersion, BoxFuture, Incoming, Method, Response, Route, ServerConfig, StatusCode};
//!
//! struct Daemon;
//!
//! fn ping(_: Arc<Daemon>, _: Incoming) -> BoxFuture<Response> {
//!     Box::pin(async { respond::text(StatusCode::OK, "OK".to_owned()) })
//! }
//!
//! # async fn run() -> std::io::Result<()> {
//! let routes = vec![Route::new(Method::GET, "/_ping", "SystemPing", ping)];
//! let router = server::router(Arc::new(Daemon), routes, ServerConfig::new(ApiVersion::new(1, 41)));
//! server::serve_unix(router, "/tmp/moby.sock", 0o660, std::future::pending()).await
//! # }
//! ```

pub mod body;
pub mod config;
mod connection;
pub mod deferred;
pub mod dispatch;
pub mod error;
pub mod hijack;
pub mod incoming;
pub mod operation;
pub mod pattern;
pub mod query;
pub mod respond;
pub mod serve;

pub use axum;
pub use axum::http::{HeaderMap, Method, StatusCode};
pub use axum::response::Response;

pub use crate::filters::Filters;
pub use crate::version::ApiVersion;

pub use body::StreamBody;
pub use config::ServerConfig;
pub use deferred::Deferred;
pub use dispatch::{router, Handler, OperationRoute, Route};
pub use error::ApiError;
pub use hijack::{Hijack, Upgraded};
pub use incoming::{Context, Incoming, RequestBody};
pub use operation::{not_implemented, Call, Endpoint, Reply};
pub use query::Query;
#[cfg(unix)]
pub use serve::{bind_unix, serve_unix, serve_unix_listener};
pub use serve::{default_max_connections, serve, serve_tcp, serve_tcp_listener, ConnectionConfig, Listener, Peer};

/// The future a route handler returns: boxed, so that one table can hold the handlers of
/// every operation.
pub type BoxFuture<T> = std::pin::Pin<Box<dyn std::future::Future<Output = T> + Send + 'static>>;
