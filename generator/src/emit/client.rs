//! Emits each version's reqwest client: one async method per operation, a parameter struct
//! for its query and header parameters, typed JSON results (feature `client`).

use proc_macro2::TokenStream;
use quote::{format_ident, quote};

use super::docs;
use super::models::{availability, ident, NamedPath, TypeRenderer};
use crate::ir::history::operation_key;
use crate::ir::naming::field_name;
use crate::ir::{ContentKind, History, Operation, ParamLocation, Parameter, Status, TypeExpr};

/// `client.rs` of one version.
pub fn version_client(history: &History, spec_index: usize) -> TokenStream {
    let spec = &history.specs[spec_index];
    let r = TypeRenderer { history, spec_index, named: NamedPath::VersionModels, uses_map: std::cell::Cell::new(false) };
    let minor = proc_macro2::Literal::u16_unsuffixed(u16::from(spec.version.minor));
    let mut methods = Vec::new();
    let mut params_structs = Vec::new();
    for op in &spec.operations {
        let (method, params) = operation(history, &r, op);
        methods.push(method);
        params_structs.extend(params);
    }
    let map_use = r.uses_map.get().then(|| {
        quote!(
            use std::collections::HashMap;
        )
    });
    let header = docs::inner(&format!(
        "The client of Engine API v{}: one method per operation.\n\nRequests carry the `/vX.Y` prefix; the version is negotiated with the engine on the first request (downgrade only) unless `DOCKER_API_VERSION` pins it. Operations whose body is a stream, a tar archive or a hijacked connection return the raw [`Response`] for now.",
        spec.version
    ));
    quote! {
        #header
        #map_use
        use moby_api_runtime::client::{header, ApiVersion, Error, Method, Request, Response, Transport};

        /// The API version this module was generated from: the most it asks the engine for.
        pub const API_VERSION: ApiVersion = ApiVersion::new(1, #minor);

        /// A Docker Engine client speaking this API version.
        #[derive(Debug, Clone)]
        pub struct Client {
            transport: Transport,
        }

        impl Client {
            pub fn new(transport: Transport) -> Self {
                Client { transport }
            }

            /// Connects like the docker CLI: `DOCKER_HOST`, `DOCKER_TLS_VERIFY`, `DOCKER_CERT_PATH`,
            /// `DOCKER_API_VERSION` and docker contexts.
            pub fn from_env() -> Result<Self, Error> {
                Transport::from_env(API_VERSION).map(Self::new)
            }

            /// The underlying transport (version negotiation, raw requests).
            pub fn transport(&self) -> &Transport {
                &self.transport
            }

            #(#methods)*
        }

        #(#params_structs)*
    }
}

fn params_struct_name(op: &Operation) -> proc_macro2::Ident {
    format_ident!("{}Params", crate::ir::naming::type_name(std::slice::from_ref(&op.id)))
}

fn operation(history: &History, r: &TypeRenderer<'_>, op: &Operation) -> (TokenStream, Option<TokenStream>) {
    let method_name = ident(&field_name(&op.id));
    let http_method = format_ident!("{}", op.method.as_str());
    let path_params: Vec<&Parameter> = op.parameters.iter().filter(|p| p.location == ParamLocation::Path).collect();
    let other_params: Vec<&Parameter> = op.parameters.iter().filter(|p| p.location != ParamLocation::Path).collect();

    // The path, with each `{name}` filled from the argument of that name.
    let mut fmt = String::new();
    let mut fmt_args = Vec::new();
    let mut rest = op.path.as_str();
    while let Some(start) = rest.find('{') {
        let end = rest[start..].find('}').map_or(rest.len(), |e| start + e);
        fmt.push_str(&rest[..start].replace('{', "{{").replace('}', "}}"));
        fmt.push_str("{}");
        let wire = &rest[start + 1..end];
        if let Some(p) = path_params.iter().find(|p| p.wire_name == wire) {
            fmt_args.push(ident(&p.name));
        }
        rest = &rest[(end + 1).min(rest.len())..];
    }
    fmt.push_str(rest);
    let path_args = path_params.iter().map(|p| {
        let name = ident(&p.name);
        quote!(#name: &str)
    });

    let params_name = params_struct_name(op);
    let params_arg = (!other_params.is_empty()).then(|| quote!(params: &#params_name,));
    let apply_params = other_params.iter().map(|p| apply_param(r, p));

    let (body_arg, body_apply) = match &op.request_body {
        Some(b) if b.ty.is_some() && b.content == ContentKind::Json => {
            let ty = r.render(b.ty.as_ref().expect("checked"));
            (Some(quote!(body: &#ty,)), Some(quote!(let request = request.json(body)?;)))
        }
        Some(b) if matches!(b.content, ContentKind::Tar | ContentKind::Binary) => {
            let media = b
                .media_types
                .iter()
                .find(|m| m.as_str() != "application/json")
                .cloned()
                .unwrap_or_else(|| "application/octet-stream".into());
            (
                Some(quote!(body: impl Into<moby_api_runtime::client::Body>,)),
                Some(quote!(let request = request.body(body, header::HeaderValue::from_static(#media));)),
            )
        }
        _ => (None, None),
    };

    let success = op.responses.iter().find(|resp| matches!(resp.status, Status::Code(200..=299)));
    let (ret, finish) = match success {
        Some(resp) if resp.content == ContentKind::Json && resp.ty.is_some() => {
            let ty = r.render(resp.ty.as_ref().expect("checked"));
            (quote!(#ty), quote!(self.transport.send_json(request).await))
        }
        Some(resp) if resp.content == ContentKind::Text => {
            (quote!(String), quote!(self.transport.send(request).await?.text().await.map_err(Error::Transport)))
        }
        Some(resp) if resp.content == ContentKind::Empty => (quote!(()), quote! { self.transport.send(request).await?; Ok(()) }),
        _ => (quote!(Response), quote!(self.transport.send(request).await)),
    };

    let versions = history.operations.get(&operation_key(op)).map(|h| h.versions);
    let since = versions.and_then(|v| availability(v, history.covered()));
    let signature = format!("`{} {}`", op.method.as_str(), op.path);
    let doc =
        docs::outer(&docs::paragraphs([op.summary.as_deref(), Some(signature.as_str()), op.description.as_deref(), since.as_deref()]));
    let deprecated = op.deprecated.then(|| quote!(#[deprecated]));
    let mut_request = (!other_params.is_empty()).then(|| quote!(mut));
    let path = if fmt_args.is_empty() { quote!(#fmt) } else { quote!(format!(#fmt, #(#fmt_args),*)) };
    let method = quote! {
        #doc
        #deprecated
        pub async fn #method_name(&self, #(#path_args,)* #params_arg #body_arg) -> Result<#ret, Error> {
            let #mut_request request = Request::new(Method::#http_method, #path);
            #(#apply_params)*
            #body_apply
            #finish
        }
    };

    let params = (!other_params.is_empty()).then(|| {
        let fields = other_params.iter().map(|p| {
            let name = ident(&p.name);
            let ty = r.render(&p.ty);
            let ty = if p.required { ty } else { quote!(Option<#ty>) };
            let location = if p.location == ParamLocation::Header { "Header" } else { "Query parameter" };
            let default = p.default.as_ref().map(|d| format!("Defaults to `{d}`."));
            let wire = format!("{location} `{}`.", p.wire_name);
            let doc = docs::outer(&docs::paragraphs([p.description.as_deref(), Some(wire.as_str()), default.as_deref()]));
            quote! { #doc pub #name: #ty, }
        });
        let doc = docs::outer(&format!("Query and header parameters of [`Client::{}`].", field_name(&op.id)));
        quote! {
            #doc
            #[derive(Debug, Clone, Default)]
            pub struct #params_name {
                #(#fields)*
            }
        }
    });
    (method, params)
}

/// Adds one query or header parameter to `request`, following Docker's conventions.
fn apply_param(r: &TypeRenderer<'_>, p: &Parameter) -> TokenStream {
    let name = ident(&p.name);
    let wire = &p.wire_name;
    let to_text = |value: TokenStream, ty: &TypeExpr| -> TokenStream {
        match ty {
            TypeExpr::Map(_) | TypeExpr::Any => quote!(serde_json::to_string(#value)?),
            TypeExpr::Named(id) if !matches!(r.history.specs[r.spec_index].ty(*id).kind, crate::ir::TypeKind::Enum { .. }) => {
                quote!(serde_json::to_string(#value)?)
            }
            _ => quote!(#value.to_string()),
        }
    };
    let add = match (&p.ty, p.location) {
        (_, ParamLocation::Header) => {
            let text = to_text(quote!(value), &p.ty);
            quote! { request = request.text_header(#wire, &#text)?; }
        }
        (TypeExpr::Array(item), _) if p.collection_format.as_deref() == Some("multi") => {
            let text = to_text(quote!(item), item);
            quote! { for item in value { request = request.query(#wire, #text); } }
        }
        (TypeExpr::Array(item), _) => {
            let text = to_text(quote!(item), item);
            quote! { request = request.query(#wire, value.iter().map(|item| #text).collect::<Vec<_>>().join(",")); }
        }
        (ty, _) => {
            let text = to_text(quote!(value), ty);
            quote! { request = request.query(#wire, #text); }
        }
    };
    if p.required {
        quote! { { let value = &params.#name; #add } }
    } else {
        quote! { if let Some(value) = &params.#name { #add } }
    }
}
