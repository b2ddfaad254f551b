//! The real Docker Engines the project is tested against (`spec/engines.yaml`): which API
//! versions each serves, which generated clients run the client scenario on it and at which
//! versions its answers were captured. One file, read by `cargo xtask test` (which engines to
//! start), by the engine tests (which runs to make) and by the compatibility matrix (what
//! was run), so the three cannot drift apart.

use std::fmt;
use std::path::Path;

use serde::Deserialize;

use crate::diagnostics::Diagnostic;
use crate::source::manifest::json_pointer_of;
use crate::version::VersionSet;

/// Where the file lives, relative to `spec/`.
pub const FILE: &str = "engines.yaml";

/// An API version an engine serves, which may lie outside the generated ones (20.10 serves 1.12).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct EngineApi {
    pub major: u8,
    pub minor: u8,
}

impl EngineApi {
    fn parse(text: &str) -> Option<Self> {
        let (major, minor) = text.trim().split_once('.')?;
        Some(EngineApi { major: major.parse().ok()?, minor: minor.parse().ok()? })
    }
}

impl fmt::Display for EngineApi {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.major, self.minor)
    }
}

/// One engine of `spec/engines.yaml`.
#[derive(Debug, Clone)]
pub struct Engine {
    /// `28.5.2`: the selector of `tests/engine/engine.sh` and the fixture directory name.
    pub name: String,
    /// Where its binaries come from, for the documents.
    pub source: String,
    /// The oldest and the newest API version it serves (its `MinAPIVersion`, `ApiVersion`).
    pub accepts: (EngineApi, EngineApi),
    /// Generated clients that run the client scenario on it at their own version.
    pub scenario: VersionSet,
    /// Newer clients that run the scenario on it negotiating down to `accepts.1`.
    pub negotiated: VersionSet,
    /// Versions whose answers are captured in `tests/fixtures/engine/<name>/`.
    pub fixtures: VersionSet,
}

impl Engine {
    /// The environment variable that carries its socket to the tests: `MOBY_API_TEST_ENGINE_28_5_2`.
    pub fn env_var(&self) -> String {
        format!("MOBY_API_TEST_ENGINE_{}", self.name.replace(['.', '-'], "_"))
    }

    /// Every client that runs the scenario on it, at its own version or negotiating down.
    pub fn clients(&self) -> VersionSet {
        self.scenario.union(self.negotiated)
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    engines: Vec<RawEngine>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEngine {
    name: String,
    source: String,
    accepts: String,
    scenario: String,
    negotiated: String,
    fixtures: String,
}

/// Reads `spec/engines.yaml` from the project's `spec/` directory.
pub fn load(spec_root: &Path) -> Result<Vec<Engine>, Diagnostic> {
    let path = spec_root.join(FILE);
    let label = path.display().to_string();
    let text = std::fs::read_to_string(&path).map_err(|e| Diagnostic::new(&label, "", format!("cannot read: {e}")))?;
    parse(&text, &label)
}

/// Parses the text of `spec/engines.yaml`; `label` names it in errors.
pub fn parse(text: &str, label: &str) -> Result<Vec<Engine>, Diagnostic> {
    let value = crate::source::yaml::parse(text, label)?;
    let file: File =
        serde_path_to_error::deserialize(value).map_err(|e| Diagnostic::new(label, json_pointer_of(e.path()), e.inner().to_string()))?;
    let mut engines = Vec::new();
    for (i, raw) in file.engines.into_iter().enumerate() {
        let at = |field: &str| format!("/engines/{i}/{field}");
        let set = |field: &str, text: &str| -> Result<VersionSet, Diagnostic> {
            if text.trim() == "none" {
                return Ok(VersionSet::EMPTY);
            }
            VersionSet::parse(text).map_err(|e| Diagnostic::new(label, at(field), e))
        };
        let accepts = raw
            .accepts
            .split_once("..=")
            .and_then(|(a, b)| Some((EngineApi::parse(a)?, EngineApi::parse(b)?)))
            .filter(|(a, b)| a <= b)
            .ok_or_else(|| Diagnostic::new(label, at("accepts"), format!("`{}` is not a range like `1.24..=1.51`", raw.accepts)))?;
        let engine = Engine {
            scenario: set("scenario", &raw.scenario)?,
            negotiated: set("negotiated", &raw.negotiated)?,
            fixtures: set("fixtures", &raw.fixtures)?,
            name: raw.name,
            source: raw.source,
            accepts,
        };
        let served = |v: crate::version::ApiVersion| {
            let v = EngineApi { major: 1, minor: v.minor };
            engine.accepts.0 <= v && v <= engine.accepts.1
        };
        for (field, set) in [("scenario", engine.scenario), ("fixtures", engine.fixtures)] {
            if let Some(v) = set.iter().find(|v| !served(*v)) {
                return Err(Diagnostic::new(label, at(field), format!("{} does not serve API {v}", engine.name)));
            }
        }
        if let Some(v) = engine.negotiated.iter().find(|v| served(*v)) {
            return Err(Diagnostic::new(label, at("negotiated"), format!("{} serves {v} itself: list it under `scenario`", engine.name)));
        }
        if engines.iter().any(|e: &Engine| e.name == engine.name) {
            return Err(Diagnostic::new(label, at("name"), format!("{} is listed twice", engine.name)));
        }
        engines.push(engine);
    }
    Ok(engines)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::version::ApiVersion;

    const TWO: &str = "engines:\n  - {name: '20.10', source: bookworm, accepts: 1.12..=1.41, scenario: 1.24..=1.41, negotiated: '1.49', fixtures: 1.24..=1.41}\n  - {name: '28.5.2', source: sid, accepts: 1.24..=1.51, scenario: 1.24..=1.49, negotiated: none, fixtures: '1.24, 1.49'}\n";

    #[test]
    fn reads_engines_and_their_versions() {
        let engines = parse(TWO, "engines.yaml").unwrap();
        assert_eq!(engines.len(), 2);
        assert_eq!(engines[0].env_var(), "MOBY_API_TEST_ENGINE_20_10");
        assert_eq!(engines[0].accepts.0.to_string(), "1.12");
        assert!(engines[0].clients().contains(ApiVersion::new(49)));
        assert!(!engines[0].clients().contains(ApiVersion::new(42)));
        assert!(engines[1].negotiated.is_empty());
        assert_eq!(engines[1].fixtures.to_string(), "1.24, 1.49");
    }

    #[test]
    fn a_version_the_engine_does_not_serve_is_an_error() {
        let e = parse(&TWO.replace("scenario: 1.24..=1.41", "scenario: 1.24..=1.42"), "engines.yaml").unwrap_err();
        assert_eq!(e.pointer, "/engines/0/scenario");
        assert!(e.message.contains("does not serve API 1.42"), "{e}");
        let e = parse(&TWO.replace("negotiated: none", "negotiated: '1.45'"), "engines.yaml").unwrap_err();
        assert!(e.message.contains("serves 1.45 itself"), "{e}");
    }

    #[test]
    fn errors_name_the_field() {
        let e = parse(&TWO.replace("1.24..=1.51", "1.51..=1.24"), "engines.yaml").unwrap_err();
        assert_eq!(e.pointer, "/engines/1/accepts");
        let e = parse(&TWO.replace("fixtures: 1.24..=1.41", "fixtures: soon"), "engines.yaml").unwrap_err();
        assert_eq!(e.pointer, "/engines/0/fixtures");
        let e = parse("engines:\n  - {name: x}\n", "engines.yaml").unwrap_err();
        assert!(e.message.contains("missing field"), "{e}");
    }
}
