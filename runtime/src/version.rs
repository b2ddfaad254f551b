//! Docker Engine API versions (`1.41`), shared by the client and the server side.

use std::fmt;
use std::str::FromStr;

/// A Docker Engine API version such as `1.41`, ordered numerically (`1.9 < 1.41`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ApiVersion {
    major: u16,
    minor: u16,
}

impl ApiVersion {
    /// What negotiation settles on when `/_ping` answers without an `API-Version` header,
    /// as the Go client (v28) does: the oldest version the spec files describe.
    pub const FALLBACK: ApiVersion = ApiVersion::new(1, 24);

    /// `major.minor`.
    pub const fn new(major: u16, minor: u16) -> ApiVersion {
        ApiVersion { major, minor }
    }

    /// The part before the dot.
    pub const fn major(self) -> u16 {
        self.major
    }

    /// The part after the dot.
    pub const fn minor(self) -> u16 {
        self.minor
    }

    /// The path prefix every versioned request carries: `/v1.41`.
    pub fn path_prefix(self) -> String {
        format!("/v{self}")
    }
}

impl fmt::Display for ApiVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.major, self.minor)
    }
}

/// Why a text is not an [`ApiVersion`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParseApiVersionError {
    input: String,
}

impl fmt::Display for ParseApiVersionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "`{}` is not an API version (expected MAJOR.MINOR such as 1.41 or v1.41)", self.input)
    }
}

impl std::error::Error for ParseApiVersionError {}

impl FromStr for ApiVersion {
    type Err = ParseApiVersionError;

    /// Reads `1.41` or `v1.41` (what `DOCKER_API_VERSION` and the `API-Version` header
    /// hold), with surrounding whitespace ignored.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let err = || ParseApiVersionError { input: s.to_owned() };
        let t = s.trim();
        let t = t.strip_prefix(['v', 'V']).unwrap_or(t);
        let (major, minor) = t.split_once('.').ok_or_else(err)?;
        let number = |p: &str| {
            if p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit()) {
                return Err(err());
            }
            p.parse::<u16>().map_err(|_| err())
        };
        Ok(ApiVersion::new(number(major)?, number(minor)?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_plain_and_prefixed() {
        assert_eq!("1.41".parse(), Ok(ApiVersion::new(1, 41)));
        assert_eq!("v1.41".parse(), Ok(ApiVersion::new(1, 41)));
        assert_eq!(" V1.9 ".parse(), Ok(ApiVersion::new(1, 9)));
        for bad in ["", "1", "v", "1.", ".41", "1.41.0", "1.x", "+1.41", "1.-2", "vv1.41", "1.99999"] {
            assert!(bad.parse::<ApiVersion>().is_err(), "{bad:?} parsed");
        }
    }

    #[test]
    fn orders_numerically_and_displays() {
        assert!(ApiVersion::new(1, 9) < ApiVersion::new(1, 41));
        assert!(ApiVersion::new(2, 0) > ApiVersion::new(1, 49));
        assert_eq!(ApiVersion::new(1, 41).to_string(), "1.41");
        assert_eq!(ApiVersion::new(1, 41).path_prefix(), "/v1.41");
    }
}
