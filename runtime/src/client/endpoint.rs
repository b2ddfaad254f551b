//! Which daemon to talk to and how: the environment and docker contexts, resolved like the
//! docker CLI does.

use std::collections::HashMap;
use std::fmt;
use std::io;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use sha2::{Digest, Sha256};

use super::host::{Host, TcpScheme};
use super::Error;
use crate::version::ApiVersion;

/// The name of the context that means "`DOCKER_HOST`, or the default socket".
pub const DEFAULT_CONTEXT: &str = "default";

/// A daemon address with its TLS settings and, when `DOCKER_API_VERSION` says so, a
/// pinned API version.
///
/// [`Endpoint::from_env`] resolves it like the docker CLI:
///
/// 1. `DOCKER_HOST`, when set, wins over any context; TLS then comes from the
///    environment (below).
/// 2. Otherwise the context named by `DOCKER_CONTEXT`, else `currentContext` of
///    `$DOCKER_CONFIG/config.json` (`DOCKER_CONFIG` defaults to `~/.docker`). The
///    context `default` (or none at all) is `unix:///var/run/docker.sock`. Any other
///    name is read from `contexts/meta/<sha256 of the name>/meta.json`
///    (`Endpoints.docker.Host`, `Endpoints.docker.SkipTLSVerify`) with its TLS files in
///    `contexts/tls/<sha256>/docker/{ca,cert,key}.pem`; TLS is on when any of those
///    files exists or `SkipTLSVerify` is true, and verification is on unless
///    `SkipTLSVerify`.
/// 3. `DOCKER_API_VERSION` (`1.41` or `v1.41`) pins the version in either case.
///
/// TLS for `DOCKER_HOST`:
///
/// | condition | TLS | verify the daemon's certificate |
/// |---|---|---|
/// | `unix://` | never | |
/// | `DOCKER_TLS_VERIFY` non-empty | yes | yes |
/// | `DOCKER_CERT_PATH` non-empty (Go client) | yes | only with `DOCKER_TLS_VERIFY` |
/// | `https://` | yes | yes unless `DOCKER_CERT_PATH` is set without `DOCKER_TLS_VERIFY` |
/// | `tcp://…:2376` (the TLS port) | yes | only with `DOCKER_TLS_VERIFY` |
///
/// The files are `ca.pem`, `cert.pem` and `key.pem` in `DOCKER_CERT_PATH`, else in the
/// docker config directory; each is optional (no `ca.pem`: the system's roots), but
/// `cert.pem` and `key.pem` go together. `tcp://` without a port means 2376 with TLS and
/// 2375 without. Empty variables count as unset.
#[derive(Clone, Debug)]
pub struct Endpoint {
    host: Host,
    tls: Option<TlsSettings>,
    pinned: Option<ApiVersion>,
    context: Option<String>,
}

impl Endpoint {
    /// An endpoint for `host` without TLS settings (an `https://` host then verifies
    /// against the system's roots) and without a pinned version.
    pub fn new(host: Host) -> Endpoint {
        Endpoint { host, tls: None, pinned: None, context: None }
    }

    /// Replaces the TLS settings; ignored for unix sockets.
    pub fn with_tls(mut self, tls: Option<TlsSettings>) -> Endpoint {
        self.tls = tls;
        self
    }

    /// Pins (or with `None` un-pins) the API version.
    pub fn with_pinned_version(mut self, version: Option<ApiVersion>) -> Endpoint {
        self.pinned = version;
        self
    }

    /// Resolves the process environment (see [`Endpoint`]).
    pub fn from_env() -> Result<Endpoint, Error> {
        Endpoint::from_env_with(|name| std::env::var(name).ok())
    }

    /// Resolves an environment given as a lookup function, e.g. `|k| map.get(k).cloned()`.
    /// `HOME` is read through it as well, so tests need not touch the process.
    pub fn from_env_with<F>(lookup: F) -> Result<Endpoint, Error>
    where
        F: Fn(&str) -> Option<String>,
    {
        let get = |name: &str| lookup(name).filter(|v| !v.is_empty());
        let pinned = match get("DOCKER_API_VERSION") {
            Some(v) => Some(v.parse::<ApiVersion>().map_err(|e| Error::Config(format!("DOCKER_API_VERSION: {e}")))?),
            None => None,
        };
        let config_dir = get("DOCKER_CONFIG").map(PathBuf::from).or_else(|| get("HOME").map(|home| Path::new(&home).join(".docker")));

        if let Some(text) = get("DOCKER_HOST") {
            let host = Host::parse(&text)?;
            let tls = env_tls(&host, &get, config_dir.as_deref())?;
            return Ok(Endpoint { host, tls, pinned, context: None });
        }

        let name = match get("DOCKER_CONTEXT") {
            Some(name) => Some(name),
            None => match &config_dir {
                Some(dir) => current_context(dir)?,
                None => None,
            },
        };
        match name {
            None => Ok(Endpoint::new(Host::default_socket()).with_pinned_version(pinned)),
            Some(name) if name == DEFAULT_CONTEXT => {
                Ok(Endpoint { context: Some(name), ..Endpoint::new(Host::default_socket()).with_pinned_version(pinned) })
            }
            Some(name) => {
                let dir = config_dir.ok_or_else(|| {
                    Error::Config(format!("context `{name}` is selected but neither DOCKER_CONFIG nor HOME is set to find it"))
                })?;
                let (host, tls) = load_context(&dir, &name)?;
                Ok(Endpoint { host, tls, pinned, context: Some(name) })
            }
        }
    }

    /// Where the daemon listens.
    pub fn host(&self) -> &Host {
        &self.host
    }

    /// The TLS settings, if any were configured.
    pub fn tls(&self) -> Option<&TlsSettings> {
        self.tls.as_ref()
    }

    /// The version `DOCKER_API_VERSION` pinned.
    pub fn pinned_version(&self) -> Option<ApiVersion> {
        self.pinned
    }

    /// The docker context this endpoint came from (`None` for `DOCKER_HOST` or nothing).
    pub fn context(&self) -> Option<&str> {
        self.context.as_deref()
    }

    /// Whether requests go over TLS: a TCP host with TLS settings, or `https://`.
    pub fn uses_tls(&self) -> bool {
        match &self.host {
            Host::Unix(_) => false,
            Host::Tcp { scheme, .. } => self.tls.is_some() || *scheme == TcpScheme::Https,
        }
    }

    /// The URL every request path (`/v1.41/containers/json`, `/_ping`) is appended to,
    /// without a trailing `/`: `http://api.moby.localhost` for a unix socket (the Host
    /// header the Go client sends), `https://host:2376/prefix` for TCP.
    pub fn base_url(&self) -> String {
        match &self.host {
            Host::Unix(_) => "http://api.moby.localhost".to_owned(),
            Host::Tcp { scheme, host, port, path_prefix } => {
                let tls = self.uses_tls();
                let port = port.unwrap_or(match scheme {
                    TcpScheme::Tcp if tls => 2376,
                    TcpScheme::Tcp => 2375,
                    TcpScheme::Http => 80,
                    TcpScheme::Https => 443,
                });
                let host = if host.contains(':') { format!("[{host}]") } else { host.clone() };
                format!("{}://{host}:{port}{path_prefix}", if tls { "https" } else { "http" })
            }
        }
    }
}

/// TLS settings of a TCP endpoint: whether to verify the daemon's certificate, the CA
/// to verify it with, and a client certificate. `Debug` never prints the key.
#[derive(Clone)]
pub struct TlsSettings {
    verify: bool,
    ca_pem: Option<Vec<u8>>,
    cert_pem: Option<Vec<u8>>,
    key_pem: Option<Vec<u8>>,
    dir: Option<PathBuf>,
}

impl TlsSettings {
    /// No files: verification against the system's roots (`verify`) or none at all.
    pub fn new(verify: bool) -> TlsSettings {
        TlsSettings { verify, ca_pem: None, cert_pem: None, key_pem: None, dir: None }
    }

    /// Verify the daemon against these PEM certificates only (the system's roots are
    /// then not used, as in the Go client).
    pub fn with_ca_pem(mut self, pem: impl Into<Vec<u8>>) -> TlsSettings {
        self.ca_pem = Some(pem.into());
        self
    }

    /// Present this PEM certificate chain and PEM private key (PKCS#8, PKCS#1 or SEC1)
    /// to the daemon.
    pub fn with_client_cert(mut self, cert_pem: impl Into<Vec<u8>>, key_pem: impl Into<Vec<u8>>) -> TlsSettings {
        self.cert_pem = Some(cert_pem.into());
        self.key_pem = Some(key_pem.into());
        self
    }

    /// Reads `ca.pem`, `cert.pem` and `key.pem` from `dir`, each when it exists;
    /// `cert.pem` without `key.pem` (or the reverse) is an error.
    pub fn from_dir(dir: &Path, verify: bool) -> Result<TlsSettings, Error> {
        let ca_pem = read_optional(&dir.join("ca.pem"))?;
        let cert_pem = read_optional(&dir.join("cert.pem"))?;
        let key_pem = read_optional(&dir.join("key.pem"))?;
        if cert_pem.is_some() != key_pem.is_some() {
            let (have, missing) = if cert_pem.is_some() { ("cert.pem", "key.pem") } else { ("key.pem", "cert.pem") };
            return Err(Error::Config(format!("{} has {have} but no {missing}", dir.display())));
        }
        Ok(TlsSettings { verify, ca_pem, cert_pem, key_pem, dir: Some(dir.to_owned()) })
    }

    /// Whether the daemon's certificate and name are checked.
    pub fn verify(&self) -> bool {
        self.verify
    }

    /// The CA certificates (PEM), if any.
    pub fn ca_pem(&self) -> Option<&[u8]> {
        self.ca_pem.as_deref()
    }

    /// Whether a client certificate is presented.
    pub fn has_client_cert(&self) -> bool {
        self.cert_pem.is_some()
    }

    /// The directory the files came from, if they came from one.
    pub fn dir(&self) -> Option<&Path> {
        self.dir.as_deref()
    }

    /// The client certificate and key, for the TLS configuration (feature `tls`).
    #[cfg(feature = "tls")]
    pub(crate) fn client_cert(&self) -> Option<(&[u8], &[u8])> {
        Some((self.cert_pem.as_deref()?, self.key_pem.as_deref()?))
    }
}

impl fmt::Debug for TlsSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TlsSettings")
            .field("verify", &self.verify)
            .field("ca_pem", &self.ca_pem.as_ref().map(|b| format!("{} bytes", b.len())))
            .field("cert_pem", &self.cert_pem.as_ref().map(|b| format!("{} bytes", b.len())))
            .field("key_pem", &self.key_pem.as_ref().map(|_| "<redacted>"))
            .field("dir", &self.dir)
            .finish()
    }
}

/// The hex SHA-256 of a context name: the directory name of its metadata and TLS files.
pub fn context_dir_name(name: &str) -> String {
    Sha256::digest(name.as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}

fn env_tls(host: &Host, get: &dyn Fn(&str) -> Option<String>, config_dir: Option<&Path>) -> Result<Option<TlsSettings>, Error> {
    let Host::Tcp { scheme, port, .. } = host else {
        return Ok(None);
    };
    let verify_env = get("DOCKER_TLS_VERIFY").is_some();
    let cert_path = get("DOCKER_CERT_PATH").map(PathBuf::from);
    let https = *scheme == TcpScheme::Https;
    let tls_port = *scheme == TcpScheme::Tcp && *port == Some(2376);
    if !(verify_env || cert_path.is_some() || https || tls_port) {
        return Ok(None);
    }
    let verify = verify_env || (https && cert_path.is_none());
    match (&cert_path, config_dir) {
        (Some(dir), _) if !dir.is_dir() => Err(Error::Config(format!("DOCKER_CERT_PATH {} is not a directory", dir.display()))),
        (Some(dir), _) => TlsSettings::from_dir(dir, verify).map(Some),
        (None, Some(dir)) => TlsSettings::from_dir(dir, verify).map(Some),
        (None, None) => Ok(Some(TlsSettings::new(verify))),
    }
}

fn current_context(config_dir: &Path) -> Result<Option<String>, Error> {
    #[derive(Deserialize)]
    struct ConfigFile {
        #[serde(rename = "currentContext", default)]
        current_context: Option<String>,
    }
    let path = config_dir.join("config.json");
    let Some(bytes) = read_optional(&path)? else {
        return Ok(None);
    };
    let config: ConfigFile =
        serde_json::from_slice(&bytes).map_err(|e| Error::Config(format!("{} is not a docker config file: {e}", path.display())))?;
    Ok(config.current_context.filter(|c| !c.is_empty()))
}

fn load_context(config_dir: &Path, name: &str) -> Result<(Host, Option<TlsSettings>), Error> {
    #[derive(Deserialize)]
    struct Meta {
        #[serde(rename = "Endpoints", default)]
        endpoints: HashMap<String, EndpointMeta>,
    }
    #[derive(Deserialize)]
    struct EndpointMeta {
        #[serde(rename = "Host", default)]
        host: Option<String>,
        #[serde(rename = "SkipTLSVerify", default)]
        skip_tls_verify: bool,
    }

    let id = context_dir_name(name);
    let meta_path = config_dir.join("contexts").join("meta").join(&id).join("meta.json");
    let Some(bytes) = read_optional(&meta_path)? else {
        return Err(Error::Config(format!("context `{name}` not found: there is no {}", meta_path.display())));
    };
    let meta: Meta = serde_json::from_slice(&bytes)
        .map_err(|e| Error::Config(format!("context `{name}`: {} is not valid: {e}", meta_path.display())))?;
    let docker = meta
        .endpoints
        .get("docker")
        .ok_or_else(|| Error::Config(format!("context `{name}` has no docker endpoint ({})", meta_path.display())))?;
    let text = docker.host.as_deref().filter(|h| !h.is_empty()).unwrap_or("unix://");
    let host = Host::parse(text).map_err(|e| match e {
        Error::Config(m) => Error::Config(format!("context `{name}`: {m}")),
        Error::Unsupported(m) => Error::Unsupported(format!("context `{name}`: {m}")),
        other => other,
    })?;
    let Host::Tcp { scheme, port, .. } = &host else {
        return Ok((host, None));
    };
    let tls_dir = config_dir.join("contexts").join("tls").join(&id).join("docker");
    let files = TlsSettings::from_dir(&tls_dir, !docker.skip_tls_verify)?;
    let tls_on = files.ca_pem.is_some()
        || files.cert_pem.is_some()
        || docker.skip_tls_verify
        || *scheme == TcpScheme::Https
        || (*scheme == TcpScheme::Tcp && *port == Some(2376));
    Ok((host.clone(), tls_on.then_some(files)))
}

fn read_optional(path: &Path) -> Result<Option<Vec<u8>>, Error> {
    match std::fs::read(path) {
        Ok(bytes) => Ok(Some(bytes)),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(source) => Err(Error::Io { path: path.to_owned(), source }),
    }
}
