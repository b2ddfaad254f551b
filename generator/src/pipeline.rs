//! Runs the stages for all versions and times them: load → IR → emit → format.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::diagnostics::Diagnostics;
use crate::emit::{self, GeneratedFile};
use crate::ir::{self, History};
use crate::source::{self, manifest::Manifest, Upstream};
use crate::version::ApiVersion;

/// Where the inputs are.
#[derive(Debug, Clone)]
pub struct Inputs {
    /// The upstream specification directory (`../shared/docker-api` by default).
    pub upstream: PathBuf,
    /// The project's `spec/` (manifest and overlays).
    pub project_spec: PathBuf,
}

/// Wall time per stage.
#[derive(Debug, Clone, Copy, Default)]
pub struct Timings {
    pub load: Duration,
    pub ir: Duration,
    pub emit: Duration,
    pub format: Duration,
}

impl Timings {
    pub fn total(&self) -> Duration {
        self.load + self.ir + self.emit + self.format
    }
}

/// Runs `f` on every item on all cores, keeping the input order.
pub fn parallel_map<T: Sync, R: Send>(items: &[T], f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    let workers = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1).min(items.len().max(1));
    let next = std::sync::atomic::AtomicUsize::new(0);
    let mut results: Vec<Option<R>> = (0..items.len()).map(|_| None).collect();
    let chunks: Vec<Vec<(usize, R)>> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..workers)
            .map(|_| {
                scope.spawn(|| {
                    let mut out = Vec::new();
                    loop {
                        let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        if i >= items.len() {
                            break out;
                        }
                        out.push((i, f(&items[i])));
                    }
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap_or_else(|p| std::panic::resume_unwind(p))).collect()
    });
    for (i, r) in chunks.into_iter().flatten() {
        results[i] = Some(r);
    }
    results.into_iter().map(|r| r.expect("every index is processed once")).collect()
}

/// Like [`parallel_map`], but each call owns its item: large inputs are moved, not copied.
pub fn parallel_map_owned<T: Send, R: Send>(items: Vec<T>, f: impl Fn(T) -> R + Sync) -> Vec<R> {
    let cells: Vec<std::sync::Mutex<Option<T>>> = items.into_iter().map(|t| std::sync::Mutex::new(Some(t))).collect();
    parallel_map(&cells, |cell| f(cell.lock().unwrap_or_else(std::sync::PoisonError::into_inner).take().expect("every item is taken once")))
}

/// Builds the IR of one Swagger 2.0 document given as text (fixture specs, tests).
pub fn build_from_text(
    text: &str,
    label: &str,
    version: ApiVersion,
    overlays: &[crate::source::overlay::Overlay],
) -> Result<crate::ir::ApiSpec, Diagnostics> {
    let swagger = source::load_swagger(text, label, version, overlays, &Default::default())?;
    let api = source::to_openapi(&swagger, label)?;
    ir::build_version(&api, version, label)
}

/// Loads and verifies every version and builds the related IR.
pub fn load_history(inputs: &Inputs, timings: &mut Timings) -> Result<History, Diagnostics> {
    let start = Instant::now();
    let manifest_path = inputs.project_spec.join("manifest.yaml");
    let manifest = Manifest::load(&manifest_path)?;
    let versions = source::versions(&manifest, &manifest_path.display().to_string())?;
    let upstream = Upstream::open(&inputs.upstream, manifest)?;
    let overlays = source::load_overlays(&inputs.project_spec)?;
    let imports = source::load_imports(&upstream, &overlays)?;
    let Upstream { dir, docs } = upstream;
    let loaded = source::load_versions(&dir, docs, &versions, &overlays, &imports);
    timings.load = start.elapsed();

    let start = Instant::now();
    let apis: Vec<(ApiVersion, _)> = versions.iter().copied().zip(Diagnostics::collect(loaded)?).collect();
    let built = parallel_map(&apis, |(v, api)| ir::build_version(api, *v, &dir.label(&source::base_file(*v))));
    let history = History::new(Diagnostics::collect(built)?);
    timings.ir = start.elapsed();
    Ok(history)
}

/// Generates every file: the generated crate and the documents under `docs/`; paths are
/// relative to the repository root.
pub fn generate(inputs: &Inputs, templates: &Path) -> Result<(History, Vec<GeneratedFile>, Timings), Diagnostics> {
    let mut timings = Timings::default();
    let history = load_history(inputs, &mut timings)?;
    let start = Instant::now();
    let units = emit::emit_crate(&history, templates)?;
    // CHANGELOG.md was verified against the manifest with the specifications.
    let changelog_path = inputs.upstream.join("CHANGELOG.md");
    let changelog = std::fs::read_to_string(&changelog_path)
        .map_err(|e| crate::Diagnostic::new(changelog_path.display().to_string(), "", format!("cannot read: {e}")))?;
    let engines = crate::engines::load(&inputs.project_spec)?;
    let documents = [
        GeneratedFile { path: crate::matrix::PATH.into(), contents: crate::matrix::render(&history, &engines) },
        GeneratedFile { path: crate::changelog::PATH.into(), contents: crate::changelog::check(&history, &changelog).to_markdown() },
    ];
    timings.emit = start.elapsed();
    let start = Instant::now();
    let mut files = emit::format::format_all(units)?;
    files.extend(documents);
    timings.format = start.elapsed();
    Ok((history, files, timings))
}
