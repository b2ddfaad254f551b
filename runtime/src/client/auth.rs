//! `X-Registry-Auth` and `X-Registry-Config`: registry credentials passed to the daemon.

use std::collections::BTreeMap;
use std::fmt;

use base64::engine::general_purpose::{URL_SAFE, URL_SAFE_NO_PAD};
use base64::Engine as _;
use serde::{Deserialize, Serialize};

use super::Error;

/// Credentials for one registry, as the daemon's `AuthConfig` reads them.
///
/// Empty fields are left out of the JSON, like the Go client's `omitempty`. Either
/// `username` and `password`, or `identitytoken` (an OAuth refresh token from
/// `POST /auth`), or `registrytoken` (a bearer token passed to the registry as is) is
/// usually set; `auth` is the `base64(username:password)` form of `config.json`.
///
/// `Debug` prints the username, email and server address, never a secret.
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct RegistryAuth {
    #[serde(skip_serializing_if = "String::is_empty")]
    pub username: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub password: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub auth: String,
    /// Deprecated by the daemon, still accepted.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub email: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub serveraddress: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub identitytoken: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub registrytoken: String,
}

impl RegistryAuth {
    /// Username and password for `serveraddress` (e.g. `https://index.docker.io/v1/` or
    /// `registry.example.com:5000`).
    pub fn with_password(username: impl Into<String>, password: impl Into<String>, serveraddress: impl Into<String>) -> RegistryAuth {
        RegistryAuth {
            username: username.into(),
            password: password.into(),
            serveraddress: serveraddress.into(),
            ..RegistryAuth::default()
        }
    }

    /// An identity token (what `POST /auth` returns as `IdentityToken`) for `serveraddress`.
    pub fn with_identity_token(identitytoken: impl Into<String>, serveraddress: impl Into<String>) -> RegistryAuth {
        RegistryAuth { identitytoken: identitytoken.into(), serveraddress: serveraddress.into(), ..RegistryAuth::default() }
    }

    /// The `X-Registry-Auth` header value: the JSON encoded in base64 with the URL-safe
    /// alphabet and padding, which is what the daemon decodes (`base64.URLEncoding`).
    pub fn to_header(&self) -> String {
        encode_header(self)
    }

    /// Reads an `X-Registry-Auth` value (the server side of [`to_header`](Self::to_header)).
    /// Accepts it with or without padding; like the daemon, standard-alphabet input fails
    /// when it holds `+` or `/`.
    pub fn from_header(value: &str) -> Result<RegistryAuth, Error> {
        decode_header(value)
    }
}

impl fmt::Debug for RegistryAuth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RegistryAuth")
            .field("username", &self.username)
            .field("password", &Redacted(&self.password))
            .field("auth", &Redacted(&self.auth))
            .field("email", &self.email)
            .field("serveraddress", &self.serveraddress)
            .field("identitytoken", &Redacted(&self.identitytoken))
            .field("registrytoken", &Redacted(&self.registrytoken))
            .finish()
    }
}

/// The `X-Registry-Config` header of `POST /build`: credentials for every registry the
/// build may pull from, keyed by registry host (`docker.io`, `registry.example.com:5000`).
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct RegistryConfig(pub BTreeMap<String, RegistryAuth>);

impl RegistryConfig {
    /// An empty map.
    pub fn new() -> RegistryConfig {
        RegistryConfig::default()
    }

    /// Adds (or replaces) the credentials of `registry`.
    pub fn insert(&mut self, registry: impl Into<String>, auth: RegistryAuth) -> &mut RegistryConfig {
        self.0.insert(registry.into(), auth);
        self
    }

    /// The `X-Registry-Config` header value: base64, URL-safe alphabet, padded, of the
    /// JSON map.
    pub fn to_header(&self) -> String {
        encode_header(self)
    }

    /// Reads an `X-Registry-Config` value.
    pub fn from_header(value: &str) -> Result<RegistryConfig, Error> {
        decode_header(value)
    }
}

impl fmt::Debug for RegistryConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("RegistryConfig").field(&self.0).finish()
    }
}

fn encode_header<T: Serialize>(value: &T) -> String {
    // Serialising a struct of strings or a map of them cannot fail.
    let json = serde_json::to_vec(value).unwrap_or_default();
    URL_SAFE.encode(json)
}

fn decode_header<T: for<'de> Deserialize<'de>>(value: &str) -> Result<T, Error> {
    let value = value.trim();
    let bytes = URL_SAFE
        .decode(value)
        .or_else(|_| URL_SAFE_NO_PAD.decode(value.trim_end_matches('=')))
        .map_err(|e| Error::Config(format!("registry auth header is not base64url: {e}")))?;
    serde_json::from_slice(&bytes).map_err(|e| Error::Config(format!("registry auth header is not the expected JSON: {e}")))
}

/// Prints `""` for an empty secret and `"<redacted>"` otherwise.
pub(crate) struct Redacted<'a>(pub(crate) &'a str);

impl fmt::Debug for Redacted<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            f.write_str("\"\"")
        } else {
            f.write_str("<redacted>")
        }
    }
}
