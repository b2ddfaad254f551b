//! Loading: upstream files (verified against the manifest) + project overlays → OpenAPI 3.0.

pub mod fast_yaml;
pub mod manifest;
pub mod overlay;
pub mod swagger2;
pub mod yaml;

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;
use serde_json::Value;

use crate::diagnostics::{Diagnostic, Diagnostics};
use crate::pipeline::parallel_map_owned;
use crate::version::ApiVersion;
use manifest::{json_pointer_of, Manifest, SpecDir};
use overlay::{Imports, Overlay};

/// Where overlays live under `spec/`, in the order they apply.
pub const OVERLAY_DIRS: [&str; 3] = ["derive", "corrections", "annotations"];

/// v1.24 has no Swagger file anywhere: it is v1.25 with `spec/derive/v1.24.yaml` applied.
pub fn base_file(version: ApiVersion) -> String {
    if version.minor == 24 {
        ApiVersion::new(25).spec_file()
    } else {
        version.spec_file()
    }
}

/// Every version the inputs make, oldest first: one per Swagger file of the manifest
/// (`v1.N.yaml`), and v1.24, derived from v1.25. So adding the next upstream version is one
/// manifest entry.
pub fn versions(manifest: &manifest::Manifest, label: &str) -> Result<Vec<ApiVersion>, Diagnostic> {
    let mut versions = Vec::new();
    for file in manifest.files.keys() {
        let Some(name) = file.strip_suffix(".yaml") else { continue };
        let version = ApiVersion::parse(name).filter(|v| v.spec_file() == *file).ok_or_else(|| {
            Diagnostic::new(
                label,
                format!("/files/{file}"),
                format!("`{file}` is not a specification of a version 1.25–1.{}", crate::version::MAX_MINOR),
            )
        })?;
        versions.push(version);
    }
    if versions.contains(&ApiVersion::new(25)) {
        versions.push(ApiVersion::new(24));
    }
    versions.sort();
    Ok(versions)
}

/// Reads every overlay under `spec_root` (the project's `spec/`), in application order.
pub fn load_overlays(spec_root: &Path) -> Result<Vec<Overlay>, Diagnostics> {
    let mut overlays = Vec::new();
    let mut problems = Diagnostics::default();
    for dir in OVERLAY_DIRS {
        let dir = spec_root.join(dir);
        let Ok(entries) = std::fs::read_dir(&dir) else { continue };
        let mut files: Vec<_> =
            entries.filter_map(Result::ok).map(|e| e.path()).filter(|p| p.extension().is_some_and(|e| e == "yaml")).collect();
        files.sort();
        for path in files {
            let label = path.display().to_string();
            match std::fs::read_to_string(&path) {
                Ok(text) => match Overlay::parse(&text, &label) {
                    Ok(o) => overlays.push(o),
                    Err(e) => problems.extend(e),
                },
                Err(e) => problems.push(Diagnostic::new(label, "", format!("cannot read: {e}"))),
            }
        }
    }
    problems.into_result(overlays)
}

/// The verified upstream directory and its Swagger documents, each parsed once: v1.25's
/// serves v1.24 too, and the file the imports copy from is also a version's.
#[derive(Debug)]
pub struct Upstream {
    pub dir: SpecDir,
    /// File name (`v1.41.yaml`) → its document, for every Swagger file of the manifest.
    pub docs: BTreeMap<String, Value>,
}

impl Upstream {
    /// Verifies every file of the manifest ([`SpecDir::open`]) and parses its Swagger files
    /// (`v1.N.yaml`), on every core. Errors of the verification come alone, before any
    /// error of a document.
    pub fn open(dir: &Path, manifest: Manifest) -> Result<Upstream, Diagnostics> {
        let (dir, parsed) = SpecDir::open(dir, manifest, |file, label, bytes| {
            file.ends_with(".yaml").then(|| {
                let text = String::from_utf8(bytes).map_err(|e| Diagnostic::new(label, "", format!("cannot read: {e}")))?;
                yaml::parse(&text, label).map(|doc| (file.to_owned(), doc))
            })
        })?;
        let docs = Diagnostics::collect(parsed.into_iter().flatten())?.into_iter().collect();
        Ok(Upstream { dir, docs })
    }
}

/// The upstream documents that the overlays' `import` changes copy from; each must be a
/// file of the manifest (and so verified).
pub fn load_imports(upstream: &Upstream, overlays: &[Overlay]) -> Result<Imports, Diagnostics> {
    let mut docs = BTreeMap::new();
    let mut problems = Diagnostics::default();
    for (file, overlay) in Imports::files(overlays) {
        match upstream.docs.get(file) {
            Some(doc) => {
                docs.insert(file.to_owned(), doc.clone());
            }
            None => {
                problems.push(Diagnostic::new(overlay, "", format!("an import names {file}, which is not a file of spec/manifest.yaml")))
            }
        }
    }
    problems.into_result(Imports::new(docs))
}

/// The Swagger document of `version` with the overlays applied (still Swagger 2.0).
pub fn load_swagger(
    text: &str,
    file: &str,
    version: ApiVersion,
    overlays: &[Overlay],
    imports: &Imports,
) -> Result<serde_json::Value, Diagnostics> {
    let mut doc = yaml::parse(text, file)?;
    apply_overlays(&mut doc, file, version, overlays, imports)?;
    Ok(doc)
}

/// Applies the overlays of `version` to its Swagger document, reporting every change that fails.
pub fn apply_overlays(
    doc: &mut Value,
    file: &str,
    version: ApiVersion,
    overlays: &[Overlay],
    imports: &Imports,
) -> Result<(), Diagnostics> {
    let mut problems = Diagnostics::default();
    for o in overlays.iter().filter(|o| o.versions.contains(version)) {
        if let Err(e) = o.apply(doc, version, file, imports) {
            problems.extend(e);
        }
    }
    problems.into_result(())
}

/// Upgrades to OpenAPI 3.0 and parses it with openapiv3.
///
/// Only an error needs the path that serde_path_to_error tracks for every value, so a
/// document is parsed without it first, borrowed (openapiv3's untagged enums and flattened
/// extensions buffer every value they try, and borrowed strings are not copied into those
/// buffers): 40% less time than the tracked parse of an owned document. A document that
/// does not parse is parsed again, tracked, for the error and where it is.
pub fn to_openapi(swagger: &serde_json::Value, file: &str) -> Result<openapiv3::OpenAPI, Diagnostics> {
    let upgraded = swagger2::upgrade(swagger, file)?;
    if let Ok(api) = openapiv3::OpenAPI::deserialize(&upgraded) {
        return Ok(api);
    }
    serde_path_to_error::deserialize(upgraded).map_err(|e| {
        let pointer = json_pointer_of(e.path()).replacen("/components/schemas/", "/definitions/", 1);
        Diagnostic::new(file, pointer, format!("{} (after the OpenAPI 3.0 upgrade)", e.inner())).into()
    })
}

/// Loads every version from the upstream documents, on every core, in the order of `versions`.
///
/// The last version of a document takes it; an earlier one (v1.24 of v1.25's) gets a copy,
/// about an eighth of the cost of parsing its YAML again.
pub fn load_versions(
    dir: &SpecDir,
    mut docs: BTreeMap<String, Value>,
    versions: &[ApiVersion],
    overlays: &[Overlay],
    imports: &Imports,
) -> Vec<Result<openapiv3::OpenAPI, Diagnostics>> {
    let mut jobs = Vec::with_capacity(versions.len());
    for (i, &version) in versions.iter().enumerate() {
        let file = base_file(version);
        let doc =
            if versions[i + 1..].iter().any(|&later| base_file(later) == file) { docs.get(&file).cloned() } else { docs.remove(&file) };
        jobs.push((version, file, doc));
    }
    parallel_map_owned(jobs, |(version, file, doc)| {
        let label = if version.minor == 24 { format!("{} (as v1.24)", dir.label(&file)) } else { dir.label(&file) };
        let mut doc = doc.ok_or_else(|| Diagnostic::new(&label, "", "not a Swagger file of spec/manifest.yaml"))?;
        apply_overlays(&mut doc, &label, version, overlays, imports)?;
        to_openapi(&doc, &label)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use manifest::sha256_hex;

    /// A directory of upstream files, pinned by a manifest made for them.
    fn upstream(name: &str, files: &[(&str, &str)]) -> (std::path::PathBuf, Result<Upstream, Diagnostics>) {
        let dir = std::env::temp_dir().join(format!("moby-api-{name}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        for (file, text) in files {
            std::fs::write(dir.join(file), text).unwrap();
        }
        let manifest = Manifest {
            url: "https://example.invalid/{file}".into(),
            files: files.iter().map(|(file, text)| (file.to_string(), sha256_hex(text.as_bytes()))).collect(),
        };
        let upstream = Upstream::open(&dir, manifest);
        (dir, upstream)
    }

    #[test]
    fn imports_come_only_from_pinned_files() {
        let (dir, upstream) = upstream("imports", &[("v1.48.yaml", "definitions:\n  Stats: {type: object}\n")]);
        let upstream = upstream.unwrap();
        let overlay = |from: &str| {
            let text = format!("title: t\nchanges:\n  - {{op: import, path: /definitions/Stats, from: '{from}', why: w}}\n");
            Overlay::parse(&text, "spec/corrections/stats.yaml").unwrap()
        };

        let pinned = [overlay("v1.48.yaml#/definitions/Stats")];
        let imports = load_imports(&upstream, &pinned).unwrap();
        let doc = load_swagger("definitions: {}\n", "v1.41.yaml", ApiVersion::new(41), &pinned, &imports).unwrap();
        assert_eq!(doc["definitions"]["Stats"], serde_json::json!({"type": "object"}));

        let err = load_imports(&upstream, &[overlay("v1.47.yaml#/definitions/Stats")]).unwrap_err();
        assert_eq!(err.0[0].file, "spec/corrections/stats.yaml");
        assert!(err.0[0].message.contains("v1.47.yaml, which is not a file of spec/manifest.yaml"), "{err}");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn one_parse_of_v1_25_serves_v1_24_too() {
        let (dir, upstream) = upstream("share", &[("v1.25.yaml", "swagger: '2.0'\ninfo: {title: t, version: '1'}\npaths: {}\n")]);
        let upstream = upstream.unwrap();
        let derive = "title: t\nversions: '1.24'\nchanges:\n  - {op: add, path: /info/description, value: older, why: w}\n";
        let overlays = [Overlay::parse(derive, "spec/derive/v1.24.yaml").unwrap()];
        let versions = [ApiVersion::new(24), ApiVersion::new(25)];
        let apis = load_versions(&upstream.dir, upstream.docs, &versions, &overlays, &Imports::default());
        let descriptions: Vec<_> = apis.into_iter().map(|api| api.unwrap().info.description).collect();
        assert_eq!(descriptions, [Some("older".to_owned()), None]);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn upstream_yaml_errors_name_the_file_and_line() {
        let (dir, upstream) = upstream("bad-yaml", &[("v1.25.yaml", "swagger: '2.0'\npaths: [1, 2\n"), ("v1.24.md", "# not parsed")]);
        let err = upstream.unwrap_err();
        assert_eq!(err.len(), 1, "{err}");
        assert_eq!(err.0[0].file, dir.join("v1.25.yaml").display().to_string());
        assert!(err.0[0].message.starts_with("invalid YAML (line "), "{err}");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    /// The second parse, with serde_path_to_error, says what and where.
    #[test]
    fn openapi_errors_are_located() {
        let doc = yaml::parse(
            "swagger: '2.0'\ninfo: {title: t, version: '1'}\npaths: {}\ndefinitions:\n  A: {type: object, required: yes-please}\n",
            "t.yaml",
        )
        .unwrap();
        let err = to_openapi(&doc, "t.yaml").unwrap_err();
        let expected = "invalid type: string \"yes-please\", expected a sequence (after the OpenAPI 3.0 upgrade)";
        assert_eq!(err.0, [Diagnostic::new("t.yaml", "/definitions/A", expected)]);
    }
}
