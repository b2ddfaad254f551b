//! What can go wrong between the caller and the daemon.

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

/// The most of an error body that is read, as the Go client does (1 MiB).
pub const MAX_ERROR_BODY: usize = 1 << 20;

/// How much of an unexpected body an [`Error::UnexpectedResponse`] keeps for display.
const KEPT_BODY: usize = 4096;

/// An error of the connection layer or an error answer of the daemon.
///
/// Nothing here holds credentials: request URLs lose their query string (build
/// arguments can be secrets), and registry auth only ever travels in headers.
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// `DOCKER_HOST`, a context, a certificate or an option is unusable.
    Config(String),
    /// A connection kind this runtime does not implement (`npipe://`, `ssh://`, `fd://`), or
    /// a TLS endpoint in a build without the `tls` feature.
    Unsupported(String),
    /// A file of the configuration (`config.json`, a context, a certificate) could not be read.
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The certificates or key could not be used to set up TLS.
    Tls(String),
    /// Connecting, sending or reading failed (includes reqwest's own read timeouts).
    Transport(reqwest::Error),
    /// Connecting, sending the request or reading the response head failed on the
    /// connection of its own that a streamed response gets on a unix socket or plain TCP
    /// ([`Transport::send_logs`](super::Transport::send_logs), `send_json_lines`,
    /// `send_progress`, `send_bytes`); the same failure of any other request is an
    /// [`Error::Transport`]. A body that fails once it is being read is reported by the
    /// stream, as for any response.
    Connection {
        /// The request (method and path, never the query) and the step that failed.
        context: String,
        /// The cause: a `std::io::Error` (connecting, or the connect timeout as
        /// [`TimedOut`](std::io::ErrorKind::TimedOut)) or a `hyper::Error`.
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// The call did not finish within the request's timeout: the response head did not
    /// arrive, or (for a one-shot call) the whole body did not (see
    /// [`Transport`](super::Transport), "Timeouts").
    Timeout {
        /// The timeout that expired.
        after: Duration,
    },
    /// The answer's body, announced or read, is larger than the limit for bodies read into
    /// memory (see [`Transport`](super::Transport), "Body limits").
    BodyTooLarge {
        /// The request (method and path, never the query), e.g. `GET /containers/json`.
        request: String,
        /// The limit, in bytes.
        limit: usize,
    },
    /// The daemon's error answer: a status of 400 or more with a JSON `{"message": …}` body.
    Api {
        /// The HTTP status.
        status: u16,
        /// The daemon's message, e.g. `No such container: nope`.
        message: String,
    },
    /// A status the caller did not expect, with a body that is not the daemon's JSON error:
    /// plain text, an empty body, a proxy's HTML page, JSON without `message`, or more
    /// than [`MAX_ERROR_BODY`] bytes.
    UnexpectedResponse {
        /// The HTTP status.
        status: u16,
        /// The `Content-Type` header, if any.
        content_type: Option<String>,
        /// The start of the body (lossy UTF-8, at most 4 KiB).
        body: String,
        /// Whether the body was longer than what was read or kept.
        truncated: bool,
    },
    /// Version negotiation could not make sense of the daemon's `/_ping` answer.
    Negotiation(String),
    /// A request body could not be encoded as JSON, or a response body decoded.
    Json(serde_json::Error),
    /// A response header the caller needs is missing or unreadable (e.g.
    /// `X-Docker-Container-Path-Stat`, see [`PathStat`](super::PathStat)).
    InvalidHeader {
        /// The header's name.
        name: String,
        /// What is wrong with it.
        message: String,
    },
}

impl Error {
    /// The HTTP status of an error answer.
    pub fn status(&self) -> Option<u16> {
        match self {
            Error::Api { status, .. } | Error::UnexpectedResponse { status, .. } => Some(*status),
            Error::Transport(e) => e.status().map(|s| s.as_u16()),
            _ => None,
        }
    }

    /// True for a 404 from the daemon (no such container, image, …).
    pub fn is_not_found(&self) -> bool {
        self.status() == Some(404)
    }

    /// Turns an error answer into an `Error`: reads at most [`MAX_ERROR_BODY`] bytes of
    /// the body and hands them to [`from_body`](Self::from_body).
    pub async fn from_response(mut response: reqwest::Response) -> Error {
        let status = response.status().as_u16();
        let content_type = response.headers().get(reqwest::header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).map(str::to_owned);
        let mut body = Vec::new();
        let mut truncated = false;
        loop {
            match response.chunk().await {
                Ok(Some(chunk)) => {
                    let room = MAX_ERROR_BODY - body.len();
                    if chunk.len() > room {
                        body.extend_from_slice(&chunk[..room]);
                        truncated = true;
                        break;
                    }
                    body.extend_from_slice(&chunk);
                }
                Ok(None) => break,
                Err(e) if body.is_empty() => return Error::transport(e),
                Err(_) => {
                    truncated = true;
                    break;
                }
            }
        }
        Error::from_body_read(status, content_type.as_deref(), &body, truncated)
    }

    /// The error for a `status` answered with `body`: [`Error::Api`] when the content type
    /// is JSON and the body is `{"message": "<non-empty>"}` (as the Go client, which only
    /// parses JSON when the header says so), [`Error::UnexpectedResponse`] otherwise.
    /// A body longer than [`MAX_ERROR_BODY`] is never parsed.
    pub fn from_body(status: u16, content_type: Option<&str>, body: &[u8]) -> Error {
        let truncated = body.len() > MAX_ERROR_BODY;
        Error::from_body_read(status, content_type, &body[..body.len().min(MAX_ERROR_BODY)], truncated)
    }

    fn from_body_read(status: u16, content_type: Option<&str>, body: &[u8], truncated: bool) -> Error {
        if !truncated && content_type.is_some_and(is_json) {
            if let Ok(serde_json::Value::Object(mut object)) = serde_json::from_slice(body) {
                if let Some(serde_json::Value::String(message)) = object.remove("message") {
                    if !message.trim().is_empty() {
                        return Error::Api { status, message };
                    }
                }
            }
        }
        let kept = &body[..body.len().min(KEPT_BODY)];
        Error::UnexpectedResponse {
            status,
            content_type: content_type.map(str::to_owned),
            body: String::from_utf8_lossy(kept).into_owned(),
            truncated: truncated || kept.len() < body.len(),
        }
    }

    /// Wraps a reqwest error, dropping the query string and any user info of its URL.
    pub(crate) fn transport(mut e: reqwest::Error) -> Error {
        if let Some(url) = e.url_mut() {
            url.set_query(None);
            url.set_fragment(None);
            let _ = url.set_username("");
            let _ = url.set_password(None);
        }
        Error::Transport(e)
    }
}

/// `application/json` or any `…+json`, parameters ignored.
pub(crate) fn is_json(content_type: &str) -> bool {
    let media = content_type.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    media == "application/json" || (media.starts_with("application/") && media.ends_with("+json"))
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Config(m) => write!(f, "Docker client configuration: {m}"),
            Error::Unsupported(m) => write!(f, "unsupported here: {m}"),
            Error::Io { path, source } => write!(f, "cannot read {}: {source}", path.display()),
            Error::Tls(m) => write!(f, "TLS setup: {m}"),
            Error::Transport(e) => {
                write!(f, "request to the Docker daemon failed: {e}")?;
                let mut source = std::error::Error::source(e);
                while let Some(s) = source {
                    write!(f, ": {s}")?;
                    source = s.source();
                }
                Ok(())
            }
            Error::Connection { context, source } => {
                write!(f, "request to the Docker daemon failed: {context}: {source}")?;
                let mut source = source.source();
                while let Some(s) = source {
                    write!(f, ": {s}")?;
                    source = s.source();
                }
                Ok(())
            }
            Error::Timeout { after } => write!(f, "the Docker daemon did not answer within {after:?}"),
            Error::BodyTooLarge { request, limit } => {
                write!(f, "the Docker daemon's answer to {request} is larger than the limit of {limit} bytes")
            }
            Error::Api { status, message } => write!(f, "Docker daemon answered {status}: {message}"),
            Error::UnexpectedResponse { status, content_type, body, truncated } => {
                write!(f, "unexpected answer {status} from the Docker daemon")?;
                if let Some(ct) = content_type {
                    write!(f, " ({ct})")?;
                }
                let text = body.trim();
                if !text.is_empty() {
                    let cut: String = text.chars().take(200).collect();
                    let more = if *truncated || cut.len() < text.len() { "…" } else { "" };
                    write!(f, ": {cut}{more}")?;
                }
                Ok(())
            }
            Error::Negotiation(m) => write!(f, "API version negotiation: {m}"),
            Error::Json(e) => write!(f, "JSON: {e}"),
            Error::InvalidHeader { name, message } => write!(f, "the daemon's {name} header: {message}"),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Io { source, .. } => Some(source),
            // Display already prints the chain of a transport error (reqwest's own text,
            // "error sending request", says nothing without it); match the variant to reach it.
            Error::Transport(_) | Error::Connection { .. } => None,
            Error::Json(e) => Some(e),
            _ => None,
        }
    }
}

impl From<serde_json::Error> for Error {
    fn from(e: serde_json::Error) -> Error {
        Error::Json(e)
    }
}
