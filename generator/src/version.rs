//! API versions and sets of them, the unit in which the IR records history.
//!
//! Which versions exist is data: the specifications of `spec/manifest.yaml`
//! ([`crate::source::versions`]). This module only bounds what a [`VersionSet`] can hold.

use std::fmt;

/// The oldest Engine API minor version this project generates (1.24, derived from 1.25).
pub const FIRST_MINOR: u8 = 24;
/// The newest minor version a [`VersionSet`] can hold: one bit per version from 1.24.
pub const MAX_MINOR: u8 = FIRST_MINOR + 63;

/// One Engine API version, `1.<minor>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ApiVersion {
    pub minor: u8,
}

impl ApiVersion {
    pub const fn new(minor: u8) -> Self {
        ApiVersion { minor }
    }

    /// Every version a [`VersionSet`] can hold, oldest first (not only those with a specification).
    fn representable() -> impl DoubleEndedIterator<Item = ApiVersion> + Clone {
        (FIRST_MINOR..=MAX_MINOR).map(ApiVersion::new)
    }

    /// Parses `1.41`, `v1.41` or `v1_41`; `None` for anything else or a version outside
    /// 1.24–1.87 (whether it has a specification is for the manifest to say).
    pub fn parse(text: &str) -> Option<Self> {
        let t = text.trim();
        let t = t.strip_prefix('v').unwrap_or(t);
        let minor = t.strip_prefix("1.").or_else(|| t.strip_prefix("1_"))?;
        let minor: u8 = minor.parse().ok()?;
        (FIRST_MINOR..=MAX_MINOR).contains(&minor).then_some(ApiVersion { minor })
    }

    /// `v1_41`: module and cargo feature name.
    pub fn ident(self) -> String {
        format!("v1_{}", self.minor)
    }

    /// Upstream file name of this version's Swagger document.
    pub fn spec_file(self) -> String {
        format!("v1.{}.yaml", self.minor)
    }

    fn bit(self) -> u64 {
        1 << (self.minor - FIRST_MINOR)
    }
}

impl fmt::Display for ApiVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "1.{}", self.minor)
    }
}

/// A set of versions (a bit per version), e.g. where an operation or a field exists.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct VersionSet(u64);

impl VersionSet {
    pub const EMPTY: VersionSet = VersionSet(0);

    /// Every version, with or without a specification: what an overlay without `versions`
    /// applies to. Intersect with the versions generated before showing it.
    pub fn all() -> Self {
        ApiVersion::representable().collect()
    }
    pub fn single(v: ApiVersion) -> Self {
        VersionSet(v.bit())
    }
    /// Inclusive range.
    pub fn range(from: ApiVersion, to: ApiVersion) -> Self {
        ApiVersion::representable().filter(|v| *v >= from && *v <= to).collect()
    }
    pub fn insert(&mut self, v: ApiVersion) {
        self.0 |= v.bit();
    }
    pub fn contains(self, v: ApiVersion) -> bool {
        self.0 & v.bit() != 0
    }
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }
    pub fn union(self, other: VersionSet) -> VersionSet {
        VersionSet(self.0 | other.0)
    }
    pub fn intersection(self, other: VersionSet) -> VersionSet {
        VersionSet(self.0 & other.0)
    }
    pub fn is_subset(self, other: VersionSet) -> bool {
        self.0 & !other.0 == 0
    }
    pub fn iter(self) -> impl Iterator<Item = ApiVersion> {
        ApiVersion::representable().filter(move |v| self.contains(*v))
    }
    pub fn first(self) -> Option<ApiVersion> {
        self.iter().next()
    }
    pub fn last(self) -> Option<ApiVersion> {
        self.iter().last()
    }
    /// Contiguous runs, oldest first: `[(1.25, 1.30), (1.33, 1.33)]`.
    pub fn runs(self) -> Vec<(ApiVersion, ApiVersion)> {
        let mut runs: Vec<(ApiVersion, ApiVersion)> = Vec::new();
        for v in self.iter() {
            match runs.last_mut() {
                Some((_, end)) if end.minor + 1 == v.minor => *end = v,
                _ => runs.push((v, v)),
            }
        }
        runs
    }

    /// Parses `all`, `1.25`, `1.25..=1.38`, `1.25..` or `..=1.30`, or a comma-separated list of
    /// those. `1.25..` and `all` are open: they take in every later version too, the ones a
    /// future manifest adds.
    pub fn parse(text: &str) -> Result<Self, String> {
        let mut set = VersionSet::EMPTY;
        for part in text.split(',') {
            let part = part.trim();
            let bad = || format!("`{part}` is not a version range (e.g. `1.25..=1.38`, `1.41`, `1.30..`, `all`)");
            if part == "all" {
                set = set.union(VersionSet::all());
            } else if let Some((from, to)) = part.split_once("..") {
                let from = if from.is_empty() { ApiVersion::new(FIRST_MINOR) } else { ApiVersion::parse(from).ok_or_else(bad)? };
                let to = match to.strip_prefix('=') {
                    Some(to) => ApiVersion::parse(to).ok_or_else(bad)?,
                    None if to.is_empty() => ApiVersion::new(MAX_MINOR),
                    None => return Err(bad()),
                };
                set = set.union(VersionSet::range(from, to));
            } else {
                set.insert(ApiVersion::parse(part).ok_or_else(bad)?);
            }
        }
        Ok(set)
    }

    /// A readable identifier for the set: `v1_25_to_v1_31`, `v1_41`, `v1_25_to_v1_27_and_v1_30`.
    pub fn ident(self) -> String {
        self.runs()
            .iter()
            .map(|(a, b)| if a == b { a.ident() } else { format!("{}_to_{}", a.ident(), b.ident()) })
            .collect::<Vec<_>>()
            .join("_and_")
    }
}

impl FromIterator<ApiVersion> for VersionSet {
    fn from_iter<I: IntoIterator<Item = ApiVersion>>(iter: I) -> Self {
        let mut s = VersionSet::EMPTY;
        for v in iter {
            s.insert(v);
        }
        s
    }
}

impl fmt::Display for VersionSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let runs = self.runs();
        if runs.is_empty() {
            return write!(f, "none");
        }
        for (i, (a, b)) in runs.iter().enumerate() {
            if i > 0 {
                write!(f, ", ")?;
            }
            if a == b {
                write!(f, "{a}")?;
            } else {
                write!(f, "{a}–{b}")?;
            }
        }
        Ok(())
    }
}

impl serde::Serialize for VersionSet {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl serde::Serialize for ApiVersion {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl fmt::Debug for VersionSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "VersionSet({self})")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_ranges() {
        let s = VersionSet::parse("1.25..=1.27, 1.30").unwrap();
        assert_eq!(s.to_string(), "1.25–1.27, 1.30");
        assert_eq!(s.ident(), "v1_25_to_v1_27_and_v1_30");
        let upto55 = VersionSet::range(ApiVersion::new(24), ApiVersion::new(55));
        assert_eq!(VersionSet::parse("1.48..").unwrap().intersection(upto55).to_string(), "1.48–1.55");
        assert_eq!(VersionSet::parse("all").unwrap(), VersionSet::all());
        assert_eq!(VersionSet::parse("1.87").unwrap().last(), Some(ApiVersion::new(87)));
        assert!(VersionSet::parse("1.88").is_err());
        assert!(VersionSet::parse("2.0..").is_err());
        assert_eq!(ApiVersion::parse("v1.41"), Some(ApiVersion::new(41)));
        assert_eq!(ApiVersion::parse("1.23"), None);
    }
}
