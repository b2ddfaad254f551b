//! The published crates (`moby-api-runtime`, `moby-api`) as their users get them.
//!
//! [`rustdoc`]: their documentation as docs.rs builds it (each crate's
//! `[package.metadata.docs.rs]` features), without a warning or a broken link.
//!
//! [`downstream`]: `cargo package` packs both (offline and together: cargo packages
//! interdependent workspace crates against a local registry of the ones packed before
//! them); the `.crate` files are checked against crates.io's 10 MiB limit, unpacked and
//! checked (license, README, `moby-api` requiring exactly the runtime's version), and a new crate outside the workspace depends
//! on them by version, as it would on crates.io, with `[patch.crates-io]` pointing at the
//! unpacked files. It builds the README's programs (`tests/examples/`) with only `moby-api`,
//! tokio and futures-util, for the version they are written for, the versions in
//! [`ALSO_FOR`] and the newest; without the `tls` feature, and its test checks that a TLS
//! endpoint is then refused with the feature's name.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::root;

/// The crates that are published, in dependency order.
const PUBLISHED: [&str; 2] = ["moby-api-runtime", "moby-api"];

/// Versions the README's programs are also compiled for, besides their own and the newest.
const ALSO_FOR: [&str; 1] = ["v1_41"];

/// The README's programs, compiled by the `moby-api-tests` crate as they are written.
const EXAMPLES: &str = "tests/examples";

pub fn downstream(cargo: &str) -> Result<(), String> {
    let work = root().join("target/downstream");
    let app = work.join("app");
    if app.exists() {
        std::fs::remove_dir_all(&app).map_err(|e| format!("{}: {e}", app.display()))?;
    }
    let Packed { version, patches } = pack(cargo, &work)?;

    // The default feature is the newest version.
    let metadata = metadata(cargo)?;
    let newest = package(&metadata, "moby-api")
        .and_then(|p| p["features"]["default"][0].as_str())
        .ok_or("moby-api has no default feature (the newest version)")?
        .to_string();
    let mut all_versions = BTreeSet::new();
    std::fs::create_dir_all(app.join("examples")).map_err(|e| e.to_string())?;
    std::fs::create_dir_all(app.join("tests")).map_err(|e| e.to_string())?;
    for example in examples()? {
        let source = std::fs::read_to_string(&example).map_err(|e| format!("{}: {e}", example.display()))?;
        let written = version_of(&source).ok_or_else(|| format!("{} names no version module", example.display()))?;
        let stem = example.file_stem().and_then(|s| s.to_str()).unwrap_or("example");
        let versions: BTreeSet<String> = ALSO_FOR.iter().map(|v| v.to_string()).chain([newest.clone(), written.clone()]).collect();
        for version in &versions {
            let program = source.replace(&format!("moby_api::{written}"), &format!("moby_api::{version}"));
            std::fs::write(app.join("examples").join(format!("{stem}_{version}.rs")), program).map_err(|e| e.to_string())?;
        }
        all_versions.extend(versions);
    }
    let features: Vec<String> = ["client", "server"].iter().map(|f| f.to_string()).chain(all_versions).map(|f| format!("{f:?}")).collect();
    std::fs::write(app.join("Cargo.toml"), app_manifest(&version, &features.join(", "), &patches)).map_err(|e| e.to_string())?;
    std::fs::write(app.join("tests/tls_off.rs"), TLS_OFF_TEST).map_err(|e| e.to_string())?;
    // The workspace's lock file: the same dependency versions, all available offline.
    std::fs::copy(root().join("Cargo.lock"), app.join("Cargo.lock")).map_err(|e| e.to_string())?;
    run_in(&app, Command::new(cargo).args(["test", "--offline"]).env("CARGO_TARGET_DIR", root().join("target")))
}

/// The published crates packed and unpacked, as crates.io would serve them.
pub struct Packed {
    /// The version both carry.
    pub version: String,
    /// `[patch.crates-io]` lines that make a crate outside the workspace use the unpacked files.
    pub patches: String,
}

/// `cargo package` of the published crates into `work/package`, offline and together; each
/// `.crate` checked (size, license, README, the exact runtime requirement) and unpacked into
/// `work/crates`.
pub fn pack(cargo: &str, work: &Path) -> Result<Packed, String> {
    let packages = work.join("package");
    let crates = work.join("crates");
    if crates.exists() {
        std::fs::remove_dir_all(&crates).map_err(|e| format!("{}: {e}", crates.display()))?;
    }
    let mut pack = Command::new(cargo);
    pack.args(["package", "--offline", "--no-verify", "--allow-dirty", "--target-dir"]).arg(work);
    for name in PUBLISHED {
        pack.args(["--package", name]);
    }
    run_in(&root(), &mut pack)?;

    let version = workspace_version(cargo)?;
    std::fs::create_dir_all(&crates).map_err(|e| e.to_string())?;
    let mut patches = String::new();
    for name in PUBLISHED {
        let file = packages.join(format!("{name}-{version}.crate"));
        check_size(&file)?;
        // `-m`: cargo packs every file with one fixed mtime (2006); restored, the unpacked
        // sources would look older than the last downstream build in the shared target
        // directory, and cargo would reuse that build of the previous package.
        run_in(&crates, Command::new("tar").arg("-xzmf").arg(&file))?;
        let dir = crates.join(format!("{name}-{version}"));
        check_package(&dir, name, &version)?;
        patches.push_str(&format!("{name} = {{ path = {:?} }}\n", dir.display().to_string()));
    }
    Ok(Packed { version, patches })
}

fn app_manifest(version: &str, features: &str, patches: &str) -> String {
    format!(
        r#"[package]
name = "moby-api-downstream"
version = "0.0.0"
edition = "2021"
publish = false

# As in the README: one dependency on moby-api, by version.
[dependencies]
moby-api = {{ version = "{version}", default-features = false, features = [{features}] }}
futures-util = "0.3"
tokio = {{ version = "1", features = ["macros", "rt-multi-thread", "io-util", "signal"] }}

# What crates.io would serve: the packaged files.
[patch.crates-io]
{patches}
[workspace]
"#
    )
}

/// Without the `tls` feature no TLS crate is built, and a TLS endpoint is an error that
/// says which feature is missing.
const TLS_OFF_TEST: &str = r#"#[test]
fn a_tls_endpoint_names_the_missing_feature() {
    std::env::set_var("DOCKER_HOST", "tcp://127.0.0.1:2376");
    std::env::set_var("DOCKER_TLS_VERIFY", "1");
    let err = moby_api::v1_41::client::Client::from_env().err().expect("a TLS endpoint without the tls feature is an error");
    assert!(err.to_string().contains("the `tls` feature of moby-api"), "{err}");
}
"#;

/// The largest `.crate` crates.io accepts (its default upload limit).
const CRATES_IO_MAX_BYTES: u64 = 10 * 1024 * 1024;

/// The packed crate fits crates.io's upload limit; its size is printed, as it grows with
/// every API version.
fn check_size(file: &Path) -> Result<(), String> {
    let bytes = std::fs::metadata(file).map_err(|e| format!("{}: {e}", file.display()))?.len();
    let mib = |b: u64| b as f64 / (1024.0 * 1024.0);
    println!("{}: {:.2} MiB of crates.io's {:.0} MiB", file.display(), mib(bytes), mib(CRATES_IO_MAX_BYTES));
    if bytes > CRATES_IO_MAX_BYTES {
        return Err(format!(
            "{} is {:.2} MiB: crates.io refuses a crate over {:.0} MiB",
            file.display(),
            mib(bytes),
            mib(CRATES_IO_MAX_BYTES)
        ));
    }
    Ok(())
}

/// The unpacked package carries its license and README and, for `moby-api`, requires
/// exactly the runtime of the same version.
fn check_package(dir: &Path, name: &str, version: &str) -> Result<(), String> {
    for file in ["LICENSE", "README.md", "Cargo.toml"] {
        if !dir.join(file).is_file() {
            return Err(format!("the package {name} {version} has no {file}"));
        }
    }
    let manifest = std::fs::read_to_string(dir.join("Cargo.toml")).map_err(|e| e.to_string())?;
    for line in ["license = \"Apache-2.0\"", "readme = \"README.md\""] {
        if !manifest.lines().any(|l| l == line) {
            return Err(format!("the package {name} {version}'s Cargo.toml lacks `{line}`"));
        }
    }
    if name == "moby-api" {
        let runtime = manifest.split("[dependencies.moby-api-runtime]").nth(1).and_then(|s| s.split("\n[").next()).unwrap_or_default();
        let wanted = format!("version = \"={version}\"");
        if !runtime.lines().any(|l| l.trim() == wanted) {
            return Err(format!(
                "the package moby-api {version} must require moby-api-runtime `={version}`; its manifest says:\n{runtime}"
            ));
        }
    }
    Ok(())
}

/// The version both published crates carry (`[workspace.package]`).
fn workspace_version(cargo: &str) -> Result<String, String> {
    let metadata = metadata(cargo)?;
    let versions: Vec<Option<String>> =
        PUBLISHED.iter().map(|name| package(&metadata, name).and_then(|p| p["version"].as_str()).map(str::to_owned)).collect();
    match versions.as_slice() {
        [Some(first), rest @ ..] if rest.iter().all(|v| v.as_ref() == Some(first)) => Ok(first.clone()),
        _ => Err(format!("the published crates {PUBLISHED:?} must have one version; they have {versions:?}")),
    }
}

/// `cargo doc` of the published crates with the features docs.rs builds them with (a link
/// into a feature left out would break there), then with every feature (every version's
/// descriptions); every rustdoc warning, a broken intra-doc link included, is an error.
pub fn rustdoc(cargo: &str) -> Result<(), String> {
    let metadata = metadata(cargo)?;
    let doc = || {
        let mut doc = Command::new(cargo);
        doc.args(["doc", "--no-deps"]).env("RUSTDOCFLAGS", "-D warnings");
        for name in PUBLISHED {
            doc.args(["--package", name]);
        }
        doc
    };
    let mut features = Vec::new();
    for name in PUBLISHED {
        let package = package(&metadata, name).ok_or_else(|| format!("no package {name}"))?;
        let docs_rs = &package["metadata"]["docs"]["rs"];
        let wanted: Vec<&str> = if docs_rs["all-features"] == true {
            package["features"].as_object().into_iter().flat_map(|f| f.keys()).map(String::as_str).collect()
        } else {
            docs_rs["features"].as_array().into_iter().flatten().filter_map(|f| f.as_str()).collect()
        };
        if wanted.is_empty() {
            return Err(format!("{name} has no [package.metadata.docs.rs] features: docs.rs would show its defaults only"));
        }
        features.extend(wanted.iter().map(|f| format!("{name}/{f}")));
    }
    println!("docs.rs features: {}", features.join(" "));
    run_in(&root(), doc().args(["--features", &features.join(",")]))?;
    run_in(&root(), doc().arg("--all-features"))
}

fn metadata(cargo: &str) -> Result<serde_json::Value, String> {
    let out = Command::new(cargo)
        .args(["metadata", "--offline", "--no-deps", "--format-version", "1"])
        .current_dir(root())
        .output()
        .map_err(|e| e.to_string())?;
    if !out.status.success() {
        return Err(format!("cargo metadata failed: {}", String::from_utf8_lossy(&out.stderr)));
    }
    serde_json::from_slice(&out.stdout).map_err(|e| format!("cargo metadata: {e}"))
}

fn package<'a>(metadata: &'a serde_json::Value, name: &str) -> Option<&'a serde_json::Value> {
    metadata["packages"].as_array()?.iter().find(|p| p["name"] == name)
}

fn examples() -> Result<Vec<PathBuf>, String> {
    let dir = root().join(EXAMPLES);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .map_err(|e| format!("{}: {e}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "rs"))
        .collect();
    files.sort();
    Ok(files)
}

/// The version module a program uses: `v1_41` in `moby_api::v1_41::…`.
pub fn version_of(source: &str) -> Option<String> {
    let at = source.find("moby_api::v1_")? + "moby_api::".len();
    let ident: String = source[at..].chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect();
    Some(ident)
}

fn run_in(dir: &Path, cmd: &mut Command) -> Result<(), String> {
    let status = cmd.current_dir(dir).status().map_err(|e| format!("cannot run {cmd:?}: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("{cmd:?} in {} failed ({status})", dir.display()))
    }
}
