//! Emits the reqwest client (feature `client`). What is identical across versions is
//! emitted once in `shared/<versions>/`: in `requests.rs` one request builder per request
//! class (the path, its parameters, query and headers with Docker's conventions, the body);
//! in `client.rs` the enum of answers of each outcome class and each method class's method,
//! as a macro that a version's `Client` expands. Each version's `client.rs` holds only its
//! `Client`: constructors and the list of its methods.

use proc_macro2::TokenStream;
use quote::{format_ident, quote};

use super::docs;
use super::models::{ident, Imports, ModelsFrom, TypeRenderer};
use super::operation::{self, reexports, Kind};
use crate::ir::history::operations::SharedItem;
use crate::ir::{ContentKind, History, Operation, ParamLocation, Parameter, Status, TypeExpr, TypeKind};

/// Runtime items a client file may use; each file imports those it does.
const RUNTIME_ITEMS: &[&str] = &[
    "Body",
    "ByteStream",
    "Error",
    "Hijacked",
    "JsonLinesOutput",
    "LogOutput",
    "Method",
    "Outcome",
    "PathStat",
    "ProgressOutput",
    "Request",
    "Response",
    "Transport",
    "TtySource",
    "header",
];

/// `shared/<module>/requests.rs`: the request builders of its versions.
pub fn shared_requests(history: &History, requests: &[&SharedItem]) -> TokenStream {
    let imports = Imports::new(ModelsFrom::Shared);
    let items: Vec<TokenStream> = requests.iter().map(|c| request_builder(history, c, &imports)).collect();
    let header = operation::shared_header(requests, "The client's request builders of the operations whose requests are", None);
    shared_file(header, &imports, items)
}

/// `shared/<module>/client.rs`: the outcome enums and the `Client` methods of its versions.
pub fn shared_client(history: &History, outcomes: &[&SharedItem], methods: &[&SharedItem]) -> TokenStream {
    let imports = Imports::new(ModelsFrom::Shared);
    let mut items: Vec<TokenStream> = outcomes.iter().map(|c| outcome_enum(history, c, &imports)).collect();
    items.extend(methods.iter().map(|c| method(history, c)));
    let classes = if outcomes.is_empty() { methods } else { outcomes };
    let note = (!methods.is_empty()).then_some(
        "Each method is a macro that the `impl Client` of every one of those versions expands, so the method's names are that module's: the version's models, params, outcomes and `requests`, and `Call`. Other runtime items are named by path.",
    );
    let header = operation::shared_header(classes, "The client's enums of answers and methods of the operations", note);
    shared_file(header, &imports, items)
}

fn shared_file(header: TokenStream, imports: &Imports, items: Vec<TokenStream>) -> TokenStream {
    let runtime_use = operation::runtime_imports("client", &[], RUNTIME_ITEMS, &items);
    let uses = imports.tokens();
    let path_use = items.iter().any(|i| i.to_string().contains("encode_path_param")).then(|| {
        quote!(
            use moby_api_runtime::path::encode_path_param;
        )
    });
    quote! {
        #header
        #runtime_use
        #path_use
        #uses

        #(#items)*
    }
}

/// `client.rs` of one version: the `Client`, whose methods are the shared macros of its
/// method classes, expanded in this module.
pub fn version_client(history: &History, spec_index: usize) -> TokenStream {
    let spec = &history.specs[spec_index];
    let ops = 0..spec.operations.len();
    let methods = spec.operations.iter().map(|op| {
        let name = ident(&op.rust.method);
        quote!(#name!();)
    });
    // The macros of the modules that `outcomes` re-exports come with the outcomes.
    let outcome_classes: Vec<&SharedItem> = ops.clone().filter_map(|o| history.ops.outcomes.of(spec_index, o)).collect();
    let method_modules: std::collections::BTreeSet<&str> = ops
        .clone()
        .filter_map(|o| history.ops.methods.of(spec_index, o))
        .map(|c| c.module.as_str())
        .filter(|m| !outcome_classes.iter().any(|c| c.module == *m))
        .collect();
    let method_uses = (!method_modules.is_empty()).then(|| {
        let modules = method_modules.into_iter().map(|m| {
            let m = ident(m);
            quote!(#m::client::*)
        });
        quote!(use crate::shared::{#(#modules),*};)
    });
    let builders = reexports(ops.filter_map(|o| history.ops.requests.of(spec_index, o)), Kind::Requests, spec.version);
    let outcomes = reexports(outcome_classes, Kind::Client, spec.version);
    let header = docs::inner(&format!(
        "The client of Engine API v{}: one method per operation.\n\nRequests carry the `/vX.Y` prefix; the version is negotiated with the engine on the first request (downgrade only) unless `DOCKER_API_VERSION` pins it. Streams come back as `futures::Stream`s of typed items (log chunks, JSON lines, progress messages, bytes), attach and exec start as a hijacked connection with an output stream and a stdin writer.",
        spec.version
    ));
    quote! {
        #header
        use moby_api_runtime::client::{Call, Error, Transport};
        use super::models::*;
        use super::params::*;
        #method_uses

        /// The API version this client asks the engine for at most (negotiation only goes down).
        pub use super::API_VERSION;
        #outcomes

        /// The request of every operation, built as the methods of [`Client`] build it: to
        /// send through [`Client::transport`] and read yourself.
        pub mod requests {
            #builders
        }

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
    }
}

/// The arguments of an operation's request, in order: path parameters, the params struct,
/// the body. Shared by the builder and the method that calls it.
struct Arguments {
    declared: Vec<TokenStream>,
    passed: Vec<TokenStream>,
}

fn arguments(r: &TypeRenderer<'_>, imports: &Imports, op: &Operation, params: Option<&SharedItem>) -> Arguments {
    let mut args = Arguments { declared: Vec::new(), passed: Vec::new() };
    for p in op.path_params() {
        let name = ident(&p.name);
        args.declared.push(quote!(#name: &str));
        args.passed.push(quote!(#name));
    }
    if let Some(params) = params {
        let name = imports.item(Kind::Params, &params.module, &params.name);
        args.declared.push(quote!(params: &#name));
        args.passed.push(quote!(params));
    }
    match &op.request_body {
        Some(b) if b.ty.is_some() && b.content == ContentKind::Json => {
            let ty = r.render(b.ty.as_ref().expect("checked"));
            args.declared.push(quote!(body: &#ty));
            args.passed.push(quote!(body));
        }
        Some(b) if matches!(b.content, ContentKind::Tar | ContentKind::Binary) => {
            args.declared.push(quote!(body: impl Into<moby_api_runtime::client::Body>));
            args.passed.push(quote!(body));
        }
        _ => {}
    }
    args
}

/// The request builder of one request class: `fn container_list(params: &ContainerListParams) -> Result<Request, Error>`.
fn request_builder(history: &History, class: &SharedItem, imports: &Imports) -> TokenStream {
    let r = TypeRenderer::importing(history, class.spec, imports);
    let op = history.operation_of(class);
    let name = ident(&op.rust.method);
    let http_method = format_ident!("{}", op.method.as_str());
    let args = arguments(&r, imports, op, history.ops.params.of(class.spec, class.op)).declared;

    // The path, with each `{name}` filled from the argument of that name.
    let mut fmt = String::new();
    let mut fmt_args = Vec::new();
    let mut rest = op.path.as_str();
    while let Some(start) = rest.find('{') {
        let end = rest[start..].find('}').map_or(rest.len(), |e| start + e);
        fmt.push_str(&rest[..start].replace('{', "{{").replace('}', "}}"));
        fmt.push_str("{}");
        let wire = &rest[start + 1..end];
        if let Some(p) = op.path_params().find(|p| p.wire_name == wire) {
            let name = ident(&p.name);
            fmt_args.push(quote!(encode_path_param(#name)));
        }
        rest = &rest[(end + 1).min(rest.len())..];
    }
    fmt.push_str(rest);
    let path = if fmt_args.is_empty() { quote!(#fmt) } else { quote!(format!(#fmt, #(#fmt_args),*)) };

    let apply_params: Vec<TokenStream> = op.non_path_params().map(|p| apply_param(&r, p)).collect();
    let body = match &op.request_body {
        Some(b) if b.ty.is_some() && b.content == ContentKind::Json => Some(quote!(let request = request.json(body)?;)),
        Some(b) if matches!(b.content, ContentKind::Tar | ContentKind::Binary) => {
            let media = b
                .media_types
                .iter()
                .find(|m| m.as_str() != "application/json")
                .cloned()
                .unwrap_or_else(|| "application/octet-stream".into());
            Some(quote!(let request = request.body(body, header::HeaderValue::from_static(#media));))
        }
        _ => None,
    };
    let mut_request = (!apply_params.is_empty()).then(|| quote!(mut));
    let doc = operation::operation_doc(op, history);
    // `#[inline]` here and on the methods: like generic functions, they are compiled by the
    // crate that calls them, for the operations it calls, not by this crate for every
    // operation of every enabled version (which was a third of its build).
    quote! {
        #doc
        #[inline]
        pub fn #name(#(#args),*) -> Result<Request, Error> {
            let #mut_request request = Request::new(Method::#http_method, #path);
            #(#apply_params)*
            #body
            Ok(request)
        }
    }
}

/// Adds one query or header parameter to `request`, following Docker's conventions.
fn apply_param(r: &TypeRenderer<'_>, p: &Parameter) -> TokenStream {
    let name = ident(&p.name);
    let wire = &p.wire_name;
    let to_text = |value: TokenStream, ty: &TypeExpr| -> TokenStream {
        match ty {
            TypeExpr::Map(_) | TypeExpr::Any => quote!(serde_json::to_string(#value)?),
            TypeExpr::Named(id) if !matches!(r.history.specs[r.spec_index].ty(*id).kind, TypeKind::Enum { .. }) => {
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
        // The daemon reads every list parameter as repeated keys, whatever `collectionFormat`
        // the spec gives; `changes` items contain commas, so joining them would corrupt them.
        (TypeExpr::Array(item), _) => {
            let text = to_text(quote!(item), item);
            quote! { for item in value { request = request.query(#wire, #text); } }
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

/// The enum of an outcome class, one variant per success status, and how it is read.
fn outcome_enum(history: &History, class: &SharedItem, imports: &Imports) -> TokenStream {
    let r = TypeRenderer::importing(history, class.spec, imports);
    let op = history.operation_of(class);
    let name = ident(&class.name);
    let mut variants = Vec::new();
    let mut arms = Vec::new();
    let mut variants_read_body = false;
    for resp in op.outcomes().unwrap_or_default() {
        let Status::Code(code) = resp.status else { continue };
        let variant = ident(&resp.variant);
        let doc = operation::status_doc(code, resp.description.as_deref(), None);
        let (payload, read) = match (&resp.content, &resp.ty) {
            (ContentKind::Json, Some(ty)) => {
                (Some(r.render(ty)), quote!(Ok(Self::#variant(moby_api_runtime::json::from_slice(&transport.read_body(response).await?)?))))
            }
            (ContentKind::Text, _) => (
                Some(quote!(String)),
                quote!(Ok(Self::#variant(String::from_utf8_lossy(&transport.read_body(response).await?).into_owned()))),
            ),
            _ => (None, quote!(Ok(Self::#variant))),
        };
        variants_read_body |= payload.is_some();
        variants.push(match payload {
            Some(ty) => quote!(#doc #variant(#ty),),
            None => quote!(#doc #variant,),
        });
        arms.push(quote!(#code => #read,));
    }
    // Only a variant with a payload reads the body, which the transport bounds.
    let transport = if variants_read_body { quote!(transport) } else { quote!(_transport) };
    let doc = docs::outer(&format!(
        "The answers of {} (`Client::{}`) that are not errors, one per status the spec names.",
        operation::signature(op),
        op.rust.method
    ));
    quote! {
        #doc
        #[derive(Debug, Clone, PartialEq)]
        pub enum #name { #(#variants)* }

        impl Outcome for #name {
            async fn read(#transport: &Transport, response: Response) -> Result<Self, Error> {
                match response.status().as_u16() {
                    #(#arms)*
                    _ => Err(Error::from_response(response).await),
                }
            }
        }
    }
}

/// The method of a method class, marked for [`format`](super::format) to wrap in the macro
/// that a version's `impl Client` expands: the shared builder makes the request, the runtime
/// piece of the answer's kind reads it.
fn method(history: &History, class: &SharedItem) -> TokenStream {
    let (spec, o) = (class.spec, class.op);
    let op = history.operation_of(class);
    let r = TypeRenderer::in_version_scope(history, spec);
    // A version's module takes its params whole, as its models.
    let params = Imports::new(ModelsFrom::VersionModels);
    let name = ident(&op.rust.method);
    let Arguments { declared, passed } = arguments(&r, &params, op, history.ops.params.of(spec, o));
    let request = quote!(requests::#name(#(#passed),*));
    let (ret, send) = answer(history, &r, o, op, &request);
    let doc = operation::method_doc(op, history, &format!("[`requests::{}`]", op.rust.method));
    let deprecated = op.deprecated.then(|| quote!(#[deprecated]));
    let mark: TokenStream = super::format::METHOD_MARK.parse().expect("an attribute");
    quote! {
        #mark
        impl Client {
            #doc
            #deprecated
            #[inline]
            pub fn #name(&self, #(#declared),*) -> Call<'_, #ret> {
                #send
            }
        }
    }
}

/// The type a method's future gives and the transport's call that sends `request` (a
/// builder's `Result`) and reads the answer. The method returns that future, which the
/// runtime boxed as a `Call` (proved `Send` once, for every answer type): an `async fn`
/// would be one coroutine per operation and version, and an `impl Future + Send` one proof
/// of `Send` through reqwest's futures per operation and version, which was most of the
/// client's compile time.
fn answer(history: &History, r: &TypeRenderer<'_>, o: usize, op: &Operation, request: &TokenStream) -> (TokenStream, TokenStream) {
    if op.upgrades() {
        // `Upgrade: tcp` hijacks only; the websocket attach and the session's h2c upgrade speak
        // other protocols over the connection, so their callers get the raw response.
        let other_protocol = op.path.ends_with("/ws") || op.path.split('/').nth(1) == Some("session");
        if other_protocol {
            return (quote!(moby_api_runtime::client::Response), quote!(self.transport.send(#request)));
        }
        let tty = tty_source(op);
        return (quote!(moby_api_runtime::client::Hijacked), quote!(self.transport.upgrade(#request, #tty)));
    }
    if let Some(outcome) = history.ops.outcomes.of(r.spec_index, o) {
        // Re-exported by the version's client module, which is where this is.
        let name = ident(&outcome.name);
        return (quote!(#name), quote!(self.transport.send_outcome(#request)));
    }
    let Some(resp) = op.responses.iter().find(|resp| resp.is_success()) else {
        return (quote!(moby_api_runtime::client::Response), quote!(self.transport.send(#request)));
    };
    match resp.content {
        ContentKind::Json if resp.ty.is_some() => {
            let ty = r.render(resp.ty.as_ref().expect("checked"));
            (quote!(#ty), quote!(self.transport.send_json(#request)))
        }
        // The transport's timeout bounds a long poll's head only, so a long wait is never cut.
        ContentKind::DeferredJson if resp.ty.is_some() => {
            let ty = r.render(resp.ty.as_ref().expect("checked"));
            (quote!(#ty), quote!(self.transport.send_deferred_json(#request)))
        }
        ContentKind::Text => (quote!(String), quote!(self.transport.send_text(#request))),
        ContentKind::Empty if resp.carries_path_stat() => {
            (quote!(moby_api_runtime::client::PathStat), quote!(self.transport.send_path_stat(#request)))
        }
        ContentKind::Empty => (quote!(()), quote!(self.transport.send_empty(#request))),
        ContentKind::Multiplexed => {
            let tty = tty_source(op);
            (quote!(moby_api_runtime::client::LogOutput), quote!(self.transport.send_logs(#request, #tty)))
        }
        ContentKind::JsonLines => {
            let item = resp.ty.as_ref().map_or_else(|| quote!(serde_json::Value), |t| r.render(t));
            (quote!(moby_api_runtime::client::JsonLinesOutput<#item>), quote!(self.transport.send_json_lines(#request)))
        }
        ContentKind::JsonProgress => {
            let output = match &resp.aux {
                Some(aux) => {
                    let aux = r.render(aux);
                    quote!(moby_api_runtime::client::ProgressOutput<#aux>)
                }
                None => quote!(moby_api_runtime::client::ProgressOutput),
            };
            (output, quote!(self.transport.send_progress(#request)))
        }
        ContentKind::Tar | ContentKind::Binary => (quote!(moby_api_runtime::client::ByteStream), quote!(self.transport.send_bytes(#request))),
        _ => (quote!(moby_api_runtime::client::Response), quote!(self.transport.send(#request))),
    }
}

/// Which lookup tells the runtime whether a log or hijacked stream has a TTY, when the
/// Content-Type does not say (below API 1.42).
fn tty_source(op: &Operation) -> TokenStream {
    let id = op.path_params().next().map(|p| ident(&p.name));
    match (op.path.split('/').nth(1), id) {
        (Some("containers"), Some(id)) => quote!(moby_api_runtime::client::TtySource::Container(#id.to_owned())),
        (Some("exec"), Some(id)) => quote!(moby_api_runtime::client::TtySource::Exec(#id.to_owned())),
        (Some("services"), Some(id)) => quote!(moby_api_runtime::client::TtySource::Service(#id.to_owned())),
        (Some("tasks"), Some(id)) => quote!(moby_api_runtime::client::TtySource::Task(#id.to_owned())),
        _ => quote!(moby_api_runtime::client::TtySource::Known(false)),
    }
}
