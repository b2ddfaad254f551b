//! What must never show in `Debug` output, logs or error messages: registry credentials
//! (`X-Registry-Auth`, `X-Registry-Config`, the passwords and tokens of `AuthConfig`),
//! other auth headers, and build arguments (`buildargs`, which Dockerfiles are told not to
//! use for secrets and are used for them anyway).
//!
//! The list is kept here once and read by both sides: [`Secret`] wraps a value whose
//! `Debug` is redacted (the generated code uses it for every parameter and field the IR
//! marks secret), [`is_secret_header`] and [`is_secret_query_key`] name what the server's
//! request views and the client's request redact.

use std::fmt;
use std::ops::Deref;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// What a redacted value prints as.
pub const REDACTED: &str = "<redacted>";

/// A value that is sent and received as it is, but whose `Debug` shows only that it is
/// there: `Secret("<redacted>")`.
///
/// It dereferences to the value (so `secret.as_str()`, `secret.to_string()` and
/// comparisons work as on the value) and serializes as the value alone.
#[derive(Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Secret<T>(T);

impl<T> Secret<T> {
    pub fn new(value: T) -> Secret<T> {
        Secret(value)
    }

    /// The value.
    pub fn expose(&self) -> &T {
        &self.0
    }

    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T> Deref for Secret<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T> From<T> for Secret<T> {
    fn from(value: T) -> Secret<T> {
        Secret(value)
    }
}

impl From<&str> for Secret<String> {
    fn from(value: &str) -> Secret<String> {
        Secret(value.to_owned())
    }
}

impl<T> fmt::Debug for Secret<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Secret").field(&format_args!("{REDACTED}")).finish()
    }
}

impl<T: Serialize> Serialize for Secret<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(serializer)
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Secret<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Secret<T>, D::Error> {
        T::deserialize(deserializer).map(Secret)
    }
}

/// Headers whose values are credentials (case-insensitive): `X-Registry-Auth`,
/// `X-Registry-Config`, `Authorization`, `Proxy-Authorization`, `Cookie`.
pub fn is_secret_header(name: &str) -> bool {
    ["x-registry-auth", "x-registry-config", "authorization", "proxy-authorization", "cookie"]
        .iter()
        .any(|secret| name.eq_ignore_ascii_case(secret))
}

/// Query parameters whose values may hold secrets: `buildargs`.
pub fn is_secret_query_key(key: &str) -> bool {
    key == "buildargs"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_redacted_but_kept() {
        let secret: Secret<String> = Secret::from("hunter2");
        assert_eq!(format!("{secret:?}"), "Secret(<redacted>)");
        assert_eq!(format!("{:?}", Some(secret.clone())), "Some(Secret(<redacted>))");
        assert_eq!(secret.as_str(), "hunter2");
        assert_eq!(secret.to_string(), "hunter2");
        assert_eq!(serde_json::to_string(&secret).unwrap(), r#""hunter2""#);
        assert_eq!(serde_json::from_str::<Secret<String>>(r#""hunter2""#).unwrap(), secret);
        assert!(is_secret_header("X-Registry-Auth") && is_secret_header("authorization") && !is_secret_header("X-Custom"));
        assert!(is_secret_query_key("buildargs") && !is_secret_query_key("t"));
    }
}
