//! Emitters: the generated crate's files as token streams (Rust) or text (Cargo.toml).

pub mod client;
pub mod docs;
pub mod format;
pub mod models;
pub mod operation;
pub mod params;
pub mod server;

use std::collections::BTreeMap;
use std::path::Path;

use proc_macro2::TokenStream;
use quote::quote;

use crate::diagnostics::{Diagnostic, Diagnostics};
use crate::ir::history::SharedType;
use crate::ir::History;
use crate::version::{ApiVersion, VersionSet};
use models::{feature_gate, ident, module_name};

/// One file of the generated crate before formatting.
pub enum Unit {
    /// Unformatted Rust source (token streams are not `Send`, text is).
    Rust {
        path: String,
        code: String,
    },
    Text {
        path: String,
        contents: String,
    },
}

impl Unit {
    pub fn rust(path: impl Into<String>, tokens: TokenStream) -> Unit {
        Unit::Rust { path: path.into(), code: tokens.to_string() }
    }
}

/// One finished file, path relative to the repository root.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GeneratedFile {
    pub path: String,
    pub contents: String,
}

/// Template files the emitters fill in (under the repository's `templates/`).
pub const CARGO_TEMPLATE: &str = "generated-Cargo.toml";
pub const CRATE_DOCS_TEMPLATE: &str = "generated-lib.md";

/// What a user of the models, the client or the server needs from the runtime, so that
/// `moby-api` is their one dependency: the whole runtime as `runtime`, and at the crate root
/// the names every program meets (filters, credentials; a client's errors, streams and build
/// contexts; a server's errors, context and serving functions).
fn runtime_reexports() -> TokenStream {
    quote! {
        /// The handwritten runtime this crate was generated against, for what the names
        /// below leave out: transport and server options, endpoints, the stream decoders.
        pub use moby_api_runtime as runtime;

        pub use moby_api_runtime::filters::Filters;
        pub use moby_api_runtime::secret::Secret;
        pub use moby_api_runtime::version::ApiVersion;

        #[cfg(feature = "client")]
        pub use moby_api_runtime::client::{build_context, Endpoint, Error, Transport};

        #[cfg(any(feature = "client", feature = "server"))]
        pub use moby_api_runtime::stream::{LogChunk, ProgressMessage, StdStream, StreamError};

        #[cfg(feature = "server")]
        pub use moby_api_runtime::server::{serve_tcp, serve_unix, ApiError, Context, ServerConfig};
    }
}

/// `template` with its placeholders filled in: the version range (`{{first_version}}`,
/// `{{last_version}}`: `1.24`; `{{first_feature}}`, `{{last_feature}}`: `v1_24`), the
/// default feature (`{{default_feature}}`, the newest) and one `vX_Y = []` line per version
/// (`{{version_features}}`).
fn fill(template: &str, versions: &[ApiVersion]) -> String {
    let (Some(first), Some(last)) = (versions.first(), versions.last()) else { return template.to_string() };
    let features: Vec<String> = versions.iter().map(|v| format!("{} = []", v.ident())).collect();
    template
        .replace("{{first_version}}", &first.to_string())
        .replace("{{last_version}}", &last.to_string())
        .replace("{{first_feature}}", &first.ident())
        .replace("{{last_feature}}", &last.ident())
        .replace("{{default_feature}}", &last.ident())
        .replace("{{version_features}}", &features.join("\n"))
}

fn read_template(dir: &Path, name: &str) -> Result<String, Diagnostic> {
    let path = dir.join(name);
    std::fs::read_to_string(&path).map_err(|e| Diagnostic::new(path.display().to_string(), "", format!("cannot read template: {e}")))
}

/// All types of a single spec as one self-contained, formatted module: how the fixture
/// specs of the snapshot tests are emitted.
pub fn standalone_module(spec: crate::ir::ApiSpec) -> Result<String, Diagnostic> {
    let label = spec.source.clone();
    let history = History::new(vec![spec]);
    let mut classes: Vec<&SharedType> = history.shared.iter().collect();
    classes.sort_by(|a, b| a.name.cmp(&b.name));
    let module = classes.first().map(|c| module_name(c.versions)).unwrap_or_default();
    format::format_rust(&models::shared_module(&history, &module, &classes).to_string(), &label)
}

/// Every file of the generated crate.
pub fn emit_crate(history: &History, templates: &Path) -> Result<Vec<Unit>, Diagnostics> {
    let mut units = Vec::new();
    let versions: Vec<_> = history.versions().collect();

    let cargo = fill(&read_template(templates, CARGO_TEMPLATE)?, &versions);
    units.push(Unit::Text {
        path: "generated/Cargo.toml".into(),
        // The Rust preamble with `#` comments instead of `//`.
        contents: format!("{}\n{cargo}", format::PREAMBLE.replace("// ", "# ")),
    });

    // The crate docs are also the package's README (crates.io shows it).
    let crate_docs = fill(&read_template(templates, CRATE_DOCS_TEMPLATE)?, &versions);
    units.push(Unit::Text { path: "generated/README.md".into(), contents: format!("{}\n{crate_docs}", crate::matrix::DOC_PREAMBLE) });
    let crate_docs = docs::inner(&crate_docs);
    let version_mods = versions.iter().map(|v| {
        let f = v.ident();
        let m = ident(&f);
        quote! { #[cfg(feature = #f)] pub mod #m; }
    });
    let runtime = runtime_reexports();
    units.push(Unit::rust(
        "generated/src/lib.rs",
        quote! {
            #crate_docs

            #runtime

            mod shared;
            #(#version_mods)*
        },
    ));

    let mut modules: BTreeMap<String, (VersionSet, Vec<&SharedType>)> = BTreeMap::new();
    for class in &history.shared {
        modules.entry(module_name(class.versions)).or_insert_with(|| (class.versions, Vec::new())).1.push(class);
    }
    let decls = modules.iter().map(|(name, (versions, _))| {
        let gate = feature_gate(*versions);
        let m = ident(name);
        quote! { #gate pub(crate) mod #m; }
    });
    units.push(Unit::rust(
        "generated/src/shared/mod.rs",
        quote! {
            //! Types, each emitted once for all the versions in which it is identical. Each
            //! module is named after the versions that use it; the version modules re-export.
            #(#decls)*
        },
    ));
    for (name, (_, classes)) in &modules {
        let mut classes = classes.clone();
        classes.sort_by(|a, b| a.name.cmp(&b.name));
        units.push(Unit::rust(format!("generated/src/shared/{name}.rs"), models::shared_module(history, name, &classes)));
    }

    for (i, spec) in history.specs.iter().enumerate() {
        let v = spec.version.ident();
        let doc = docs::inner(&format!(
            "Docker Engine API v{}: {} operations, {} types.\n\nEnable with the cargo feature `{v}`.",
            spec.version,
            spec.operations.len(),
            spec.types.len()
        ));
        let minor = proc_macro2::Literal::u16_unsuffixed(u16::from(spec.version.minor));
        units.push(Unit::rust(
            format!("generated/src/{v}/mod.rs"),
            quote! {
                #doc
                pub mod models;
                pub mod params;
                #[cfg(feature = "client")]
                pub mod client;
                #[cfg(feature = "server")]
                pub mod server;
                #[cfg(feature = "roundtrip")]
                pub mod roundtrip;

                /// The API version this module was generated from: the most its client asks
                /// the engine for, and what its server presents.
                pub const API_VERSION: moby_api_runtime::version::ApiVersion = moby_api_runtime::version::ApiVersion::new(1, #minor);
            },
        ));
        units.push(Unit::rust(format!("generated/src/{v}/models.rs"), models::version_models(history, i)));
        units.push(Unit::rust(format!("generated/src/{v}/params.rs"), params::version_params(history, i)));
        units.push(Unit::rust(format!("generated/src/{v}/client.rs"), client::version_client(history, i)));
        units.push(Unit::rust(format!("generated/src/{v}/server.rs"), server::version_server(history, i)));
        units.push(Unit::rust(format!("generated/src/{v}/roundtrip.rs"), models::version_roundtrip(history, i)));
    }
    Ok(units)
}
