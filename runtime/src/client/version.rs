//! How the transport chooses the API version of its request paths.

use crate::version::ApiVersion;

/// How a [`Transport`](super::Transport) picks the version in its request paths.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ApiVersionPolicy {
    /// Ask the daemon once, lazily, on the first request (`HEAD /_ping`, `GET /_ping` when
    /// that fails) and use `min(max, daemon's API-Version)`: downgrade only. A daemon that
    /// sends no `API-Version` header is taken as [`ApiVersion::FALLBACK`].
    Negotiate {
        /// The newest version the caller speaks (the generated module's version).
        max: ApiVersion,
    },
    /// Use this version and never ask (`DOCKER_API_VERSION`); the daemon answers 400 when
    /// it does not support it.
    Pinned(ApiVersion),
}

impl ApiVersionPolicy {
    /// `Pinned(v)` when `pinned` is set (an endpoint's `DOCKER_API_VERSION`), else
    /// `Negotiate { max }`.
    pub fn new(max: ApiVersion, pinned: Option<ApiVersion>) -> ApiVersionPolicy {
        match pinned {
            Some(v) => ApiVersionPolicy::Pinned(v),
            None => ApiVersionPolicy::Negotiate { max },
        }
    }

    /// The version negotiation settles on given the daemon's `API-Version` header value
    /// (`None` when absent); pinned policies ignore the daemon.
    pub fn settle(self, server: Option<ApiVersion>) -> ApiVersion {
        match self {
            ApiVersionPolicy::Pinned(v) => v,
            ApiVersionPolicy::Negotiate { max } => max.min(server.unwrap_or(ApiVersion::FALLBACK)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn negotiation_only_downgrades() {
        let p = ApiVersionPolicy::Negotiate { max: ApiVersion::new(1, 49) };
        assert_eq!(p.settle(Some(ApiVersion::new(1, 41))), ApiVersion::new(1, 41));
        assert_eq!(p.settle(Some(ApiVersion::new(1, 51))), ApiVersion::new(1, 49));
        assert_eq!(p.settle(None), ApiVersion::FALLBACK);
        assert_eq!(ApiVersionPolicy::Pinned(ApiVersion::new(1, 30)).settle(Some(ApiVersion::new(1, 41))), ApiVersion::new(1, 30));
        assert_eq!(
            ApiVersionPolicy::new(ApiVersion::new(1, 49), Some(ApiVersion::new(1, 30))),
            ApiVersionPolicy::Pinned(ApiVersion::new(1, 30))
        );
    }
}
