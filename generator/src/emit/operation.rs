//! Pieces both the client and the server emitters need for an operation: the name of a
//! status (reply variants, outcome enums, `StatusCode` constants), the rustdoc of its
//! methods and the runtime imports a generated module actually uses.

use std::collections::BTreeSet;

use heck::ToShoutySnakeCase;
use proc_macro2::{TokenStream, TokenTree};
use quote::{format_ident, quote};

use super::docs;
use super::models::{availability, ident};
use crate::ir::history::operation_key;
use crate::ir::{History, Operation};

/// The variant name of a status code, after its reason phrase (`NotModified` for 304).
pub fn status_variant_name(code: u16) -> String {
    match code {
        101 => "SwitchingProtocols".into(),
        200 => "Ok".into(),
        201 => "Created".into(),
        202 => "Accepted".into(),
        204 => "NoContent".into(),
        206 => "PartialContent".into(),
        301 => "MovedPermanently".into(),
        302 => "Found".into(),
        304 => "NotModified".into(),
        400 => "BadRequest".into(),
        401 => "Unauthorized".into(),
        403 => "Forbidden".into(),
        404 => "NotFound".into(),
        406 => "NotAcceptable".into(),
        409 => "Conflict".into(),
        413 => "PayloadTooLarge".into(),
        500 => "InternalServerError".into(),
        501 => "NotImplemented".into(),
        503 => "ServiceUnavailable".into(),
        other => format!("Status{other}"),
    }
}

/// How the docs name an operation: `` `GET /containers/json` ``.
pub fn signature(op: &Operation) -> String {
    format!("`{} {}`", op.method.as_str(), op.path)
}

/// The rustdoc of an operation's client method and server trait method: summary,
/// signature, description, the versions that have it, and what a renamed one is called in
/// this version's spec.
pub fn method_doc(op: &Operation, history: &History) -> TokenStream {
    let versions = history.operations.get(&operation_key(op)).map(|h| h.versions);
    let since = versions.and_then(|v| availability(v, history.covered()));
    docs::outer(&docs::paragraphs([
        op.summary.as_deref(),
        Some(signature(op).as_str()),
        op.description.as_deref(),
        since.as_deref(),
        renamed_note(op).as_deref(),
    ]))
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
    let module = ident(module);
    let names = used.iter().map(|n| ident(n));
    quote!(use moby_api_runtime::#module::{#(#names),*};)
}

fn collect_idents(tokens: TokenStream, f: &mut impl FnMut(&str)) {
    for tree in tokens {
        match tree {
            TokenTree::Ident(i) => f(&i.to_string()),
            TokenTree::Group(g) => collect_idents(g.stream(), f),
            _ => {}
        }
    }
}
