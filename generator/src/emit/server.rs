//! Emits each version's axum server side (feature `server`): per operation a request struct
//! and a reply enum (one variant per status the spec names), one trait per tag with a
//! default method per operation (501), the handlers that parse a request with Docker's
//! conventions, and `routes`/`router` for the runtime's dispatcher.

use std::collections::BTreeMap;

use proc_macro2::TokenStream;
use quote::{format_ident, quote};

use super::docs;
use super::models::{ident, map_import, NamedPath, TypeRenderer};
use super::operation::{self, status_const, status_variant_name};
use super::params::{is_filters, non_path_params, params_struct_name, path_params};
use crate::ir::naming::{field_name, type_name};
use crate::ir::{ContentKind, History, Operation, ParamLocation, Parameter, Response, Scalar, Status, TypeExpr, TypeKind};

/// Boolean query parameters the daemon parses strictly (`strconv.ParseBool`), answering 400
/// on anything else; all others are lenient (`""`, `0`, `no`, `false`, `none` are false).
const STRICT_BOOLEANS: &[&str] =
    &["verbose", "rotateWorkerToken", "rotateManagerToken", "rotateManagerUnlockKey", "status", "insertDefaults"];

/// `server.rs` of one version.
pub fn version_server(history: &History, spec_index: usize) -> TokenStream {
    let spec = &history.specs[spec_index];
    let r = TypeRenderer { history, spec_index, named: NamedPath::VersionModels, uses_map: std::cell::Cell::new(false) };

    let mut by_tag: BTreeMap<String, Vec<&Operation>> = BTreeMap::new();
    for op in &spec.operations {
        by_tag.entry(op.tag.clone().unwrap_or_else(|| "Other".into())).or_default().push(op);
    }
    let mut items = Vec::new();
    let mut traits = Vec::new();
    let mut routes = Vec::new();
    let mut trait_names = Vec::new();
    for (tag, ops) in &by_tag {
        let trait_name = format_ident!("{}Api", type_name(std::slice::from_ref(tag)));
        let mut methods = Vec::new();
        for op in ops {
            let parts = operation(history, &r, op, &trait_name);
            items.push(parts.types);
            methods.push(parts.trait_method);
            items.push(parts.handler);
            routes.push(parts.route);
        }
        let doc = docs::outer(&format!(
            "The operations tagged `{tag}`. Every method has a default that answers 501 with Docker's error body, so an implementation overrides only what it serves."
        ));
        traits.push(quote! {
            #doc
            pub trait #trait_name: Send + Sync + 'static {
                #(#methods)*
            }
        });
        trait_names.push(trait_name);
    }

    let map_use = map_import(r.uses_map.get());
    let body: Vec<TokenStream> = traits.iter().chain(items.iter()).cloned().collect();
    let runtime_use = operation::runtime_imports(
        "server",
        &["ApiError", "BoxFuture", "Context", "Incoming", "Method", "Response", "Route", "ServerConfig"],
        &[
            "ApiError",
            "BoxFuture",
            "Context",
            "Deferred",
            "Hijack",
            "Incoming",
            "Method",
            "RequestBody",
            "Response",
            "Route",
            "ServerConfig",
            "StatusCode",
            "StreamBody",
            "respond",
        ],
        &body,
    );
    let header = docs::inner(&format!(
        "The server side of Engine API v{version}: implement the traits of the tags you serve on one type, then mount it with [`router`].\n\nEach operation has a request struct (path, query, header and body parameters, parsed with Docker's conventions) and a reply enum with one variant per status the spec names; errors that the spec does not name are `Err(ApiError)`. The dispatcher of `moby_api_runtime::server` routes `/v{{X.Y}}/…` and unversioned paths like the daemon, answers 400 for versions outside the configured range and 404 for unknown paths, and matches names that contain `/` greedily.",
        version = spec.version
    ));
    quote! {
        #header
        #map_use
        use std::future::Future;
        use std::sync::Arc;

        #runtime_use
        use moby_api_runtime::server::axum::response::IntoResponse;

        use super::API_VERSION;

        /// Every tag's trait: what [`router`] needs. Implemented for every type that implements them all.
        pub trait Api: #(#trait_names)+* {}

        impl<T: #(#trait_names)+*> Api for T {}

        /// Serves every operation of this version on `service`, presenting itself as API
        /// [`API_VERSION`] (the oldest version accepted is 1.24).
        pub fn router<S: Api>(service: S) -> moby_api_runtime::server::axum::Router {
            router_with(service, ServerConfig::new(API_VERSION))
        }

        /// [`router`] with an explicit configuration (version range, `/_ping` headers, limits).
        pub fn router_with<S: Api>(service: S, config: ServerConfig) -> moby_api_runtime::server::axum::Router {
            moby_api_runtime::server::router(Arc::new(service), routes::<S>(), config)
        }

        /// Every operation of this version as a route of the runtime's dispatcher.
        pub fn routes<S: Api>() -> Vec<Route<S>> {
            Vec::from([#(#routes),*])
        }

        #(#body)*
    }
}

struct OperationParts {
    types: TokenStream,
    trait_method: TokenStream,
    handler: TokenStream,
    route: TokenStream,
}

fn operation(history: &History, r: &TypeRenderer<'_>, op: &Operation, trait_name: &proc_macro2::Ident) -> OperationParts {
    let base = type_name(std::slice::from_ref(&op.name));
    let request_name = format_ident!("{base}Request");
    let reply_name = format_ident!("{base}Reply");
    let method_name = ident(&field_name(&op.name));
    let handler_name = format_ident!("handle_{}", field_name(&op.name).trim_start_matches("r#"));
    let op_id = &op.name;
    let http_method = format_ident!("{}", op.method.as_str());
    let path = &op.path;
    let signature = operation::signature(op);

    // The request struct and how the handler fills it.
    let mut fields = Vec::new();
    let mut parse = Vec::new();
    for p in path_params(op) {
        let name = ident(&p.name);
        let wire = &p.wire_name;
        let doc = docs::outer(&docs::paragraphs([p.description.as_deref(), Some(&format!("Path parameter `{wire}`."))]));
        fields.push(quote!(#doc pub #name: String,));
        parse.push(quote!(#name: incoming.path(#wire)?,));
    }
    let params = non_path_params(op);
    if !params.is_empty() {
        let params_name = params_struct_name(op);
        let values = params.iter().map(|p| {
            let name = ident(&p.name);
            let value = extract_param(r, p);
            quote!(#name: #value,)
        });
        fields.push(quote! {
            /// The query and header parameters.
            pub params: super::params::#params_name,
        });
        parse.push(quote!(params: super::params::#params_name { #(#values)* },));
    }
    let mut streaming_request = false;
    if let Some(body) = &op.request_body {
        let doc = docs::outer(&docs::paragraphs([body.description.as_deref(), Some("The request body.")]));
        match (body.content, &body.ty) {
            (ContentKind::Json, ty) => {
                let ty = ty.as_ref().map_or_else(|| quote!(serde_json::Value), |t| r.render(t));
                if body.required {
                    fields.push(quote!(#doc pub body: #ty,));
                    parse.push(quote!(body: incoming.json_body().await?,));
                } else {
                    fields.push(quote!(#doc pub body: Option<#ty>,));
                    parse.push(quote!(body: incoming.json_body_opt().await?,));
                }
            }
            _ => {
                streaming_request = true;
                fields.push(quote!(#doc pub body: RequestBody,));
                parse.push(quote!(body: incoming.body(),));
            }
        }
    }
    let request_doc = docs::outer(&format!("The request of [`{trait_name}::{}`]: {signature}.", field_name(&op.name)));
    let request_derive = if streaming_request { quote!() } else { quote!(#[derive(Debug, Clone, PartialEq)]) };
    let unused_incoming = parse.is_empty().then(|| quote!(let _ = incoming;));

    // The reply enum: one variant per status code.
    let mut variants = Vec::new();
    let mut arms = Vec::new();
    let mut from_impl = None;
    let mut default_success = None;
    for resp in &op.responses {
        let Status::Code(code) = resp.status else { continue };
        let variant = format_ident!("{}", status_variant_name(code));
        let status = status_const(code);
        let body_doc = stream_doc(r, resp);
        let doc = docs::outer(&docs::paragraphs([resp.description.as_deref(), body_doc.as_deref(), Some(&format!("Status {code}."))]));
        let (payload, render) = reply_payload(r, resp, &status);
        let headers: Vec<(proc_macro2::Ident, String, Option<String>)> =
            resp.headers.iter().map(|h| (ident(&field_name(&h.name)), h.name.clone(), h.description.clone())).collect();
        if headers.is_empty() {
            match &payload {
                Some(ty) => {
                    variants.push(quote!(#doc #variant(#ty),));
                    arms.push(quote!(#reply_name::#variant(body) => #render,));
                    if from_impl.is_none() && (200..300).contains(&code) && resp.content != ContentKind::Upgrade {
                        from_impl = Some(quote! {
                            impl From<#ty> for #reply_name {
                                fn from(body: #ty) -> Self {
                                    #reply_name::#variant(body)
                                }
                            }
                        });
                    }
                }
                None => {
                    variants.push(quote!(#doc #variant,));
                    arms.push(quote!(#reply_name::#variant => #render,));
                }
            }
        } else {
            let header_fields = headers.iter().map(|(name, wire, description)| {
                let doc = docs::outer(&docs::paragraphs([description.as_deref(), Some(&format!("Header `{wire}`."))]));
                quote!(#doc #name: Option<String>,)
            });
            let header_names = headers.iter().map(|(name, _, _)| name);
            let set_headers = headers.iter().map(|(name, wire, _)| {
                quote! {
                    if let Some(value) = #name {
                        response = respond::with_header(response, #wire, &value);
                    }
                }
            });
            let body_field = payload.as_ref().map(|ty| quote!(body: #ty,));
            let body_bind = payload.as_ref().map(|_| quote!(body,));
            variants.push(quote!(#doc #variant { #body_field #(#header_fields)* },));
            arms.push(quote! {
                #reply_name::#variant { #body_bind #(#header_names),* } => {
                    let mut response = #render;
                    #(#set_headers)*
                    response
                }
            });
            if default_success.is_none() && (200..300).contains(&code) {
                let nones = headers.iter().map(|(name, _, _)| quote!(#name: None,));
                let body_value = payload.as_ref().map(|_| quote!(body: "OK".to_owned(),));
                default_success = Some(quote!(#reply_name::#variant { #body_value #(#nones)* }));
            }
        }
        if default_success.is_none() && (200..300).contains(&code) {
            default_success = Some(match (&payload, resp.content) {
                (None, _) => quote!(#reply_name::#variant),
                (Some(_), ContentKind::Text) => quote!(#reply_name::#variant("OK".to_owned())),
                _ => quote!(),
            });
        }
    }
    let reply_doc = docs::outer(&format!(
        "The replies of [`{trait_name}::{}`], one per status the spec names; any other error is an `Err(ApiError)`.",
        field_name(&op.name)
    ));
    let uses_incoming = arms.iter().any(|a| a.to_string().contains("incoming"));
    let incoming_param = if uses_incoming { quote!(incoming: &mut Incoming) } else { quote!(_incoming: &mut Incoming) };
    let types = quote! {
        #request_doc
        #request_derive
        pub struct #request_name {
            #(#fields)*
        }

        impl #request_name {
            async fn parse(incoming: &mut Incoming) -> Result<Self, ApiError> {
                #unused_incoming
                Ok(#request_name { #(#parse)* })
            }
        }

        #reply_doc
        // A reply is built once and moved straight into the response: boxing the large
        // success payloads would cost an allocation per request and ergonomics for nothing.
        #[allow(clippy::large_enum_variant)]
        pub enum #reply_name {
            #(#variants)*
        }

        #from_impl

        impl #reply_name {
            fn into_response(self, #incoming_param) -> Response {
                match self {
                    #(#arms)*
                }
            }
        }
    };

    // The trait method, with the operation's docs and availability.
    let doc = operation::method_doc(op, history);
    let deprecated = op.deprecated.then(|| quote!(#[deprecated]));
    let is_ping = op.id == "SystemPing" || op.id == "SystemPingHead";
    let default_body = match (&default_success, is_ping) {
        (Some(reply), true) if !reply.is_empty() => {
            quote! {
                let _ = (context, request);
                std::future::ready(Ok(#reply))
            }
        }
        _ => quote! {
            let _ = (context, request);
            std::future::ready(Err(ApiError::not_implemented(#op_id)))
        },
    };
    let default_doc = if is_ping { "The default answers `OK`." } else { "The default answers 501 Not Implemented." };
    let trait_method = quote! {
        #doc
        ///
        #[doc = #default_doc]
        #deprecated
        fn #method_name(&self, context: &Context, request: #request_name) -> impl Future<Output = Result<#reply_name, ApiError>> + Send {
            #default_body
        }
    };

    let allow_deprecated = op.deprecated.then(|| quote!(#[allow(deprecated)]));
    let handler = quote! {
        #allow_deprecated
        fn #handler_name<S: #trait_name>(service: Arc<S>, mut incoming: Incoming) -> BoxFuture<Response> {
            Box::pin(async move {
                let request = match #request_name::parse(&mut incoming).await {
                    Ok(request) => request,
                    Err(error) => return error.into_response(),
                };
                // The context is borrowed, not cloned: no copy of the headers per request.
                let reply = service.#method_name(incoming.context(), request).await;
                match reply {
                    Ok(reply) => reply.into_response(&mut incoming),
                    Err(error) => error.into_response(),
                }
            })
        }
    };
    let route = quote!(Route { method: Method::#http_method, path: #path, operation: #op_id, handler: #handler_name::<S> });
    OperationParts { types, trait_method, handler, route }
}

/// The payload type of a reply variant, and the expression that turns `body` into a response.
fn reply_payload(r: &TypeRenderer<'_>, resp: &Response, status: &TokenStream) -> (Option<TokenStream>, TokenStream) {
    match resp.content {
        // 304 carries no body, whatever the spec's schema says (1.25–1.38 give it an error schema).
        _ if resp.status == Status::Code(304) => (None, quote!(respond::empty(#status))),
        ContentKind::Empty => (None, quote!(respond::empty(#status))),
        ContentKind::Json => {
            let ty = resp.ty.as_ref().map_or_else(|| quote!(serde_json::Value), |t| r.render(t));
            (Some(ty), quote!(respond::json(#status, &body)))
        }
        ContentKind::DeferredJson => {
            let ty = resp.ty.as_ref().map_or_else(|| quote!(serde_json::Value), |t| r.render(t));
            (Some(quote!(Deferred<#ty>)), quote!(respond::deferred(#status, body)))
        }
        ContentKind::Text => (Some(quote!(String)), quote!(respond::text(#status, body))),
        ContentKind::Upgrade => (Some(quote!(Hijack)), quote!(respond::hijack(incoming, body))),
        ContentKind::JsonLines | ContentKind::JsonProgress | ContentKind::Multiplexed | ContentKind::Tar | ContentKind::Binary => {
            (Some(quote!(StreamBody)), quote!(respond::stream(#status, body, incoming.context())))
        }
    }
}

/// For a streamed reply, what its body carries and the `StreamBody` constructor that makes
/// it: the payload type alone (`StreamBody`) does not say.
fn stream_doc(r: &TypeRenderer<'_>, resp: &Response) -> Option<String> {
    // A named item type becomes a link; anything else (a map, `serde_json::Value`) is code.
    let item = || {
        let ty = resp.ty.as_ref()?;
        let path = r.render(ty).to_string().replace(' ', "");
        let simple = path.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':');
        let name = path.rsplit("::").next().unwrap_or(&path).to_owned();
        Some(if simple { format!("[`{name}`]({path})") } else { format!("`{path}`") })
    };
    let each = || item().map_or_else(String::new, |item| format!(", each a {item}"));
    Some(match resp.content {
        ContentKind::JsonLines => format!("The body: one JSON document per line{} ([`StreamBody::json_lines`]).", each()),
        ContentKind::JsonProgress => {
            format!("The body: progress messages, one JSON document per line{} ([`StreamBody::progress`]).", each())
        }
        ContentKind::Multiplexed => "The body: the container's output, as stdout/stderr frames ([`StreamBody::frames`]) or raw for a \
             TTY ([`StreamBody::raw`])."
            .to_owned(),
        ContentKind::Tar => "The body: a tar archive ([`StreamBody::tar`], [`StreamBody::tar_reader`]).".to_owned(),
        ContentKind::Binary => "The body: bytes of the operation's media type ([`StreamBody::bytes`]).".to_owned(),
        _ => return None,
    })
}

/// The expression that reads one query or header parameter from `incoming`.
fn extract_param(r: &TypeRenderer<'_>, p: &Parameter) -> TokenStream {
    let wire = p.wire_name.as_str();
    let spec = &r.history.specs[r.spec_index];
    let is_enum = |ty: &TypeExpr| matches!(ty, TypeExpr::Named(id) if matches!(spec.ty(*id).kind, TypeKind::Enum { .. }));
    let optional = if p.location == ParamLocation::Header {
        match &p.ty {
            TypeExpr::Scalar(Scalar::String) => quote!(incoming.header(#wire)?),
            ty if is_enum(ty) => {
                let t = r.render(ty);
                quote!(incoming.header(#wire)?.map(|value| #t::from(value.as_str())))
            }
            _ => {
                quote!(incoming.header(#wire)?.map(|value| serde_json::from_str(&value)).transpose().map_err(|e| ApiError::invalid_argument(format!("invalid header {}: {e}", #wire)))?)
            }
        }
    } else if is_filters(p) {
        quote!(incoming.query().filters(#wire)?)
    } else {
        match &p.ty {
            TypeExpr::Scalar(Scalar::Bool) if STRICT_BOOLEANS.contains(&wire) => quote!(incoming.query().bool_strict(#wire)?),
            TypeExpr::Scalar(Scalar::Bool) => quote!(incoming.query().bool(#wire)),
            TypeExpr::Scalar(Scalar::String | Scalar::Binary) => quote!(incoming.query().string(#wire)),
            TypeExpr::Scalar(_) => quote!(incoming.query().number(#wire)?),
            TypeExpr::Array(item) => {
                let map = match item.as_ref() {
                    TypeExpr::Scalar(Scalar::String) => {
                        return wrap_required(p, quote!(Some(incoming.query().repeated(#wire)).filter(|values| !values.is_empty())));
                    }
                    ty if is_enum(ty) => {
                        let t = r.render(ty);
                        quote!(.into_iter().map(|value| #t::from(value.as_str())).collect::<Vec<_>>())
                    }
                    _ => {
                        quote!(.into_iter().map(|value| value.parse()).collect::<Result<Vec<_>, _>>().map_err(|_| ApiError::invalid_argument(format!("invalid value for query parameter {:?}", #wire)))?)
                    }
                };
                quote!(Some(incoming.query().repeated(#wire)).filter(|values| !values.is_empty()).map(|values| values #map))
            }
            ty if is_enum(ty) => {
                let t = r.render(ty);
                quote!(incoming.query().get(#wire).map(#t::from))
            }
            _ => quote!(incoming.query().json(#wire)?),
        }
    };
    let optional = if p.secret { quote!(#optional.map(moby_api_runtime::secret::Secret::new)) } else { optional };
    wrap_required(p, optional)
}

/// `optional` (an `Option` expression) for an optional parameter; for a required one, its
/// value or a 400 naming the parameter.
fn wrap_required(p: &Parameter, optional: TokenStream) -> TokenStream {
    let wire = p.wire_name.as_str();
    if p.required {
        let what = if p.location == ParamLocation::Header { "header" } else { "query parameter" };
        let message = format!("{what} {wire:?} is required");
        quote!(#optional.ok_or_else(|| ApiError::invalid_argument(#message))?)
    } else {
        optional
    }
}
