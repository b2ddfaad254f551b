//! The pinned upstream inputs (`spec/manifest.yaml`): where each file comes from and its sha256.

use std::path::{Path, PathBuf};

use indexmap::IndexMap;
use serde::Deserialize;
use sha2::{Digest, Sha256};

use crate::diagnostics::{Diagnostic, Diagnostics};
use crate::pipeline::parallel_map;

/// Contents of `spec/manifest.yaml`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    /// Upstream URL template; `{file}` is replaced by the file name.
    pub url: String,
    /// File name → lowercase hex sha256.
    pub files: IndexMap<String, String>,
}

impl Manifest {
    pub fn load(path: &Path) -> Result<Manifest, Diagnostic> {
        let label = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| Diagnostic::new(&label, "", format!("cannot read manifest: {e}")))?;
        let value = super::yaml::parse(&text, &label)?;
        serde_path_to_error::deserialize(value).map_err(|e| Diagnostic::new(&label, json_pointer_of(e.path()), e.inner().to_string()))
    }

    pub fn url_of(&self, file: &str) -> String {
        self.url.replace("{file}", file)
    }
}

/// The verified directory of upstream inputs.
#[derive(Debug, Clone)]
pub struct SpecDir {
    pub dir: PathBuf,
    pub manifest: Manifest,
}

impl SpecDir {
    /// Checks that every file of the manifest is present in `dir` with the pinned sha256,
    /// and hands each verified file's bytes to `then`, with its name and its
    /// [`label`](SpecDir::label), in manifest order: every file is read once, and the files
    /// are verified and `then` runs (the specifications are parsed there) on every core.
    ///
    /// All missing or altered files are reported at once, each with its upstream URL.
    pub fn open<R: Send>(
        dir: &Path,
        manifest: Manifest,
        then: impl Fn(&str, &str, Vec<u8>) -> R + Sync,
    ) -> Result<(SpecDir, Vec<R>), Diagnostics> {
        if !dir.is_dir() {
            let mut msg = format!(
                "the upstream specification directory {} does not exist; it must hold these files (pass --spec-dir or set MOBY_API_SPEC_DIR to use another directory):",
                dir.display()
            );
            for file in manifest.files.keys() {
                msg.push_str(&format!("\n  {file}  <- {}", manifest.url_of(file)));
            }
            return Err(Diagnostic::new(dir.display().to_string(), "", msg).into());
        }
        let spec_dir = SpecDir { dir: dir.to_path_buf(), manifest };
        let files: Vec<(&String, &String)> = spec_dir.manifest.files.iter().collect();
        let checked = parallel_map(&files, |&(file, expected)| {
            let label = spec_dir.label(file);
            let url = || spec_dir.manifest.url_of(file);
            let bytes = std::fs::read(dir.join(file))
                .map_err(|e| Diagnostic::new(&label, "", format!("missing input ({e}); download it from {}", url())))?;
            let actual = sha256_hex(&bytes);
            if &actual != expected {
                return Err(Diagnostic::new(
                    &label,
                    "",
                    format!("sha256 is {actual}, the manifest pins {expected}; the pinned file is at {}", url()),
                ));
            }
            Ok(then(file, &label, bytes))
        });
        let results = Diagnostics::collect(checked)?;
        Ok((spec_dir, results))
    }

    /// Label used in diagnostics for a file of this directory.
    pub fn label(&self, file: &str) -> String {
        self.dir.join(file).display().to_string()
    }
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    let digest = Sha256::digest(bytes);
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// Converts a serde path (`a.b[3].c`) to a JSON pointer (`/a/b/3/c`).
pub fn json_pointer_of(path: &serde_path_to_error::Path) -> String {
    use serde_path_to_error::Segment;
    let mut p = String::new();
    for seg in path.iter() {
        match seg {
            Segment::Seq { index } => p = crate::diagnostics::pointer_push(&p, &index.to_string()),
            Segment::Map { key } => p = crate::diagnostics::pointer_push(&p, key),
            Segment::Enum { variant } => p = crate::diagnostics::pointer_push(&p, variant),
            Segment::Unknown => p.push_str("/?"),
        }
    }
    p
}

#[cfg(test)]
mod tests {
    use super::*;

    fn manifest(files: &[(&str, &str)]) -> Manifest {
        Manifest {
            url: "https://example.invalid/{file}".into(),
            files: files.iter().map(|(f, h)| (f.to_string(), h.to_string())).collect(),
        }
    }

    /// Verification alone.
    fn verify(dir: &Path, manifest: Manifest) -> Result<SpecDir, Diagnostics> {
        SpecDir::open(dir, manifest, |_, _, _| ()).map(|(dir, _)| dir)
    }

    #[test]
    fn missing_directory_lists_every_file_and_its_url() {
        let err = verify(Path::new("/nonexistent/docker-api"), manifest(&[("v1.25.yaml", "00"), ("v1.24.md", "11")])).unwrap_err();
        let text = err.to_string();
        assert!(text.contains("v1.25.yaml  <- https://example.invalid/v1.25.yaml"), "{text}");
        assert!(text.contains("v1.24.md  <- https://example.invalid/v1.24.md"), "{text}");
        assert!(text.contains("MOBY_API_SPEC_DIR"), "{text}");
    }

    #[test]
    fn altered_and_missing_files_are_all_reported() {
        let dir = std::env::temp_dir().join(format!("moby-api-manifest-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("a.yaml"), b"swagger: '2.0'\n").unwrap();
        let good = sha256_hex(b"swagger: '2.0'\n");
        assert!(verify(&dir, manifest(&[("a.yaml", &good)])).is_ok());
        let err = verify(&dir, manifest(&[("a.yaml", "abc"), ("b.yaml", "def")])).unwrap_err();
        assert_eq!(err.len(), 2);
        assert!(err.0[0].message.contains(&format!("sha256 is {good}, the manifest pins abc")), "{err}");
        assert!(err.0[1].message.contains("missing input") && err.0[1].message.contains("https://example.invalid/b.yaml"), "{err}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
