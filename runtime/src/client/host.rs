//! `DOCKER_HOST` values.

use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;

use super::Error;

/// The socket of a local daemon when nothing else is configured.
pub const DEFAULT_SOCKET: &str = "/var/run/docker.sock";

/// Where the daemon listens, as `DOCKER_HOST` or a context's `Host` spells it.
///
/// | text | value |
/// |---|---|
/// | `unix:///var/run/docker.sock` | `Unix("/var/run/docker.sock")`; `unix://` alone is the default socket |
/// | `tcp://host:port/prefix` | `Tcp { scheme: Tcp, .. }`: TLS or not is decided by the [`Endpoint`](super::Endpoint); without a port 2375, or 2376 with TLS |
/// | `http://host[:port]`, `https://host[:port]` | `Tcp { scheme: Http / Https, .. }`; default ports 80 / 443 |
/// | `npipe://…`, `ssh://…`, `fd://…` | [`Error::Unsupported`] |
///
/// An empty host (`tcp://:2375`) is `localhost`; IPv6 addresses are written in brackets
/// (`tcp://[::1]:2375`). User info (`user:pass@`), queries and fragments are refused.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Host {
    /// A unix domain socket.
    Unix(PathBuf),
    /// A TCP address.
    Tcp {
        /// How the host was written.
        scheme: TcpScheme,
        /// Host name or IP address (IPv6 without brackets).
        host: String,
        /// The port, when the text gives one.
        port: Option<u16>,
        /// A path every request is sent under, without a trailing `/` (`""` or `/prefix`).
        path_prefix: String,
    },
}

/// The scheme of a [`Host::Tcp`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TcpScheme {
    /// `tcp://`: plain HTTP unless the TLS settings say otherwise.
    Tcp,
    /// `http://`.
    Http,
    /// `https://`: always TLS.
    Https,
}

impl Host {
    /// `unix:///var/run/docker.sock`.
    pub fn default_socket() -> Host {
        Host::Unix(PathBuf::from(DEFAULT_SOCKET))
    }

    /// Parses a `DOCKER_HOST` value (see the table on [`Host`]).
    pub fn parse(text: &str) -> Result<Host, Error> {
        let trimmed = text.trim();
        let Some((scheme, rest)) = trimmed.split_once("://") else {
            return Err(Error::Config(format!(
                "host `{}` has no scheme: expected unix://PATH, tcp://HOST:PORT, http://HOST or https://HOST",
                shown(trimmed)
            )));
        };
        let scheme = scheme.to_ascii_lowercase();
        match scheme.as_str() {
            "unix" => {
                if rest.contains(['?', '#']) {
                    return Err(Error::Config(format!("host `{}`: a unix socket path cannot carry a query or fragment", shown(trimmed))));
                }
                Ok(if rest.is_empty() { Host::default_socket() } else { Host::Unix(PathBuf::from(rest)) })
            }
            "tcp" => parse_tcp(TcpScheme::Tcp, trimmed, rest),
            "http" => parse_tcp(TcpScheme::Http, trimmed, rest),
            "https" => parse_tcp(TcpScheme::Https, trimmed, rest),
            "npipe" => Err(Error::Unsupported(format!(
                "host `{}`: Windows named pipes (npipe://) are not supported by this client; use tcp:// or https://",
                shown(trimmed)
            ))),
            "ssh" => Err(Error::Unsupported(format!(
                "host `{}`: ssh:// is not supported by this client (the docker CLI runs `ssh … docker system dial-stdio`); \
                 forward the socket instead, e.g. `ssh -NL /tmp/docker.sock:/var/run/docker.sock HOST` and DOCKER_HOST=unix:///tmp/docker.sock",
                shown(trimmed)
            ))),
            "fd" => Err(Error::Unsupported(format!("host `{}`: fd:// is a daemon-side listener, not something a client can dial", shown(trimmed)))),
            _ => Err(Error::Config(format!(
                "host `{}` has the unknown scheme `{scheme}`: expected unix://, tcp://, http:// or https://",
                shown(trimmed)
            ))),
        }
    }
}

fn parse_tcp(scheme: TcpScheme, whole: &str, rest: &str) -> Result<Host, Error> {
    let bad = |why: &str| Error::Config(format!("host `{}`: {why}", shown(whole)));
    if rest.contains(['?', '#']) {
        return Err(bad("a query or fragment is not allowed"));
    }
    let (authority, path) = match rest.find('/') {
        Some(i) => rest.split_at(i),
        None => (rest, ""),
    };
    if authority.contains('@') {
        return Err(bad("user info (`user:password@`) is not supported"));
    }
    let (host, port) = if let Some(bracketed) = authority.strip_prefix('[') {
        let (host, after) = bracketed.split_once(']').ok_or_else(|| bad("unclosed `[` in an IPv6 address"))?;
        match after {
            "" => (host, None),
            _ => (host, Some(after.strip_prefix(':').ok_or_else(|| bad("expected `:PORT` after `]`"))?)),
        }
    } else {
        match authority.split_once(':') {
            Some((_, p)) if p.contains(':') => return Err(bad("an IPv6 address must be written in brackets, e.g. tcp://[::1]:2375")),
            Some((h, p)) => (h, Some(p)),
            None => (authority, None),
        }
    };
    let port = match port {
        None | Some("") => None,
        Some(p) => match p.parse::<u16>() {
            Ok(n) if n != 0 && p.bytes().all(|b| b.is_ascii_digit()) => Some(n),
            _ => return Err(bad("the port must be a number from 1 to 65535")),
        },
    };
    if host.contains(|c: char| c.is_whitespace() || c == '/' || c == '[' || c == ']') {
        return Err(bad("invalid host name"));
    }
    let host = if host.is_empty() { "localhost".to_owned() } else { host.to_owned() };
    let path_prefix = path.trim_end_matches('/').to_owned();
    Ok(Host::Tcp { scheme, host, port, path_prefix })
}

/// `text` with any user info replaced, for error messages.
fn shown(text: &str) -> String {
    match (text.find("://"), text.find('@')) {
        (Some(s), Some(at)) if at > s => format!("{}://***{}", &text[..s], &text[at..]),
        _ => text.to_owned(),
    }
}

impl FromStr for Host {
    type Err = Error;

    fn from_str(s: &str) -> Result<Host, Error> {
        Host::parse(s)
    }
}

impl fmt::Display for Host {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Host::Unix(path) => write!(f, "unix://{}", path.display()),
            Host::Tcp { scheme, host, port, path_prefix } => {
                let scheme = match scheme {
                    TcpScheme::Tcp => "tcp",
                    TcpScheme::Http => "http",
                    TcpScheme::Https => "https",
                };
                write!(f, "{scheme}://")?;
                if host.contains(':') {
                    write!(f, "[{host}]")?;
                } else {
                    f.write_str(host)?;
                }
                if let Some(port) = port {
                    write!(f, ":{port}")?;
                }
                f.write_str(path_prefix)
            }
        }
    }
}
