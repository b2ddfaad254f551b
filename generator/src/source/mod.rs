//! Loading: upstream files (verified against the manifest) + project overlays → OpenAPI 3.0.

pub mod manifest;
pub mod overlay;
pub mod swagger2;
pub mod yaml;

use std::path::Path;

use serde::Deserialize;

use crate::diagnostics::{Diagnostic, Diagnostics};
use crate::version::ApiVersion;
use manifest::{json_pointer_of, SpecDir};
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

/// Parses the upstream files that the overlays' `import` changes copy from; each must be a
/// file of the manifest (and so verified).
pub fn load_imports(dir: &SpecDir, overlays: &[Overlay]) -> Result<Imports, Diagnostics> {
    let mut docs = std::collections::BTreeMap::new();
    let mut problems = Diagnostics::default();
    for (file, overlay) in Imports::files(overlays) {
        if !dir.manifest.files.contains_key(file) {
            problems.push(Diagnostic::new(overlay, "", format!("an import names {file}, which is not a file of spec/manifest.yaml")));
            continue;
        }
        match dir.read(file).map_err(Diagnostics::from).and_then(|text| yaml::parse(&text, &dir.label(file)).map_err(Diagnostics::from)) {
            Ok(doc) => {
                docs.insert(file.to_owned(), doc);
            }
            Err(e) => problems.extend(e),
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
    let mut problems = Diagnostics::default();
    for o in overlays.iter().filter(|o| o.versions.contains(version)) {
        if let Err(e) = o.apply(&mut doc, version, file, imports) {
            problems.extend(e);
        }
    }
    problems.into_result(doc)
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

/// Loads one version from the verified upstream directory.
pub fn load_version(
    dir: &SpecDir,
    overlays: &[Overlay],
    imports: &Imports,
    version: ApiVersion,
) -> Result<openapiv3::OpenAPI, Diagnostics> {
    let file = base_file(version);
    let text = dir.read(&file)?;
    let label = if version.minor == 24 { format!("{} (as v1.24)", dir.label(&file)) } else { dir.label(&file) };
    let swagger = load_swagger(&text, &label, version, overlays, imports)?;
    to_openapi(&swagger, &label)
}

#[cfg(test)]
mod tests {
    use super::*;
    use manifest::{sha256_hex, Manifest};

    #[test]
    fn imports_come_only_from_pinned_files() {
        let dir = std::env::temp_dir().join(format!("moby-api-imports-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let text = "definitions:\n  Stats: {type: object}\n";
        std::fs::write(dir.join("v1.48.yaml"), text).unwrap();
        let manifest = Manifest {
            url: "https://example.invalid/{file}".into(),
            files: [("v1.48.yaml".to_owned(), sha256_hex(text.as_bytes()))].into(),
        };
        let spec_dir = SpecDir::open(&dir, manifest).unwrap();
        let overlay = |from: &str| {
            let text = format!("title: t\nchanges:\n  - {{op: import, path: /definitions/Stats, from: '{from}', why: w}}\n");
            Overlay::parse(&text, "spec/corrections/stats.yaml").unwrap()
        };

        let pinned = [overlay("v1.48.yaml#/definitions/Stats")];
        let imports = load_imports(&spec_dir, &pinned).unwrap();
        let doc = load_swagger("definitions: {}\n", "v1.41.yaml", ApiVersion::new(41), &pinned, &imports).unwrap();
        assert_eq!(doc["definitions"]["Stats"], serde_json::json!({"type": "object"}));

        let err = load_imports(&spec_dir, &[overlay("v1.47.yaml#/definitions/Stats")]).unwrap_err();
        assert_eq!(err.0[0].file, "spec/corrections/stats.yaml");
        assert!(err.0[0].message.contains("v1.47.yaml, which is not a file of spec/manifest.yaml"), "{err}");
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
