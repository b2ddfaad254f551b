//! Emits each version's reqwest client: one async method per operation, a parameter struct
//! for its query and header parameters, typed JSON results (feature `client`).

use proc_macro2::TokenStream;
use quote::{format_ident, quote};

use super::docs;
use super::models::{ident, map_import, NamedPath, TypeRenderer};
use super::operation::{self, status_variant_name};
use super::params::{non_path_params, params_struct_name, path_params};
use crate::ir::naming::field_name;
use crate::ir::{ContentKind, History, Operation, ParamLocation, Parameter, Response, Status, TypeExpr};

/// `client.rs` of one version.
pub fn version_client(history: &History, spec_index: usize) -> TokenStream {
    let spec = &history.specs[spec_index];
    let r = TypeRenderer { history, spec_index, named: NamedPath::VersionModels, uses_map: std::cell::Cell::new(false) };
    let mut methods = Vec::new();
    let mut outcome_enums = Vec::new();
    for op in &spec.operations {
        let (method, outcome_enum) = operation(history, &r, op);
        methods.push(method);
        outcome_enums.extend(outcome_enum);
    }
    let map_use = map_import(r.uses_map.get());
    let runtime_use = operation::runtime_imports(
        "client",
        &["Error", "Transport"],
        &[
            "Body",
            "ByteStream",
            "Error",
            "Hijacked",
            "JsonLinesOutput",
            "LogOutput",
            "Method",
            "PathStat",
            "ProgressOutput",
            "Request",
            "Response",
            "Transport",
            "TtySource",
            "header",
        ],
        &methods,
    );
    let header = docs::inner(&format!(
        "The client of Engine API v{}: one method per operation.\n\nRequests carry the `/vX.Y` prefix; the version is negotiated with the engine on the first request (downgrade only) unless `DOCKER_API_VERSION` pins it. Streams come back as `futures::Stream`s of typed items (log chunks, JSON lines, progress messages, bytes), attach and exec start as a hijacked connection with an output stream and a stdin writer.",
        spec.version
    ));
    quote! {
        #header
        #map_use
        #runtime_use
        use moby_api_runtime::path::encode_path_param;

        /// The API version this client asks the engine for at most (negotiation only goes down).
        pub use super::API_VERSION;

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

        #(#outcome_enums)*
    }
}

/// What a successful call returns, decided by the operation's content kinds and statuses.
enum Outcome {
    /// A hijacked connection (attach, exec start): output stream and stdin writer.
    Hijack(TokenStream),
    /// One response kind.
    Single { ty: TokenStream, finish: TokenStream },
    /// Several non-error statuses: a generated enum, one variant per status.
    Statuses { name: proc_macro2::Ident, variants: Vec<StatusVariant> },
}

struct StatusVariant {
    code: u16,
    name: proc_macro2::Ident,
    payload: Option<TokenStream>,
    read: TokenStream,
    doc: TokenStream,
}

/// Which lookup tells the runtime whether a log or hijacked stream has a TTY, when the
/// Content-Type does not say (below API 1.42).
fn tty_source(op: &Operation) -> TokenStream {
    let id = path_params(op).first().map(|p| ident(&p.name));
    match (op.path.split('/').nth(1), id) {
        (Some("containers"), Some(id)) => quote!(TtySource::Container(#id.to_owned())),
        (Some("exec"), Some(id)) => quote!(TtySource::Exec(#id.to_owned())),
        (Some("services"), Some(id)) => quote!(TtySource::Service(#id.to_owned())),
        (Some("tasks"), Some(id)) => quote!(TtySource::Task(#id.to_owned())),
        _ => quote!(TtySource::Known(false)),
    }
}

fn is_success(status: Status) -> bool {
    matches!(status, Status::Code(200..=399))
}

fn outcome(r: &TypeRenderer<'_>, op: &Operation) -> Outcome {
    // `Upgrade: tcp` hijacks only; the websocket attach and the session's h2c upgrade speak
    // other protocols over the connection, so their callers get the raw response.
    let other_protocol = op.path.ends_with("/ws") || op.path.split('/').nth(1) == Some("session");
    if op.responses.iter().any(|resp| resp.content == ContentKind::Upgrade) {
        if other_protocol {
            return Outcome::Single { ty: quote!(Response), finish: quote!(self.transport.send(request).await) };
        }
        let tty = tty_source(op);
        return Outcome::Hijack(quote!(self.transport.upgrade(request, #tty).await));
    }
    let successes: Vec<&Response> =
        op.responses.iter().filter(|resp| is_success(resp.status) && resp.content != ContentKind::Upgrade).collect();
    if successes.len() > 1
        && successes.iter().all(|resp| matches!(resp.content, ContentKind::Empty | ContentKind::Json | ContentKind::Text))
    {
        let name = format_ident!("{}Outcome", crate::ir::naming::type_name(std::slice::from_ref(&op.name)));
        let outcome = &name;
        let variants = successes
            .iter()
            .filter_map(|resp| {
                let Status::Code(code) = resp.status else { return None };
                let variant = format_ident!("{}", status_variant_name(code));
                let doc = docs::outer(&docs::paragraphs([resp.description.as_deref(), Some(&format!("Status {code}."))]));
                let (payload, read) = match (&resp.content, &resp.ty) {
                    (ContentKind::Json, Some(ty)) => {
                        let ty = r.render(ty);
                        (
                            Some(ty),
                            quote!(Ok(#outcome::#variant(moby_api_runtime::json::from_slice(&self.transport.read_body(response).await?)?))),
                        )
                    }
                    (ContentKind::Text, _) => (
                        Some(quote!(String)),
                        quote!(Ok(#outcome::#variant(String::from_utf8_lossy(&self.transport.read_body(response).await?).into_owned()))),
                    ),
                    _ => (None, quote!(Ok(#outcome::#variant))),
                };
                Some(StatusVariant { code, name: variant, payload, read, doc })
            })
            .collect();
        return Outcome::Statuses { name, variants };
    }
    let Some(resp) = successes.first() else {
        return Outcome::Single { ty: quote!(Response), finish: quote!(self.transport.send(request).await) };
    };
    let (ty, finish) = match resp.content {
        ContentKind::Json if resp.ty.is_some() => {
            let ty = r.render(resp.ty.as_ref().expect("checked"));
            (quote!(#ty), quote!(self.transport.send_json(request).await))
        }
        // The transport's timeout bounds a long poll's head only, so a long wait is never cut.
        ContentKind::DeferredJson if resp.ty.is_some() => {
            let ty = r.render(resp.ty.as_ref().expect("checked"));
            (quote!(#ty), quote!(self.transport.send_deferred_json(request).await))
        }
        ContentKind::Text => (quote!(String), quote!(self.transport.send_text(request).await)),
        ContentKind::Empty if resp.headers.iter().any(|h| h.name.eq_ignore_ascii_case("X-Docker-Container-Path-Stat")) => {
            (quote!(PathStat), quote!(PathStat::from_headers(self.transport.send(request).await?.headers())))
        }
        ContentKind::Empty => (quote!(()), quote! { self.transport.send(request).await?; Ok(()) }),
        ContentKind::Multiplexed => {
            let tty = tty_source(op);
            (quote!(LogOutput), quote!(self.transport.send_logs(request, #tty).await))
        }
        ContentKind::JsonLines => {
            let item = resp.ty.as_ref().map_or_else(|| quote!(serde_json::Value), |t| r.render(t));
            (quote!(JsonLinesOutput<#item>), quote!(self.transport.send_json_lines(request).await))
        }
        ContentKind::JsonProgress => {
            let output = match &resp.aux {
                Some(aux) => {
                    let aux = r.render(aux);
                    quote!(ProgressOutput<#aux>)
                }
                None => quote!(ProgressOutput),
            };
            (output, quote!(self.transport.send_progress(request).await))
        }
        ContentKind::Tar | ContentKind::Binary => (quote!(ByteStream), quote!(self.transport.send_bytes(request).await)),
        _ => (quote!(Response), quote!(self.transport.send(request).await)),
    };
    Outcome::Single { ty, finish }
}

fn operation(history: &History, r: &TypeRenderer<'_>, op: &Operation) -> (TokenStream, Option<TokenStream>) {
    let method_name = ident(&field_name(&op.name));
    let http_method = format_ident!("{}", op.method.as_str());
    let path_params = path_params(op);
    let other_params = non_path_params(op);

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
            let name = ident(&p.name);
            fmt_args.push(quote!(encode_path_param(#name)));
        }
        rest = &rest[(end + 1).min(rest.len())..];
    }
    fmt.push_str(rest);
    let path_args = path_params.iter().map(|p| {
        let name = ident(&p.name);
        quote!(#name: &str)
    });

    let params_name = params_struct_name(op);
    let params_arg = (!other_params.is_empty()).then(|| quote!(params: &super::params::#params_name,));
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
                Some(quote!(body: impl Into<Body>,)),
                Some(quote!(let request = request.body(body, header::HeaderValue::from_static(#media));)),
            )
        }
        _ => (None, None),
    };

    let mut extra = None;
    let (ret, finish) = match outcome(r, op) {
        Outcome::Hijack(finish) => (quote!(Hijacked), finish),
        Outcome::Single { ty, finish } => (ty, finish),
        Outcome::Statuses { name, variants } => {
            let arms = variants.iter().map(|v| {
                let (code, read) = (v.code, &v.read);
                quote!(#code => #read,)
            });
            let defs = variants.iter().map(|v| {
                let (vname, doc) = (&v.name, &v.doc);
                match &v.payload {
                    Some(ty) => quote!(#doc #vname(#ty),),
                    None => quote!(#doc #vname,),
                }
            });
            let doc = docs::outer(&format!(
                "The answers of [`Client::{}`] that are not errors, one per status the spec names.",
                field_name(&op.name)
            ));
            extra = Some(quote! {
                #doc
                #[derive(Debug, Clone, PartialEq)]
                pub enum #name { #(#defs)* }
            });
            (
                quote!(#name),
                quote! {
                    let response = self.transport.send(request).await?;
                    match response.status().as_u16() {
                        #(#arms)*
                        _ => Err(Error::from_response(response).await),
                    }
                },
            )
        }
    };

    let doc = operation::method_doc(op, history);
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
    (method, extra)
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
