//! Emits the axum server side (feature `server`). What is identical across versions is
//! emitted once in `shared/<versions>/server.rs`: per request class a request struct that
//! reads itself with Docker's conventions (`Endpoint`), per reply class an enum with one
//! variant per status the spec names that becomes the response (`Reply`), and per trait
//! class the tag's trait, an `async fn` per operation defaulting to 501. Each version's
//! `server.rs` re-exports them and holds only its `Api` bound, `router` and its route table,
//! one `Route::operation` per operation: the runtime reads, calls and answers.

use std::collections::BTreeMap;

use proc_macro2::TokenStream;
use quote::{format_ident, quote};

use super::docs;
use super::models::{ident, Imports, ModelsFrom, TypeRenderer};
use super::operation::{self, reexports, status_const, Kind};
use super::params::is_filters;
use crate::ir::history::operations::SharedItem;
use crate::ir::{ContentKind, History, Operation, ParamLocation, Parameter, Response, Scalar, Status, TypeExpr, TypeKind};

/// Boolean query parameters the daemon parses strictly (`strconv.ParseBool`), answering 400
/// on anything else; all others are lenient (`""`, `0`, `no`, `false`, `none` are false).
const STRICT_BOOLEANS: &[&str] =
    &["verbose", "rotateWorkerToken", "rotateManagerToken", "rotateManagerUnlockKey", "status", "insertDefaults"];

/// Runtime items a server file may use; each file imports those it does.
const RUNTIME_ITEMS: &[&str] = &[
    "ApiError",
    "Context",
    "Deferred",
    "Endpoint",
    "Hijack",
    "Incoming",
    "Method",
    "Reply",
    "not_implemented",
    "RequestBody",
    "Response",
    "Route",
    "ServerConfig",
    "StatusCode",
    "StreamBody",
    "respond",
];

/// The classes one `shared/<module>/server.rs` holds.
pub struct ServerClasses<'h> {
    pub requests: Vec<&'h SharedItem>,
    pub replies: Vec<&'h SharedItem>,
    pub services: Vec<&'h SharedItem>,
}

/// `shared/<module>/server.rs`: the traits, requests and replies of its versions.
pub fn shared_server(history: &History, module: &str, classes: &ServerClasses<'_>) -> TokenStream {
    let imports = Imports::new(ModelsFrom::Shared).in_module(Kind::Server.path(module));
    let mut items: Vec<TokenStream> = classes.services.iter().map(|c| service_trait(history, c, &imports)).collect();
    items.extend(classes.requests.iter().map(|c| request_type(history, c, &imports)));
    items.extend(classes.replies.iter().map(|c| reply_type(history, c, &imports)));
    let any: Vec<&SharedItem> = classes.services.iter().chain(&classes.requests).chain(&classes.replies).take(1).copied().collect();
    let header = operation::shared_header(&any, "The server traits, requests and replies that are", None);
    let future_use = (!classes.services.is_empty()).then(|| {
        quote!(
            use std::future::Future;
        )
    });
    let runtime_use = operation::runtime_imports("server", &[], RUNTIME_ITEMS, &items);
    let uses = imports.tokens();
    quote! {
        #header
        #future_use
        #runtime_use
        #uses

        #(#items)*
    }
}

/// `server.rs` of one version: its traits, requests and replies (re-exported), the `Api`
/// bound, `router` and the route table.
pub fn version_server(history: &History, spec_index: usize) -> TokenStream {
    let spec = &history.specs[spec_index];
    let ops = &history.ops;
    let n = spec.operations.len();
    let mut by_service: BTreeMap<&str, Vec<&Operation>> = BTreeMap::new();
    for op in &spec.operations {
        by_service.entry(&op.rust.service).or_default().push(op);
    }
    let services: Vec<proc_macro2::Ident> = by_service.keys().map(|s| ident(s)).collect();
    let routes = by_service.values().flatten().map(|op| {
        let method = ident(&op.rust.method);
        quote!(Route::operation(S::#method))
    });
    let table = by_service.values().flatten().map(|op| {
        let method = format_ident!("{}", op.method.as_str());
        let (path, operation) = (&op.path, &op.name);
        quote!(OperationRoute::new(Method::#method, #path, #operation))
    });
    let allow_deprecated = spec.operations.iter().any(|op| op.deprecated).then(|| quote!(#[allow(deprecated)]));
    let reexported = reexports(
        (0..n).flat_map(|o| [&ops.services, &ops.requests, &ops.replies].into_iter().filter_map(move |kind| kind.of(spec_index, o))),
        Kind::Server,
        spec.version,
    );
    let header = docs::inner(&format!(
        "The server side of Engine API v{version}: implement the traits of the tags you serve on one type, then mount it with [`router`].\n\nEach operation has a request struct (path, query, header and body parameters, parsed with Docker's conventions) and a reply enum with one variant per status the spec names; errors that the spec does not name are `Err(ApiError)`. The dispatcher of `moby_api_runtime::server` routes `/v{{X.Y}}/…` and unversioned paths like the daemon, answers 400 for versions outside the configured range and 404 for unknown paths, and matches names that contain `/` greedily.",
        version = spec.version
    ));
    quote! {
        #header
        use moby_api_runtime::server::{Method, OperationRoute, Route, ServerConfig};

        use super::API_VERSION;
        #reexported

        /// Every tag's trait: what [`router`] needs. Implemented for every type that implements them all.
        pub trait Api: #(#services)+* {}

        impl<T: #(#services)+*> Api for T {}

        /// Serves every operation of this version on `service`, presenting itself as API
        /// [`API_VERSION`] (the oldest version accepted is 1.24).
        pub fn router<S: Api>(service: S) -> moby_api_runtime::server::axum::Router {
            router_with(service, ServerConfig::new(API_VERSION))
        }

        /// [`router`] with an explicit configuration (version range, `/_ping` headers, limits).
        pub fn router_with<S: Api>(service: S, config: ServerConfig) -> moby_api_runtime::server::axum::Router {
            moby_api_runtime::server::router(std::sync::Arc::new(service), routes::<S>(), config)
        }

        /// Every operation of this version: method, path template and operation id, in the
        /// order of [`routes`]. What a program that routes requests without answering them
        /// (a proxy) classifies by.
        pub static OPERATIONS: &[OperationRoute] = &[#(#table),*];

        /// Every operation of this version as a route of the runtime's dispatcher.
        #allow_deprecated
        pub fn routes<S: Api>() -> Vec<Route<S>> {
            Vec::from([#(#routes),*])
        }
    }
}

/// The trait of a tag: one method per operation, each defaulting to 501.
fn service_trait(history: &History, class: &SharedItem, imports: &Imports) -> TokenStream {
    let spec = &history.specs[class.spec];
    let ops = &history.ops;
    let name = ident(&class.name);
    let tag = history.operation_of(class).tag.as_deref().unwrap_or("Other");
    let methods = spec.operations.iter().enumerate().filter(|(_, op)| op.rust.service == class.name).map(|(o, op)| {
        let request = ops.requests.of(class.spec, o).expect("every operation has a request class");
        let reply = ops.replies.of(class.spec, o).expect("every operation has a reply class");
        let request = imports.item(Kind::Server, &request.module, &request.name);
        let reply = imports.item(Kind::Server, &reply.module, &reply.name);
        let method = ident(&op.rust.method);
        let doc = operation::method_doc(op, history, &format!("[`{request}`]"));
        let deprecated = op.deprecated.then(|| quote!(#[deprecated]));
        let is_ping = op.id == "SystemPing" || op.id == "SystemPingHead";
        let (default_doc, body) = match default_success(op, &reply) {
            Some(success) if is_ping => (
                Some(quote! { #[doc = ""] #[doc = "The default answers `OK`."] }),
                quote! {
                    let _ = (context, request);
                    std::future::ready(Ok(#success))
                },
            ),
            _ => (None, quote!(not_implemented(context, request))),
        };
        quote! {
            #doc
            #default_doc
            #deprecated
            fn #method(&self, context: &Context, request: #request) -> impl Future<Output = Result<#reply, ApiError>> + Send {
                #body
            }
        }
    });
    let doc = docs::outer(&format!(
        "The operations tagged `{tag}`. Every method has a default that answers 501 with Docker's error body, so an implementation overrides only what it serves."
    ));
    quote! {
        #doc
        pub trait #name: Send + Sync + 'static {
            #(#methods)*
        }
    }
}

/// The reply a method that has nothing to say answers with: the first 2xx without a body, or
/// with a text body (`OK`). `None` when the success has a document.
fn default_success(op: &Operation, reply: &proc_macro2::Ident) -> Option<TokenStream> {
    let resp = op.responses.iter().find(|r| matches!(r.status, Status::Code(200..=299)))?;
    let variant = ident(&resp.variant);
    let has_payload = resp.status != Status::Code(304) && resp.content != ContentKind::Empty;
    if !resp.headers.is_empty() {
        let nones = resp.headers.iter().map(|h| {
            let field = ident(&h.field);
            quote!(#field: None,)
        });
        let body = has_payload.then(|| quote!(body: "OK".to_owned(),));
        return Some(quote!(#reply::#variant { #body #(#nones)* }));
    }
    match (has_payload, resp.content) {
        (false, _) => Some(quote!(#reply::#variant)),
        (true, ContentKind::Text) => Some(quote!(#reply::#variant("OK".to_owned()))),
        _ => None,
    }
}

/// The request struct of a request class and how it reads itself.
fn request_type(history: &History, class: &SharedItem, imports: &Imports) -> TokenStream {
    let r = TypeRenderer::importing(history, class.spec, imports);
    let op = history.operation_of(class);
    let name = ident(&class.name);
    let mut fields = Vec::new();
    let mut parse = Vec::new();
    for p in op.path_params() {
        let field = ident(&p.name);
        let wire = &p.wire_name;
        let doc = match p.description.as_deref().map(str::trim).filter(|d| !d.is_empty()) {
            Some(d) => docs::outer(&format!("Path parameter `{wire}`: {d}")),
            None => docs::outer(&format!("Path parameter `{wire}`.")),
        };
        fields.push(quote!(#doc pub #field: String,));
        parse.push(quote!(#field: incoming.path(#wire)?,));
    }
    if let Some(params) = history.ops.params.of(class.spec, class.op) {
        let params_name = imports.item(Kind::Params, &params.module, &params.name);
        let values = op.non_path_params().map(|p| {
            let field = ident(&p.name);
            let value = extract_param(&r, p);
            quote!(#field: #value,)
        });
        fields.push(quote! {
            /// The query and header parameters.
            pub params: #params_name,
        });
        parse.push(quote!(params: #params_name { #(#values)* },));
    }
    let mut streaming = false;
    let mut json_body = None;
    if let Some(body) = &op.request_body {
        let doc = docs::outer(&docs::paragraphs([body.description.as_deref(), Some("The request body.")]));
        match (body.content, &body.ty) {
            (ContentKind::Json, ty) => {
                let ty = ty.as_ref().map_or_else(|| quote!(serde_json::Value), |t| r.render(t));
                json_body = Some(quote!(const JSON_BODY: bool = true;));
                if body.required {
                    fields.push(quote!(#doc pub body: #ty,));
                    parse.push(quote!(body: incoming.buffered_json()?,));
                } else {
                    fields.push(quote!(#doc pub body: Option<#ty>,));
                    parse.push(quote!(body: incoming.buffered_json_opt()?,));
                }
            }
            _ => {
                streaming = true;
                fields.push(quote!(#doc pub body: RequestBody,));
                parse.push(quote!(body: incoming.body(),));
            }
        }
    }
    let doc = operation::operation_doc(op, history);
    let derive = (!streaming).then(|| quote!(#[derive(Debug, Clone, PartialEq)]));
    let unused_incoming = parse.is_empty().then(|| quote!(let _ = incoming;));
    let method = format_ident!("{}", op.method.as_str());
    let (path, id) = (&op.path, &op.name);
    quote! {
        #doc
        #derive
        pub struct #name {
            #(#fields)*
        }

        impl Endpoint for #name {
            const METHOD: Method = Method::#method;
            const PATH: &'static str = #path;
            const OPERATION: &'static str = #id;
            #json_body

            fn parse(incoming: &mut Incoming) -> Result<Self, ApiError> {
                #unused_incoming
                Ok(Self { #(#parse)* })
            }
        }
    }
}

/// The reply enum of a reply class and how it becomes a response.
fn reply_type(history: &History, class: &SharedItem, imports: &Imports) -> TokenStream {
    let r = TypeRenderer::importing(history, class.spec, imports);
    let op = history.operation_of(class);
    let name = ident(&class.name);
    let mut variants = Vec::new();
    let mut arms = Vec::new();
    let mut from_impl = None;
    for resp in &op.responses {
        let Status::Code(code) = resp.status else { continue };
        let variant = ident(&resp.variant);
        let status = status_const(code);
        let body_doc = stream_doc(&r, resp);
        let doc = operation::status_doc(code, resp.description.as_deref(), body_doc.as_deref());
        let (payload, render) = reply_payload(&r, resp, &status);
        if resp.headers.is_empty() {
            match &payload {
                Some(ty) => {
                    variants.push(quote!(#doc #variant(#ty),));
                    arms.push(quote!(Self::#variant(body) => #render,));
                    if from_impl.is_none() && (200..300).contains(&code) && resp.content != ContentKind::Upgrade {
                        from_impl = Some(quote! {
                            impl From<#ty> for #name {
                                fn from(body: #ty) -> Self {
                                    Self::#variant(body)
                                }
                            }
                        });
                    }
                }
                None => {
                    variants.push(quote!(#doc #variant,));
                    arms.push(quote!(Self::#variant => #render,));
                }
            }
        } else {
            let header_fields = resp.headers.iter().map(|h| {
                let field = ident(&h.field);
                let doc = docs::outer(&docs::paragraphs([h.description.as_deref(), Some(&format!("Header `{}`.", h.name))]));
                quote!(#doc #field: Option<String>,)
            });
            let header_names = resp.headers.iter().map(|h| ident(&h.field));
            let set_headers = resp.headers.iter().map(|h| {
                let (field, wire) = (ident(&h.field), &h.name);
                quote! {
                    if let Some(value) = #field {
                        response = respond::with_header(response, #wire, &value);
                    }
                }
            });
            let body_field = payload.as_ref().map(|ty| quote!(body: #ty,));
            let body_bind = payload.as_ref().map(|_| quote!(body,));
            variants.push(quote!(#doc #variant { #body_field #(#header_fields)* },));
            arms.push(quote! {
                Self::#variant { #body_bind #(#header_names),* } => {
                    let mut response = #render;
                    #(#set_headers)*
                    response
                }
            });
        }
    }
    let doc = docs::outer(&format!(
        "The replies of {} (`{}`), one per status the spec names; any other error is an `Err(ApiError)`.",
        operation::signature(op),
        op.name
    ));
    let uses_incoming = arms.iter().any(|a| a.to_string().contains("incoming"));
    let incoming_param = if uses_incoming { quote!(incoming: &mut Incoming) } else { quote!(_incoming: &mut Incoming) };
    quote! {
        #doc
        // A reply is built once and moved straight into the response: boxing the large
        // success payloads would cost an allocation per request and ergonomics for nothing.
        #[allow(clippy::large_enum_variant)]
        pub enum #name {
            #(#variants)*
        }

        #from_impl

        impl Reply for #name {
            fn into_response(self, #incoming_param) -> Response {
                match self {
                    #(#arms)*
                }
            }
        }
    }
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
    // A named item type becomes a link (its class has every version of the reply's, so the
    // link resolves wherever the reply is compiled); anything else (a map,
    // `serde_json::Value`) is code.
    let item = || {
        Some(match resp.ty.as_ref()? {
            TypeExpr::Named(id) => {
                let class = r.history.class(r.spec_index, *id);
                format!("[`{0}`](crate::shared::{1}::{0})", class.name, class.module)
            }
            other => {
                let scratch = Imports::new(ModelsFrom::Shared);
                format!("`{}`", TypeRenderer::importing(r.history, r.spec_index, &scratch).render(other).to_string().replace(' ', ""))
            }
        })
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
