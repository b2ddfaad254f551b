//! The connection layer the generated client calls (feature `client`): which daemon to
//! talk to, one pooled HTTP client per daemon, the API version in every path, and the
//! daemon's errors.
//!
//! - [`Endpoint`] resolves `DOCKER_HOST`, `DOCKER_TLS_VERIFY`, `DOCKER_CERT_PATH`,
//!   `DOCKER_API_VERSION` and docker contexts like the CLI; [`Endpoint::from_env_with`]
//!   takes the environment as a function so tests need not touch the process.
//! - [`Transport`] holds one `reqwest::Client` per endpoint (unix socket, TCP, and with
//!   the `tls` feature TLS with rustls: no OpenSSL), negotiates the version once and lazily
//!   ([`ApiVersionPolicy`]), sends [`Request`]s under `/v{X.Y}`, bounds a one-shot call
//!   (request to decoded answer) by its timeout and the body it reads into memory by a
//!   limit, and never cuts a stream the caller is reading.
//! - [`Error`] tells transport failures, timeouts, the daemon's JSON errors
//!   ([`Error::Api`]) and anything unexpected apart; nothing here panics on a response.
//! - [`RegistryAuth`] and [`RegistryConfig`] encode `X-Registry-Auth` and
//!   `X-Registry-Config` as the daemon decodes them (base64url, padded).
//! - Bodies that are not one JSON document: [`Transport::send_logs`] ([`LogOutput`], framed
//!   or raw as the Content-Type or the [`TtySource`] says), [`Transport::send_json_lines`]
//!   (stats, events), [`Transport::send_progress`] (pull, push, build, load),
//!   [`Transport::send_bytes`] (tar out), and [`Transport::upgrade`] for attach and exec
//!   ([`Hijacked`]: output stream plus a stdin writer that can half-close).
//! - Bodies going out: [`body_from_stream`], [`body_from_reader`], and
//!   [`build_context`], a directory as the CLI's build context tar with `.dockerignore`
//!   ([`DockerIgnore`]) applied; [`PathStat`] reads what `HEAD /containers/{id}/archive`
//!   says about a path.
//!
//! ```no_run
//! # async fn demo() -> Result<(), moby_api_runtime::client::Error> {
//! use moby_api_runtime::client::{ApiVersion, Request, Transport};
//!
//! let transport = Transport::from_env(ApiVersion::new(1, 41))?;
//! let version: serde_json::Value = transport.send_json(Request::get("/version")).await?;
//! println!("{} speaks {}", version["Version"], transport.api_version().await?);
//! # Ok(())
//! # }
//! ```

mod archive;
mod auth;
mod body;
mod build_context;
mod direct;
mod dockerignore;
mod endpoint;
mod error;
mod hijack;
mod host;
mod streams;
#[cfg(feature = "tls")]
mod tls;
mod transport;
mod version;

pub use crate::version::{ApiVersion, ParseApiVersionError};
pub use archive::{PathStat, PATH_STAT_HEADER};
pub use auth::{RegistryAuth, RegistryConfig};
pub use body::{body_from_reader, body_from_stream};
pub use build_context::{build_context, BuildContext};
pub use dockerignore::DockerIgnore;
pub use endpoint::{context_dir_name, Endpoint, TlsSettings, DEFAULT_CONTEXT};
pub use error::{Error, MAX_ERROR_BODY};
pub use hijack::{HijackInput, HijackOutput, Hijacked};
pub use host::{Host, TcpScheme, DEFAULT_SOCKET};
pub use streams::{ByteStream, JsonLinesOutput, LogOutput, ProgressOutput, TtySource};
pub use transport::{Call, IntoRequest, Outcome, Ping, Request, Transport, TransportBuilder, DEFAULT_CONNECT_TIMEOUT, DEFAULT_MAX_BODY_SIZE};
pub use version::ApiVersionPolicy;

/// The HTTP types requests and responses are made of, re-exported so callers need no
/// direct reqwest dependency of the same version.
pub use reqwest::{header, Body, Method, Response, StatusCode};
