//! The intermediate model of one API version: operations and a type arena.
//!
//! Everything downstream (models, client, server, version diff) reads only this; nothing
//! downstream looks at Swagger or OpenAPI again.

use serde::Serialize;
use serde_json::Value;

use crate::version::ApiVersion;

/// One API version, fully resolved and named.
#[derive(Debug, Clone, Serialize)]
pub struct ApiSpec {
    pub version: ApiVersion,
    /// Label of the document it was built from, for diagnostics.
    pub source: String,
    pub operations: Vec<Operation>,
    /// The type arena; [`TypeId`] indexes it.
    pub types: Vec<TypeDef>,
}

impl ApiSpec {
    pub fn ty(&self, id: TypeId) -> &TypeDef {
        &self.types[id.0]
    }
    pub fn type_named(&self, name: &str) -> Option<(TypeId, &TypeDef)> {
        self.types.iter().enumerate().find(|(_, t)| t.name == name).map(|(i, t)| (TypeId(i), t))
    }
    pub fn operation(&self, id: &str) -> Option<&Operation> {
        self.operations.iter().find(|o| o.id == id)
    }
    /// The body of every error the daemon answers (`{"message": …}`): the definition
    /// `ErrorResponse`, which every version's error responses refer to.
    pub fn error_type(&self) -> Option<TypeId> {
        self.type_named("ErrorResponse").map(|(id, _)| id)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct TypeId(pub usize);

#[derive(Debug, Clone, Serialize)]
pub struct TypeDef {
    /// The Rust name (set by the naming pass; unique within the version).
    pub name: String,
    /// Name parts the naming pass joins, e.g. `["ContainerCreate", "Body"]`.
    pub name_hint: Vec<String>,
    /// An explicit name from an `x-rust-name` annotation, which wins over the hint.
    pub name_override: Option<String>,
    pub origin: TypeOrigin,
    /// JSON pointer of the schema in the upstream (Swagger 2.0) document.
    pub pointer: String,
    pub description: Option<String>,
    pub kind: TypeKind,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum TypeOrigin {
    /// A named entry of `definitions`.
    Definition(String),
    /// A schema written in place (property, items, body, response, parameter).
    Inline,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum TypeKind {
    /// An object with known properties, in spec order, and where the members it does not
    /// name go.
    Struct { fields: Vec<Field>, rest: Rest },
    /// A string enum; always open (unknown values are kept, not rejected).
    Enum { values: Vec<EnumValue>, default: Option<String> },
    /// A named definition that is not an object or enum, e.g. `type: array`.
    Alias(TypeExpr),
}

/// Where a struct keeps the members its properties do not name (ARCHITECTURE.md, "Decoding
/// policy"): every struct has such a field, so decoding and encoding again loses nothing.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Rest {
    /// The value type the spec declares (`additionalProperties`). `None` when the spec allows
    /// no other members: a newer engine or client sends them anyway, kept as JSON values.
    pub declared: Option<TypeExpr>,
    /// The Rust field that holds them (set by the naming pass).
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Field {
    /// The exact member name on the wire.
    pub wire_name: String,
    /// The Rust field name (set by the naming pass).
    pub name: String,
    pub ty: TypeExpr,
    pub required: bool,
    /// `x-nullable`/`nullable`: the engine may send `null`.
    pub nullable: bool,
    /// Set when this field makes a cycle of inline values and must be boxed.
    pub boxed: bool,
    pub read_only: bool,
    /// `x-moby-secret` (spec/annotations/secrets.yaml): a credential or key, kept out of
    /// `Debug` output.
    pub secret: bool,
    pub description: Option<String>,
    /// The spec's `format` when it is informative beyond the Rust type (e.g. `date-time`).
    pub format: Option<String>,
    pub default: Option<Value>,
    pub example: Option<Value>,
    pub pointer: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EnumValue {
    pub wire: String,
    /// The Rust variant name (set by the naming pass).
    pub name: String,
}

/// A type as used by a field, parameter or body.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub enum TypeExpr {
    Named(TypeId),
    Scalar(Scalar),
    Array(Box<TypeExpr>),
    /// A JSON object with arbitrary keys: `map[string]T`.
    Map(Box<TypeExpr>),
    /// An array item or map value that may be `null` (`x-nullable` on `items` or
    /// `additionalProperties`); fields carry their nullability themselves.
    Nullable(Box<TypeExpr>),
    /// Any JSON value (the spec leaves the shape open).
    Any,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum Scalar {
    String,
    /// Raw bytes (`format: binary`), used by bodies that are not JSON.
    Binary,
    Bool,
    I8,
    I16,
    I32,
    I64,
    U8,
    U16,
    U32,
    U64,
    F32,
    F64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub enum Method {
    Get,
    Head,
    Post,
    Put,
    Delete,
    Patch,
    Options,
    Trace,
}

impl Method {
    pub fn parse(text: &str) -> Option<Method> {
        Some(match text.to_ascii_lowercase().as_str() {
            "get" => Method::Get,
            "head" => Method::Head,
            "post" => Method::Post,
            "put" => Method::Put,
            "delete" => Method::Delete,
            "patch" => Method::Patch,
            "options" => Method::Options,
            "trace" => Method::Trace,
            _ => return None,
        })
    }
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Head => "HEAD",
            Method::Post => "POST",
            Method::Put => "PUT",
            Method::Delete => "DELETE",
            Method::Patch => "PATCH",
            Method::Options => "OPTIONS",
            Method::Trace => "TRACE",
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Operation {
    /// `operationId`, e.g. `ContainerList`.
    pub id: String,
    /// What the Rust code calls it (methods, parameter and reply types): an `x-rust-name`
    /// annotation where upstream renamed an operation, so one name holds across versions;
    /// otherwise `id`.
    pub name: String,
    pub method: Method,
    /// Path template as in the spec, e.g. `/containers/{id}/json`.
    pub path: String,
    /// The first tag (Docker uses one per operation); decides the server trait.
    pub tag: Option<String>,
    pub summary: Option<String>,
    pub description: Option<String>,
    pub deprecated: bool,
    pub parameters: Vec<Parameter>,
    pub request_body: Option<RequestBody>,
    pub responses: Vec<Response>,
    /// Effective `produces` / `consumes` of the Swagger operation.
    pub produces: Vec<String>,
    pub consumes: Vec<String>,
    pub pointer: String,
    /// The Rust names of what is generated for it (set by the naming pass).
    pub rust: OperationNames,
}

/// The Rust names of an operation's generated items, decided once by the naming pass so
/// that every emitter prints the same ones.
#[derive(Debug, Clone, Default, Serialize)]
pub struct OperationNames {
    /// The client method and the server trait method: `container_list`.
    pub method: String,
    /// The struct of query and header parameters: `ContainerListParams`.
    pub params: String,
    /// The server's request struct: `ContainerListRequest`.
    pub request: String,
    /// The server's reply enum: `ContainerListReply`.
    pub reply: String,
    /// The client's enum of answers, for an operation with several success statuses
    /// ([`Operation::outcomes`]): `ContainerStartOutcome`.
    pub outcome: Option<String>,
    /// The server trait of its tag: `ContainerApi`.
    pub service: String,
}

impl Operation {
    /// The query and header parameters, in spec order.
    pub fn non_path_params(&self) -> impl Iterator<Item = &Parameter> {
        self.parameters.iter().filter(|p| p.location != ParamLocation::Path)
    }

    /// The path parameters, in spec order.
    pub fn path_params(&self) -> impl Iterator<Item = &Parameter> {
        self.parameters.iter().filter(|p| p.location == ParamLocation::Path)
    }

    /// Whether the connection is upgraded (attach, exec start, session).
    pub fn upgrades(&self) -> bool {
        self.responses.iter().any(|r| r.content == ContentKind::Upgrade)
    }

    /// The statuses of an operation that answers a success in several ways the caller must
    /// tell apart (`204` started, `304` already running), each a plain document or nothing:
    /// the client returns an enum of them. `None` for every other operation.
    pub fn outcomes(&self) -> Option<Vec<&Response>> {
        if self.upgrades() {
            return None;
        }
        let successes: Vec<&Response> = self.responses.iter().filter(|r| r.is_success()).collect();
        let plain = successes.iter().all(|r| matches!(r.content, ContentKind::Empty | ContentKind::Json | ContentKind::Text));
        (successes.len() > 1 && plain).then_some(successes)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum ParamLocation {
    Path,
    Query,
    Header,
}

#[derive(Debug, Clone, Serialize)]
pub struct Parameter {
    pub wire_name: String,
    /// The Rust name (set by the naming pass).
    pub name: String,
    pub location: ParamLocation,
    pub ty: TypeExpr,
    pub required: bool,
    /// `x-moby-secret` (spec/annotations/secrets.yaml): a credential or build arguments,
    /// kept out of `Debug` output.
    pub secret: bool,
    pub description: Option<String>,
    pub default: Option<Value>,
    /// Swagger `collectionFormat` of array parameters (`csv`, `multi`, …).
    pub collection_format: Option<String>,
}

/// How a body travels: decides the decoder or encoder the runtime uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ContentKind {
    /// No body.
    Empty,
    /// One JSON document.
    Json,
    /// One JSON document that follows the status and headers only when a condition is met
    /// (ContainerWait: the daemon flushes 200 at once, then long-polls). The Go client
    /// sends the wait before starting the container and waits for those headers.
    DeferredJson,
    /// One JSON document per line (events, stats).
    JsonLines,
    /// JSON progress messages (pull, push, build, load …), errors arrive as `errorDetail`.
    JsonProgress,
    /// stdout/stderr frames (8-byte headers), raw bytes when the container has a TTY.
    Multiplexed,
    /// A tar archive.
    Tar,
    /// Other opaque bytes.
    Binary,
    /// Plain text.
    Text,
    /// The connection is upgraded (hijacked) and becomes a raw duplex stream.
    Upgrade,
}

impl ContentKind {
    pub fn parse(text: &str) -> Option<ContentKind> {
        Some(match text {
            "empty" => ContentKind::Empty,
            "json" => ContentKind::Json,
            "deferred-json" => ContentKind::DeferredJson,
            "json-lines" => ContentKind::JsonLines,
            "json-progress" => ContentKind::JsonProgress,
            "multiplexed" => ContentKind::Multiplexed,
            "tar" => ContentKind::Tar,
            "binary" => ContentKind::Binary,
            "text" => ContentKind::Text,
            "upgrade" => ContentKind::Upgrade,
            _ => return None,
        })
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct RequestBody {
    /// The Swagger body parameter's name (`body`, `container`, `inputStream` …).
    pub name: Option<String>,
    pub description: Option<String>,
    pub required: bool,
    pub content: ContentKind,
    pub media_types: Vec<String>,
    /// The JSON type, for JSON bodies.
    pub ty: Option<TypeExpr>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub enum Status {
    Code(u16),
    Default,
}

#[derive(Debug, Clone, Serialize)]
pub struct Response {
    pub status: Status,
    /// The variant of the reply (and outcome) enum for this status, after its reason
    /// phrase: `NotModified` for 304 (set by the naming pass).
    pub variant: String,
    pub description: Option<String>,
    pub content: ContentKind,
    pub media_types: Vec<String>,
    /// The document type (JSON) or the item type (JSON lines, progress).
    pub ty: Option<TypeExpr>,
    /// For JSON progress: the type of the messages' `aux`, the item type's `aux` member
    /// where the spec gives one (ImageBuild's `BuildInfo.aux`: `ImageID`, from 1.36). The
    /// client's progress stream reads `aux` as it.
    pub aux: Option<TypeExpr>,
    pub headers: Vec<ResponseHeader>,
}

impl Response {
    /// A 2xx or 3xx status.
    pub fn is_success(&self) -> bool {
        matches!(self.status, Status::Code(200..=399))
    }

    /// Whether the answer is a path's stat in the `X-Docker-Container-Path-Stat` header
    /// (`HEAD /containers/{id}/archive`), which the client decodes.
    pub fn carries_path_stat(&self) -> bool {
        self.headers.iter().any(|h| h.name.eq_ignore_ascii_case("X-Docker-Container-Path-Stat"))
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct ResponseHeader {
    /// The header's name on the wire.
    pub name: String,
    /// The Rust field that carries it (set by the naming pass).
    pub field: String,
    pub ty: TypeExpr,
    pub description: Option<String>,
}
