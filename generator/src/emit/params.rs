//! Emits each version's `params.rs`: one struct per operation holding its query and header
//! parameters. The client takes it as an argument and the server hands it to the
//! implementation, so both sides name a parameter the same way.

use proc_macro2::TokenStream;
use quote::{format_ident, quote};

use super::docs;
use super::models::{availability, ident, map_import, NamedPath, TypeRenderer};
use crate::ir::history::{operation_key, parameter_key};
use crate::ir::naming::field_name;
use crate::ir::{History, Operation, ParamLocation, Parameter, Scalar, TypeExpr};

/// The name of an operation's parameter struct: `ContainerListParams`.
pub fn params_struct_name(op: &Operation) -> proc_macro2::Ident {
    format_ident!("{}Params", crate::ir::naming::type_name(std::slice::from_ref(&op.name)))
}

/// The query and header parameters of `op`, in spec order.
pub fn non_path_params(op: &Operation) -> Vec<&Parameter> {
    op.parameters.iter().filter(|p| p.location != ParamLocation::Path).collect()
}

/// The operation's path parameters, in spec order.
pub fn path_params(op: &Operation) -> Vec<&Parameter> {
    op.parameters.iter().filter(|p| p.location == ParamLocation::Path).collect()
}

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

/// `params.rs` of one version.
pub fn version_params(history: &History, spec_index: usize) -> TokenStream {
    let spec = &history.specs[spec_index];
    let r = TypeRenderer { history, spec_index, named: NamedPath::VersionModels, uses_map: std::cell::Cell::new(false) };
    let structs: Vec<TokenStream> = spec.operations.iter().filter_map(|op| params_struct(&r, op)).collect();
    let map_use = map_import(r.uses_map.get());
    let header = docs::inner(&format!(
        "The query and header parameters of each operation of Engine API v{}, one struct per operation (`ContainerListParams` for `ContainerList`). The client sends them and the server parses them into the same structs. Every optional parameter is an `Option`; `Default` leaves them all unset, so the engine's defaults apply.",
        spec.version
    ));
    quote! {
        #header
        #map_use

        #(#structs)*
    }
}

fn params_struct(r: &TypeRenderer<'_>, op: &Operation) -> Option<TokenStream> {
    let params = non_path_params(op);
    if params.is_empty() {
        return None;
    }
    let name = params_struct_name(op);
    let op_history = r.history.operations.get(&operation_key(op));
    let fields = params.iter().map(|p| {
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
        op.id,
        field_name(&op.name)
    ));
    Some(quote! {
        #doc
        #[derive(Debug, Clone, Default, PartialEq)]
        pub struct #name {
            #(#fields)*
        }
    })
}
