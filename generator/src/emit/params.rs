//! Emits the parameter structs: one per params class, in `shared/<versions>/params.rs`,
//! re-exported by every version's `params.rs`. The client takes one as an argument and the
//! server hands it to the implementation, so both sides name a parameter the same way, and a
//! struct that did not change between versions is one Rust type in all of them.

use proc_macro2::TokenStream;
use quote::quote;

use super::docs;
use super::models::{availability, ident, Imports, ModelsFrom, TypeRenderer};
use super::operation::{self, reexports, Kind};
use crate::ir::history::operations::SharedItem;
use crate::ir::history::{operation_key, parameter_key};
use crate::ir::{History, Operation, ParamLocation, Parameter, Scalar, TypeExpr};

/// `filters` is JSON on the wire although the spec types it as a string; both sides use the
/// runtime's [`Filters`](moby_api_runtime::filters::Filters), which reads both wire forms.
pub fn is_filters(p: &Parameter) -> bool {
    p.wire_name == "filters" && p.location == ParamLocation::Query && p.ty == TypeExpr::Scalar(Scalar::String)
}

/// The Rust type of a parameter's value (without the `Option` of optional ones); a secret
/// one (registry credentials, build arguments) is a runtime `Secret`, whose `Debug` is
/// redacted.
pub fn param_type(r: &TypeRenderer<'_>, p: &Parameter) -> TokenStream {
    let ty = if is_filters(p) { quote!(moby_api_runtime::filters::Filters) } else { r.render(&p.ty) };
    if p.secret {
        quote!(moby_api_runtime::secret::Secret<#ty>)
    } else {
        ty
    }
}

/// `shared/<module>/params.rs`: the params classes used by exactly that module's versions.
pub fn shared_params(history: &History, classes: &[&SharedItem]) -> TokenStream {
    let imports = Imports::new(ModelsFrom::Shared);
    let structs: Vec<TokenStream> =
        classes.iter().map(|c| params_struct(&TypeRenderer::importing(history, c.spec, &imports), history.operation_of(c))).collect();
    let header = operation::shared_header(classes, "The query and header parameters of the operations whose parameters are", None);
    let uses = imports.tokens();
    quote! {
        #header
        #uses

        #(#structs)*
    }
}

/// `params.rs` of one version: its parameter structs, re-exported from `shared/`.
pub fn version_params(history: &History, spec_index: usize) -> TokenStream {
    let spec = &history.specs[spec_index];
    let header = docs::inner(&format!(
        "The query and header parameters of each operation of Engine API v{}, one struct per operation (`ContainerListParams` for `ContainerList`). The client sends them and the server parses them into the same structs. Every optional parameter is an `Option`; `Default` leaves them all unset, so the engine's defaults apply.",
        spec.version
    ));
    let uses = reexports((0..spec.operations.len()).filter_map(|o| history.ops.params.of(spec_index, o)), Kind::Params, spec.version);
    quote! {
        #header
        #uses
    }
}

fn params_struct(r: &TypeRenderer<'_>, op: &Operation) -> TokenStream {
    let name = ident(&op.rust.params);
    let op_history = r.history.operations.get(&operation_key(op));
    let fields = op.non_path_params().map(|p| {
        // Said only where the parameter's versions differ from its operation's.
        let since = op_history.and_then(|h| h.parameters.get(&parameter_key(p)).and_then(|versions| availability(*versions, h.versions)));
        let field = ident(&p.name);
        let ty = param_type(r, p);
        let ty = if p.required { ty } else { quote!(Option<#ty>) };
        let location = if p.location == ParamLocation::Header { "Header" } else { "Query parameter" };
        let default = p.default.as_ref().map(|d| format!("Defaults to `{d}`."));
        let wire = format!("{location} `{}`.", p.wire_name);
        let doc = docs::outer(&docs::paragraphs([p.description.as_deref(), Some(wire.as_str()), default.as_deref(), since.as_deref()]));
        quote! { #doc pub #field: #ty, }
    });
    let doc = docs::outer(&format!(
        "Query and header parameters of {} ({}): `Client::{}` sends them, the server trait method receives them.",
        super::operation::signature(op),
        op.name,
        op.rust.method
    ));
    quote! {
        #doc
        #[derive(Debug, Clone, Default, PartialEq)]
        pub struct #name {
            #(#fields)*
        }
    }
}
