//! Pieces every operation emitter needs: where a shared item lives and how a version
//! re-exports it, the `StatusCode` of a status, the rustdoc of an operation's methods and
//! the runtime imports a generated module actually uses.

use std::collections::BTreeSet;

use heck::ToShoutySnakeCase;
use proc_macro2::{TokenStream, TokenTree};
use quote::{format_ident, quote};

use super::docs;
use super::models::{availability, ident};
use crate::ir::history::operation_key;
use crate::ir::history::operations::SharedItem;
use crate::ir::naming::status_variant_name;
use crate::ir::{History, Operation};
use crate::version::{ApiVersion, VersionSet};

/// The file of a `shared/<versions>/` module an operation item is emitted in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Kind {
    /// `params.rs`: parameter structs (always compiled).
    Params,
    /// `requests.rs`: the client's request builders (feature `client`).
    Requests,
    /// `client.rs`: the client's outcome enums and methods (feature `client`).
    Client,
    /// `server.rs`: request and reply types, traits (feature `server`).
    Server,
    /// `roundtrip.rs`: response and request body decoders (feature `roundtrip`).
    Roundtrip,
}

impl Kind {
    /// The submodule's name, which is also its file's.
    pub fn module(self) -> &'static str {
        match self {
            Kind::Params => "params",
            Kind::Requests => "requests",
            Kind::Client => "client",
            Kind::Server => "server",
            Kind::Roundtrip => "roundtrip",
        }
    }

    /// The cargo feature besides the versions' that the submodule needs.
    pub fn feature(self) -> Option<&'static str> {
        match self {
            Kind::Params => None,
            Kind::Requests | Kind::Client => Some("client"),
            Kind::Server => Some("server"),
            Kind::Roundtrip => Some("roundtrip"),
        }
    }

    /// `crate::shared::<module>::<kind>`, the path of an item of `module` in this file.
    pub fn path(self, module: &str) -> String {
        format!("crate::shared::{module}::{}", self.module())
    }
}

/// How version `version` re-exports its items of one kind: `pub use
/// crate::shared::{<module>::<kind>::*, …};` over the module of each of `items`. A module of
/// `shared/` holds exactly the items used by its versions, so its items of that kind are all
/// this version's, and together they are every one of them.
pub fn reexports<'a>(items: impl IntoIterator<Item = &'a SharedItem>, kind: Kind, version: ApiVersion) -> TokenStream {
    let modules: BTreeSet<(&str, VersionSet)> = items.into_iter().map(|item| (item.module.as_str(), item.versions)).collect();
    grouped_reexports(
        modules.into_iter().map(|(module, versions)| {
            let tree: TokenStream = format!("{module}::{}::*", kind.module()).parse().expect("module paths are built from identifiers");
            (versions, tree)
        }),
        version,
    )
}

/// `pub use crate::shared::{…};` of `trees` (paths under `crate::shared`, each with the
/// versions its items are identical in): one use of what is documented here, one
/// `#[doc(no_inline)]` use of what is documented in a newer version.
pub fn grouped_reexports(trees: impl IntoIterator<Item = (VersionSet, TokenStream)>, version: ApiVersion) -> TokenStream {
    let (mut here, mut newer) = (Vec::new(), Vec::new());
    for (versions, tree) in trees {
        match documented_here(versions, version) {
            None => here.push(tree),
            Some(_) => newer.push(tree),
        }
    }
    let here = (!here.is_empty()).then(|| quote!(pub use crate::shared::{ #(#here),* };));
    let newer = (!newer.is_empty()).then(|| quote!(#[doc(no_inline)] pub use crate::shared::{ #(#newer),* };));
    quote!(#here #newer)
}

/// Rustdoc documents what a version re-exports in the newest version that has it, once; an
/// older version lists the re-export with a link there (`#[doc(no_inline)]`), as the code
/// is shared. `None` where `version` is that newest one.
pub fn documented_here(versions: VersionSet, version: ApiVersion) -> Option<TokenStream> {
    (versions.last() != Some(version)).then(|| quote!(#[doc(no_inline)]))
}

/// The inner rustdoc of a file of `shared/<versions>/`: what its items are (`what`), then
/// "identical in exactly API versions 1.24–1.41", and `more` as a paragraph of its own.
pub fn shared_header(classes: &[&SharedItem], what: &str, more: Option<&str>) -> TokenStream {
    let versions = classes.first().map(|c| c.versions.to_string()).unwrap_or_default();
    docs::inner(&docs::paragraphs([Some(format!("{what} identical in exactly API versions {versions}.").as_str()), more]))
}

/// How the docs name an operation: `` `GET /containers/json` ``.
pub fn signature(op: &Operation) -> String {
    format!("`{} {}`", op.method.as_str(), op.path)
}

/// The full rustdoc of an operation, on the items emitted once per class that describe it
/// (the client's request builder, the server's request): summary, signature, description,
/// and the versions that have it.
pub fn operation_doc(op: &Operation, history: &History) -> TokenStream {
    docs::outer(&docs::paragraphs([
        op.summary.as_deref(),
        Some(signature(op).as_str()),
        op.description.as_deref(),
        since(op, history).as_deref(),
    ]))
}

/// The short rustdoc of a method that answers an operation (the client's method, the server
/// trait's): summary and signature with a link to the full description (`see`), the
/// versions that have it, and what a renamed one is called in this version's spec.
pub fn method_doc(op: &Operation, history: &History, see: &str) -> TokenStream {
    let summary = match op.summary.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        Some(summary) => format!("{}: {} ({see}).", summary.trim_end_matches('.'), signature(op)),
        None => format!("{} ({see}).", signature(op)),
    };
    docs::outer(&docs::paragraphs([Some(summary.as_str()), since(op, history).as_deref(), renamed_note(op).as_deref()]))
}

/// The rustdoc of the variant of a status: `Status 404: no such container`.
pub fn status_doc(code: u16, description: Option<&str>, more: Option<&str>) -> TokenStream {
    let first = match description.map(str::trim).filter(|d| !d.is_empty()) {
        Some(d) => format!("Status {code}: {d}"),
        None => format!("Status {code}."),
    };
    docs::outer(&docs::paragraphs([Some(first.as_str()), more]))
}

/// "Since API 1.40." for an operation that not every version has.
fn since(op: &Operation, history: &History) -> Option<String> {
    let versions = history.operations.get(&operation_key(op)).map(|h| h.versions);
    versions.and_then(|v| availability(v, history.covered()))
}

/// Said in the rustdoc of an operation whose Rust name is not this version's `operationId`.
pub fn renamed_note(op: &Operation) -> Option<String> {
    (op.name != op.id)
        .then(|| format!("This version's specification calls the operation `{}`; the name here is the one later versions use.", op.id))
}

/// The `StatusCode` constant of a status: the reason phrase in `http`'s spelling
/// (`StatusCode::NOT_MODIFIED`), or `from_u16` for a code without a named phrase.
pub fn status_const(code: u16) -> TokenStream {
    let name = status_variant_name(code);
    if name.starts_with("Status") {
        let code = proc_macro2::Literal::u16_unsuffixed(code);
        return quote!(StatusCode::from_u16(#code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR));
    }
    let name = format_ident!("{}", name.to_shouty_snake_case());
    quote!(StatusCode::#name)
}

/// `use moby_api_runtime::<module>::{…}` with `always` and those of `candidates` that
/// `items` mention, so a generated module has no unused imports in any version.
pub fn runtime_imports(module: &str, always: &[&'static str], candidates: &[&'static str], items: &[TokenStream]) -> TokenStream {
    let mut used: BTreeSet<&str> = always.iter().copied().collect();
    for item in items {
        collect_idents(item.clone(), &mut |name| {
            if let Some(n) = candidates.iter().find(|n| **n == name) {
                used.insert(n);
            }
        });
    }
    if used.is_empty() {
        return TokenStream::new();
    }
    let module = ident(module);
    let names = used.iter().map(|n| ident(n));
    quote!(use moby_api_runtime::#module::{#(#names),*};)
}

/// Calls `f` with every identifier that starts a path (`Error` in `Error::Transport`, not
/// `Transport`): the names a `use` must bring into scope.
fn collect_idents(tokens: TokenStream, f: &mut impl FnMut(&str)) {
    // Colons just before the current token: two mean it continues a path.
    let mut colons = 0;
    for tree in tokens {
        let next = match &tree {
            TokenTree::Punct(p) if p.as_char() == ':' => colons + 1,
            _ => 0,
        };
        match tree {
            TokenTree::Ident(i) if colons < 2 => f(&i.to_string()),
            TokenTree::Group(g) => collect_idents(g.stream(), f),
            _ => {}
        }
        colons = next;
    }
}
