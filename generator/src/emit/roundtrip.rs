//! Emits the JSON decoders (feature `roundtrip`): decode a JSON response body (or one
//! line of a JSON-lines or progress stream), or a JSON request body, into the typed model
//! and encode it again, by the decoding policy, for proxies that inspect traffic and for
//! conformance tests. One function per reply class and one per request class with a JSON
//! body (in `request`), in `shared/<versions>/roundtrip.rs`; each version's `roundtrip.rs`
//! picks the function by operation id.
//!
//! Every JSON answer an engine sends has a decoder: each status the spec lists with a JSON
//! body (the long poll's document too), and the statuses it does not list: an error status
//! as the daemon's error body, a success status as the operation's one JSON success type
//! when it has exactly one.

use proc_macro2::TokenStream;
use quote::quote;

use super::docs;
use super::models::{ident, Imports, ModelsFrom, TypeRenderer};
use crate::ir::history::operations::{ItemClasses, SharedItem};
use crate::ir::{ContentKind, History, Operation, Response, Status, TypeExpr};

/// The responses of `op` the spec gives a JSON body: a status code and its document (or item).
fn decoded(op: &Operation) -> impl Iterator<Item = (u16, &TypeExpr)> {
    op.responses.iter().filter_map(|resp: &Response| match (resp.status, &resp.ty, resp.content) {
        (
            Status::Code(code),
            Some(ty),
            ContentKind::Json | ContentKind::DeferredJson | ContentKind::JsonLines | ContentKind::JsonProgress,
        ) => Some((code, ty)),
        _ => None,
    })
}

/// Whether the reply class has a decoder: a JSON body the spec lists, or the error body
/// for the statuses it does not.
pub fn has_decoder(history: &History, class: &SharedItem) -> bool {
    let spec = &history.specs[class.spec];
    spec.error_type().is_some() || decoded(history.operation_of(class)).next().is_some()
}

/// The JSON type of `op`'s request body, when it has one.
fn request_body(op: &Operation) -> Option<&TypeExpr> {
    op.request_body.as_ref().filter(|body| body.content == ContentKind::Json).and_then(|body| body.ty.as_ref())
}

/// Whether the request class has a decoder: a JSON request body.
pub fn has_request_decoder(history: &History, class: &SharedItem) -> bool {
    request_body(history.operation_of(class)).is_some()
}

/// `shared/<module>/roundtrip.rs`: one decoder per reply class of its versions that has one,
/// and in `request`, one per request class with a JSON body.
pub fn shared_roundtrip(history: &History, replies: &[&SharedItem], requests: &[&SharedItem]) -> TokenStream {
    let imports = Imports::new(ModelsFrom::Shared);
    let functions: Vec<TokenStream> = replies.iter().map(|class| decoder(history, class, &imports)).collect();
    let request_functions: Vec<TokenStream> = requests.iter().map(|class| request_decoder(history, class, &imports)).collect();
    let request = (!request_functions.is_empty()).then(|| {
        quote! {
            /// The request body decoders of the operations whose requests are identical in
            /// these versions.
            pub mod request {
                use super::*;

                #(#request_functions)*
            }
        }
    });
    let classes: Vec<&SharedItem> = replies.iter().chain(requests).copied().collect();
    let header = super::operation::shared_header(&classes, "The JSON decoders of the operations whose replies or requests are", None);
    let uses = imports.tokens();
    quote! {
        #header
        use moby_api_runtime::json::{roundtrip, Decoded};
        use serde_json::Value;
        #uses

        #(#functions)*
        #request
    }
}

/// The decoder of one request class's JSON body.
fn request_decoder(history: &History, class: &SharedItem, imports: &Imports) -> TokenStream {
    let op = history.operation_of(class);
    let r = TypeRenderer::importing(history, class.spec, imports);
    let ty = request_body(op).map(|ty| r.render(ty));
    let name = ident(&op.rust.method);
    let doc = docs::outer(&format!("`{}`'s request body.", op.name));
    quote! {
        #doc
        pub fn #name(body: &Value) -> Decoded {
            roundtrip::<#ty>(body)
        }
    }
}

/// The decoder of one reply class: the listed statuses by type, then the unlisted ones.
fn decoder(history: &History, class: &SharedItem, imports: &Imports) -> TokenStream {
    let spec = &history.specs[class.spec];
    let r = TypeRenderer::importing(history, class.spec, imports);
    let op = history.operation_of(class);
    let error = spec.error_type().map(TypeExpr::Named);
    let mut success_types: Vec<&TypeExpr> = Vec::new();
    for (code, ty) in decoded(op) {
        if (200..300).contains(&code) && !success_types.contains(&ty) {
            success_types.push(ty);
        }
    }
    let success = match success_types.as_slice() {
        [ty] => Some(*ty),
        _ => None,
    };
    // Listed statuses, one arm per type, leaving out those the ranges below answer alike.
    let mut listed: Vec<(&TypeExpr, Vec<proc_macro2::Literal>)> = Vec::new();
    for (code, ty) in decoded(op) {
        let by_range = ((200..300).contains(&code) && success == Some(ty)) || ((400..600).contains(&code) && error.as_ref() == Some(ty));
        if by_range {
            continue;
        }
        let code = proc_macro2::Literal::u16_unsuffixed(code);
        match listed.iter_mut().find(|(t, _)| *t == ty) {
            Some((_, codes)) => codes.push(code),
            None => listed.push((ty, vec![code])),
        }
    }
    let mut arms: Vec<TokenStream> = listed
        .iter()
        .map(|(ty, codes)| {
            let ty = r.render(ty);
            quote!(#(#codes)|* => Some(roundtrip::<#ty>(body)),)
        })
        .collect();
    if let Some(ty) = success {
        let ty = r.render(ty);
        arms.push(quote!(200..=299 => Some(roundtrip::<#ty>(body)),));
    }
    if let Some(ty) = &error {
        let ty = r.render(ty);
        arms.push(quote!(400..=599 => Some(roundtrip::<#ty>(body)),));
    }
    let name = ident(&op.rust.method);
    let doc = docs::outer(&format!("`{}`: `None` for a status without a JSON body.", op.name));
    quote! {
        #doc
        pub fn #name(status: u16, body: &Value) -> Option<Decoded> {
            match status {
                #(#arms)*
                _ => None,
            }
        }
    }
}

/// The operations of version `spec_index` whose class in `classes` has a decoder: id,
/// class and function name, sorted by id (the tables are searched by binary search).
fn decoders_of<'h>(
    history: &'h History,
    spec_index: usize,
    classes: &'h ItemClasses,
    has: fn(&History, &SharedItem) -> bool,
) -> Vec<(&'h str, &'h SharedItem, &'h str)> {
    let mut decoders: Vec<(&str, &SharedItem, &str)> = history.specs[spec_index]
        .operations
        .iter()
        .enumerate()
        .filter_map(|(o, op)| {
            let class = classes.of(spec_index, o)?;
            has(history, class).then_some((op.id.as_str(), class, op.rust.method.as_str()))
        })
        .collect();
    decoders.sort_by_key(|(id, _, _)| *id);
    decoders
}

/// `roundtrip.rs` of one version: the decoder of each operation, by operation id.
pub fn version_roundtrip(history: &History, spec_index: usize) -> TokenStream {
    let decoders = decoders_of(history, spec_index, &history.ops.replies, has_decoder);
    let requests = decoders_of(history, spec_index, &history.ops.requests, has_request_decoder);
    let modules: std::collections::BTreeSet<&str> =
        decoders.iter().chain(&requests).map(|(_, class, _)| class.module.as_str()).collect();
    let modules = modules.into_iter().map(ident);
    let entries = decoders.iter().map(|(id, class, function)| {
        let (module, function) = (ident(&class.module), ident(function));
        quote!((#id, #module::roundtrip::#function))
    });
    let request_entries = requests.iter().map(|(id, class, function)| {
        let (module, function) = (ident(&class.module), ident(function));
        quote!((#id, #module::roundtrip::request::#function))
    });
    let doc = docs::inner(
        "Decodes a JSON response body (or one line of a JSON-lines or progress stream), or a JSON request body, into this version's typed model and encodes it again, by operation id. For proxies that inspect traffic and for conformance tests.",
    );
    quote! {
        #doc
        use crate::shared::{#(#modules),*};
        use moby_api_runtime::json::Decoded;
        use serde_json::Value;

        /// A decoder: `None` for a status without a JSON body.
        type Decoder = fn(u16, &Value) -> Option<Decoded>;

        /// Every operation with a JSON body, by operation id.
        const DECODERS: &[(&str, Decoder)] = &[#(#entries),*];

        /// `None` when the operation has no JSON body with this status in this version, or
        /// the operation id is not one of this version's.
        pub fn response(operation_id: &str, status: u16, body: &Value) -> Option<Decoded> {
            let found = DECODERS.binary_search_by_key(&operation_id, |(id, _)| id).ok()?;
            (DECODERS[found].1)(status, body)
        }

        /// A request body decoder.
        pub type RequestDecoder = fn(&Value) -> Decoded;

        /// Every operation with a JSON request body, by operation id.
        const REQUEST_DECODERS: &[(&str, RequestDecoder)] = &[#(#request_entries),*];

        /// The decoder of the operation's JSON request body; `None` when it has none in
        /// this version (no body, or not JSON: an archive, a build context), or the
        /// operation id is not one of this version's.
        pub fn request(operation_id: &str) -> Option<RequestDecoder> {
            let found = REQUEST_DECODERS.binary_search_by_key(&operation_id, |(id, _)| id).ok()?;
            Some(REQUEST_DECODERS[found].1)
        }
    }
}
