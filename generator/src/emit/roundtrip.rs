//! Emits the response decoders (feature `roundtrip`): decode a JSON response body (or one
//! line of a JSON-lines or progress stream) into the typed model and encode it again, for
//! proxies that inspect traffic and for conformance tests. One function per reply class
//! that has a JSON body, in `shared/<versions>/roundtrip.rs`; each version's `roundtrip.rs`
//! picks the function by operation id.

use proc_macro2::TokenStream;
use quote::quote;

use super::docs;
use super::models::{ident, Imports, ModelsFrom, TypeRenderer};
use crate::ir::history::operations::SharedItem;
use crate::ir::{ContentKind, History, Operation, Response, Status};

/// The responses of `op` that the decoders handle: a status code and a JSON document or items.
fn decoded(op: &Operation) -> impl Iterator<Item = (u16, &Response)> {
    op.responses.iter().filter_map(|resp| match (resp.status, &resp.ty, resp.content) {
        (Status::Code(code), Some(_), ContentKind::Json | ContentKind::JsonLines | ContentKind::JsonProgress) => Some((code, resp)),
        _ => None,
    })
}

/// Whether the reply class has a decoder.
pub fn has_decoder(history: &History, class: &SharedItem) -> bool {
    decoded(&history.specs[class.spec].operations[class.op]).next().is_some()
}

/// `shared/<module>/roundtrip.rs`: one decoder per reply class of its versions that has one.
pub fn shared_roundtrip(history: &History, replies: &[&SharedItem]) -> TokenStream {
    let imports = Imports::new(ModelsFrom::Shared);
    let functions: Vec<TokenStream> = replies
        .iter()
        .map(|class| {
            let r = TypeRenderer::importing(history, class.spec, &imports);
            let op = &history.specs[class.spec].operations[class.op];
            let name = ident(&op.rust.method);
            // One arm per type, with every status that carries it.
            let mut by_type: Vec<(String, TokenStream, Vec<proc_macro2::Literal>)> = Vec::new();
            for (code, resp) in decoded(op) {
                let ty = r.render(resp.ty.as_ref().expect("decoded responses have a type"));
                let code = proc_macro2::Literal::u16_unsuffixed(code);
                match by_type.iter_mut().find(|(key, _, _)| *key == ty.to_string()) {
                    Some((_, _, codes)) => codes.push(code),
                    None => by_type.push((ty.to_string(), ty, vec![code])),
                }
            }
            let arms = by_type.iter().map(|(_, ty, codes)| quote!(#(#codes)|* => Some(roundtrip::<#ty>(body)),));
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
        })
        .collect();
    let versions = replies.first().map(|c| c.versions.to_string()).unwrap_or_default();
    let header =
        docs::inner(&format!("The response decoders of the operations whose replies are identical in exactly API versions {versions}."));
    let uses = imports.tokens();
    quote! {
        #header
        use moby_api_runtime::json::{roundtrip, Decoded};
        use serde_json::Value;
        #uses

        #(#functions)*
    }
}

/// `roundtrip.rs` of one version: the decoder of each operation, by operation id.
pub fn version_roundtrip(history: &History, spec_index: usize) -> TokenStream {
    let spec = &history.specs[spec_index];
    let mut decoders: Vec<(&str, &SharedItem, &str)> = spec
        .operations
        .iter()
        .enumerate()
        .filter_map(|(o, op)| {
            let class = history.ops.replies.of(spec_index, o)?;
            has_decoder(history, class).then_some((op.id.as_str(), class, op.rust.method.as_str()))
        })
        .collect();
    // Sorted by id: `response` looks them up by binary search.
    decoders.sort_by_key(|(id, _, _)| *id);
    let modules: std::collections::BTreeSet<&str> = decoders.iter().map(|(_, class, _)| class.module.as_str()).collect();
    let modules = modules.into_iter().map(ident);
    let entries = decoders.iter().map(|(id, class, function)| {
        let (module, function) = (ident(&class.module), ident(function));
        quote!((#id, #module::roundtrip::#function))
    });
    let doc = docs::inner(
        "Decodes a JSON response body (or one line of a JSON-lines or progress stream) into this version's typed model and encodes it again, by operation id and status. For proxies that inspect traffic and for conformance tests.",
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

        /// `None` when the operation and status have no JSON body in this version.
        pub fn response(operation_id: &str, status: u16, body: &Value) -> Option<Decoded> {
            let found = DECODERS.binary_search_by_key(&operation_id, |(id, _)| id).ok()?;
            (DECODERS[found].1)(status, body)
        }
    }
}
