//! Emitters: the generated crate's files as token streams (Rust) or text (Cargo.toml).

pub mod client;
pub mod docs;
pub mod format;
pub mod models;
pub mod operation;
pub mod params;
pub mod roundtrip;
pub mod server;

use std::collections::BTreeMap;
use std::path::Path;

use proc_macro2::TokenStream;
use quote::quote;

use crate::diagnostics::{Diagnostic, Diagnostics};
use crate::ir::history::operations::SharedItem;
use crate::ir::history::SharedType;
use crate::ir::History;
use crate::pipeline::parallel_map;
use crate::version::VersionSet;
use models::{feature_gate, ident};
use operation::Kind;

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
    let module = classes.first().map(|c| c.module.clone()).unwrap_or_default();
    let header = docs::inner(&format!("Types shared by API versions {}.", history.covered()));
    format::format_rust(&models::shared_module(&history, &module, &classes, header).to_string(), &label)
}

/// Everything one module of `shared/` holds: the classes used by exactly `versions`.
#[derive(Default)]
struct SharedModule<'h> {
    versions: VersionSet,
    types: Vec<&'h SharedType>,
    params: Vec<&'h SharedItem>,
    requests: Vec<&'h SharedItem>,
    replies: Vec<&'h SharedItem>,
    outcomes: Vec<&'h SharedItem>,
    methods: Vec<&'h SharedItem>,
    services: Vec<&'h SharedItem>,
}

impl<'h> SharedModule<'h> {
    /// Every module of `shared/`, by name, each list sorted by name.
    fn all(history: &'h History) -> BTreeMap<String, SharedModule<'h>> {
        let mut modules: BTreeMap<String, SharedModule<'h>> = BTreeMap::new();
        for class in &history.shared {
            entry(&mut modules, &class.module, class.versions).types.push(class);
        }
        let ops = &history.ops;
        for (classes, pick) in [
            (&ops.params, (|m| &mut m.params) as for<'a> fn(&'a mut SharedModule<'h>) -> &'a mut Vec<&'h SharedItem>),
            (&ops.requests, |m| &mut m.requests),
            (&ops.replies, |m| &mut m.replies),
            (&ops.outcomes, |m| &mut m.outcomes),
            (&ops.methods, |m| &mut m.methods),
            (&ops.services, |m| &mut m.services),
        ] {
            for class in &classes.classes {
                pick(entry(&mut modules, &class.module, class.versions)).push(class);
            }
        }
        for m in modules.values_mut() {
            m.types.sort_by(|a, b| a.name.cmp(&b.name));
            for list in [&mut m.params, &mut m.requests, &mut m.replies, &mut m.outcomes, &mut m.methods, &mut m.services] {
                list.sort_by(|a, b| a.name.cmp(&b.name));
            }
        }
        modules
    }

    /// The submodules this module has, with the code of each.
    fn submodules(&self, history: &History, name: &str) -> Vec<(Kind, TokenStream)> {
        let mut out = Vec::new();
        if !self.params.is_empty() {
            out.push((Kind::Params, params::shared_params(history, &self.params)));
        }
        if !self.requests.is_empty() {
            out.push((Kind::Requests, client::shared_requests(history, &self.requests)));
        }
        if !self.outcomes.is_empty() || !self.methods.is_empty() {
            out.push((Kind::Client, client::shared_client(history, &self.outcomes, &self.methods)));
        }
        if !self.requests.is_empty() || !self.replies.is_empty() || !self.services.is_empty() {
            let classes =
                server::ServerClasses { requests: self.requests.clone(), replies: self.replies.clone(), services: self.services.clone() };
            out.push((Kind::Server, server::shared_server(history, name, &classes)));
        }
        let decoders: Vec<&SharedItem> = self.replies.iter().copied().filter(|c| roundtrip::has_decoder(history, c)).collect();
        let request_decoders: Vec<&SharedItem> =
            self.requests.iter().copied().filter(|c| roundtrip::has_request_decoder(history, c)).collect();
        if !decoders.is_empty() || !request_decoders.is_empty() {
            out.push((Kind::Roundtrip, roundtrip::shared_roundtrip(history, &decoders, &request_decoders)));
        }
        out
    }
}

fn entry<'a, 'h>(modules: &'a mut BTreeMap<String, SharedModule<'h>>, name: &str, versions: VersionSet) -> &'a mut SharedModule<'h> {
    let m = modules.entry(name.to_owned()).or_default();
    m.versions = versions;
    m
}

/// Every file of the generated crate.
pub fn emit_crate(history: &History, templates: &Path) -> Result<Vec<Unit>, Diagnostics> {
    let mut units = Vec::new();
    let versions: Vec<_> = history.versions().collect();
    let (Some(first), Some(newest)) = (versions.first(), versions.last()) else {
        return Err(Diagnostic::new("spec/manifest.yaml", "", "no versions to generate").into());
    };
    // Fills the version range into a template.
    let fill = |text: String| {
        text.replace("{{first_version}}", &first.to_string())
            .replace("{{last_version}}", &newest.to_string())
            .replace("{{first_feature}}", &first.ident())
            .replace("{{last_feature}}", &newest.ident())
    };

    let features: String = versions.iter().map(|v| format!("{} = []\n", v.ident())).collect();
    let cargo = fill(read_template(templates, CARGO_TEMPLATE)?)
        .replace("{{default_feature}}", &newest.ident())
        .replace("{{version_features}}", features.trim_end());
    units.push(Unit::Text {
        path: "generated/Cargo.toml".into(),
        // The Rust preamble with `#` comments instead of `//`.
        contents: format!("{}\n{cargo}", format::PREAMBLE.replace("// ", "# ")),
    });

    // The crate docs are also the package's README (crates.io shows it).
    let crate_docs = fill(read_template(templates, CRATE_DOCS_TEMPLATE)?);
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

    let modules = SharedModule::all(history);
    let decls = modules.iter().map(|(name, m)| {
        let gate = feature_gate(m.versions);
        let m = ident(name);
        quote! { #gate pub(crate) mod #m; }
    });
    units.push(Unit::rust(
        "generated/src/shared/mod.rs",
        quote! {
            //! Everything generated once for all the versions in which it is identical: types,
            //! and the operations' parameters, client and server items and decoders. Each module
            //! is named after the versions that use it; the version modules re-export.
            #(#decls)*
        },
    ));
    // Each file on its own, on every core: the modules and versions only read the history.
    let modules: Vec<(String, SharedModule<'_>)> = modules.into_iter().collect();
    units.extend(parallel_map(&modules, |(name, m)| shared_module_units(history, name, m)).into_iter().flatten());
    let specs: Vec<usize> = (0..history.specs.len()).collect();
    units.extend(parallel_map(&specs, |&i| version_units(history, i)).into_iter().flatten());
    Ok(units)
}

/// A shared module's file and its submodules' files.
fn shared_module_units(history: &History, name: &str, m: &SharedModule<'_>) -> Vec<Unit> {
    let mut units = Vec::new();
    let submodules = m.submodules(history, name);
    let decls = submodules.iter().map(|(kind, _)| {
        let gate = kind.feature().map(|f| quote!(#[cfg(feature = #f)]));
        let sub = ident(kind.module());
        quote!(#gate pub(crate) mod #sub;)
    });
    let header = docs::inner(&format!(
        "What is identical in exactly API versions {}: the types below, and in the submodules the operations' parameters, client and server items and decoders.",
        m.versions
    ));
    let header = quote! { #header #(#decls)* };
    units.push(Unit::rust(format!("generated/src/shared/{name}.rs"), models::shared_module(history, name, &m.types, header)));
    for (kind, code) in submodules {
        units.push(Unit::rust(format!("generated/src/shared/{name}/{}.rs", kind.module()), code));
    }
    units
}

/// A version's module files.
fn version_units(history: &History, i: usize) -> Vec<Unit> {
    let mut units = Vec::new();
    let spec = &history.specs[i];
    let v = spec.version.ident();
    let doc = docs::inner(&format!(
        "Docker Engine API v{}: {} operations, {} types.\n\nEnable with the cargo feature `{v}`. What is identical in a newer version is documented once, in the newest version that has it: this version's modules list it under *Re-exports*, with a link.",
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
    units.push(Unit::rust(format!("generated/src/{v}/roundtrip.rs"), roundtrip::version_roundtrip(history, i)));
    units
}
