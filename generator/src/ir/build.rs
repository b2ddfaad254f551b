//! Builds the IR of one version from its OpenAPI 3.0 document.
//!
//! Every definition gets a [`TypeId`] before anything is converted, so forward and
//! recursive references resolve; `allOf` is merged into one struct (fields in spec order,
//! referenced parts first); inline schemas become types with a name hint for the naming
//! pass. Problems are collected as located diagnostics and never panic.

use indexmap::IndexMap;
use openapiv3::{
    AdditionalProperties, IntegerFormat, NumberFormat, OpenAPI, ParameterSchemaOrContent, ReferenceOr, Schema, SchemaKind, StringFormat,
    Type, VariantOrUnknownOrEmpty,
};

use serde_json::Value;

use super::model::*;
use crate::diagnostics::{pointer_push, Diagnostic, Diagnostics};
use crate::version::ApiVersion;

/// Builds the IR of `api`; `source` labels diagnostics (the upstream file).
pub fn build(api: &OpenAPI, version: ApiVersion, source: &str) -> Result<ApiSpec, Diagnostics> {
    let mut b = Builder { api, file: source, types: Vec::new(), defs: IndexMap::new(), problems: Diagnostics::default() };
    b.declare_definitions();
    let names: Vec<String> = b.defs.keys().cloned().collect();
    for name in &names {
        b.ensure_definition(name);
    }
    let operations = b.operations();
    mark_boxed_cycles(&mut b.types);
    let Builder { types, problems, .. } = b;
    problems.into_result(ApiSpec { version, source: source.to_string(), operations, types })
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum DefState {
    Declared,
    Building,
    Built,
}

struct Builder<'a> {
    api: &'a OpenAPI,
    file: &'a str,
    types: Vec<TypeDef>,
    defs: IndexMap<String, (TypeId, DefState)>,
    problems: Diagnostics,
}

/// The facts of a schema the IR needs, the same whether openapiv3 parsed it as a typed
/// schema or (for mixed forms such as `allOf` plus `properties`) as an "any" schema.
struct Shape<'s> {
    typ: Option<&'s str>,
    format: Option<String>,
    properties: Option<&'s IndexMap<String, ReferenceOr<Box<Schema>>>>,
    required: &'s [String],
    additional: Option<&'s AdditionalProperties>,
    items: Option<&'s ReferenceOr<Box<Schema>>>,
    enum_values: Vec<Value>,
    all_of: &'s [ReferenceOr<Schema>],
    unsupported: Option<&'static str>,
}

fn fmt_name<T: std::fmt::Debug>(f: &VariantOrUnknownOrEmpty<T>, known: impl Fn(&T) -> &'static str) -> Option<String> {
    match f {
        VariantOrUnknownOrEmpty::Item(i) => Some(known(i).to_string()),
        VariantOrUnknownOrEmpty::Unknown(s) => Some(s.clone()),
        VariantOrUnknownOrEmpty::Empty => None,
    }
}

impl<'s> Shape<'s> {
    fn of(schema: &'s Schema) -> Shape<'s> {
        let mut s = Shape {
            typ: None,
            format: None,
            properties: None,
            required: &[],
            additional: None,
            items: None,
            enum_values: Vec::new(),
            all_of: &[],
            unsupported: None,
        };
        match &schema.schema_kind {
            SchemaKind::Type(Type::String(t)) => {
                s.typ = Some("string");
                s.format = fmt_name(&t.format, |f| match f {
                    StringFormat::Date => "date",
                    StringFormat::DateTime => "date-time",
                    StringFormat::Password => "password",
                    StringFormat::Byte => "byte",
                    StringFormat::Binary => "binary",
                });
                s.enum_values = t.enumeration.iter().map(|v| v.clone().map(Value::String).unwrap_or(Value::Null)).collect();
            }
            SchemaKind::Type(Type::Number(t)) => {
                s.typ = Some("number");
                s.format = fmt_name(&t.format, |f| match f {
                    NumberFormat::Float => "float",
                    NumberFormat::Double => "double",
                });
            }
            SchemaKind::Type(Type::Integer(t)) => {
                s.typ = Some("integer");
                s.format = fmt_name(&t.format, |f| match f {
                    IntegerFormat::Int32 => "int32",
                    IntegerFormat::Int64 => "int64",
                });
                s.enum_values = t.enumeration.iter().map(|v| v.map(Value::from).unwrap_or(Value::Null)).collect();
            }
            SchemaKind::Type(Type::Boolean(_)) => s.typ = Some("boolean"),
            SchemaKind::Type(Type::Object(t)) => {
                s.typ = Some("object");
                s.properties = Some(&t.properties);
                s.required = &t.required;
                s.additional = t.additional_properties.as_ref();
            }
            SchemaKind::Type(Type::Array(t)) => {
                s.typ = Some("array");
                s.items = t.items.as_ref();
            }
            SchemaKind::AllOf { all_of } => s.all_of = all_of,
            SchemaKind::OneOf { .. } => s.unsupported = Some("oneOf"),
            SchemaKind::AnyOf { .. } => s.unsupported = Some("anyOf"),
            SchemaKind::Not { .. } => s.unsupported = Some("not"),
            SchemaKind::Any(a) => {
                s.typ = a.typ.as_deref();
                s.format = a.format.clone();
                s.properties = (!a.properties.is_empty()).then_some(&a.properties);
                s.required = &a.required;
                s.additional = a.additional_properties.as_ref();
                s.items = a.items.as_ref();
                s.enum_values = a.enumeration.clone();
                s.all_of = &a.all_of;
                if !a.one_of.is_empty() {
                    s.unsupported = Some("oneOf");
                } else if !a.any_of.is_empty() {
                    s.unsupported = Some("anyOf");
                }
            }
        }
        s
    }

    fn is_struct(&self) -> bool {
        !self.all_of.is_empty() || self.properties.is_some_and(|p| !p.is_empty())
    }

    fn is_string_enum(&self) -> bool {
        !self.enum_values.is_empty()
            && matches!(self.typ, Some("string") | None)
            && self.enum_values.iter().all(|v| v.is_string() || v.is_null())
    }
}

/// `#/components/schemas/X` → `X`.
fn ref_name(reference: &str) -> Option<&str> {
    reference.strip_prefix("#/components/schemas/")
}

fn rust_name_override(schema: &Schema) -> Option<String> {
    schema.schema_data.extensions.get("x-rust-name").and_then(Value::as_str).map(str::to_owned)
}

/// Field-level facts that travel with a use of a type rather than with the type.
#[derive(Default)]
struct UseFacts {
    description: Option<String>,
    nullable: bool,
    read_only: bool,
    secret: bool,
    format: Option<String>,
    default: Option<Value>,
    example: Option<Value>,
}

impl Builder<'_> {
    fn error(&mut self, pointer: &str, message: impl Into<String>) {
        self.problems.push(Diagnostic::new(self.file, pointer, message));
    }

    fn declare_definitions(&mut self) {
        let Some(components) = &self.api.components else { return };
        for (name, schema) in &components.schemas {
            let id = TypeId(self.types.len());
            let name_override = match schema {
                ReferenceOr::Item(s) => rust_name_override(s),
                ReferenceOr::Reference { .. } => None,
            };
            self.types.push(TypeDef {
                name: String::new(),
                name_hint: vec![name.clone()],
                name_override,
                origin: TypeOrigin::Definition(name.clone()),
                pointer: pointer_push("/definitions", name),
                description: None,
                kind: TypeKind::Alias(TypeExpr::Any),
            });
            self.defs.insert(name.clone(), (id, DefState::Declared));
        }
    }

    /// Builds a definition once; `None` when it is being built (an `allOf` cycle).
    fn ensure_definition(&mut self, name: &str) -> Option<TypeId> {
        let (id, state) = *self.defs.get(name)?;
        match state {
            DefState::Built => return Some(id),
            DefState::Building => return None,
            DefState::Declared => {}
        }
        self.defs.insert(name.to_string(), (id, DefState::Building));
        let api = self.api;
        let schema = &api.components.as_ref().expect("declared definitions come from components").schemas[name];
        let ptr = pointer_push("/definitions", name);
        let hint = vec![name.to_string()];
        let (description, kind) = match schema {
            ReferenceOr::Reference { reference } => (None, TypeKind::Alias(self.reference(reference, &ptr))),
            ReferenceOr::Item(schema) => (schema.schema_data.description.clone(), self.definition_kind(schema, &ptr, &hint)),
        };
        let def = &mut self.types[id.0];
        def.description = description;
        def.kind = kind;
        self.defs.insert(name.to_string(), (id, DefState::Built));
        Some(id)
    }

    fn definition_kind(&mut self, schema: &Schema, ptr: &str, hint: &[String]) -> TypeKind {
        let shape = Shape::of(schema);
        if let Some(r) = single_ref(&shape) {
            return TypeKind::Alias(self.reference(r, &format!("{ptr}/allOf/0")));
        }
        if shape.is_struct() {
            return self.struct_kind(schema, ptr, hint);
        }
        if shape.is_string_enum() {
            return enum_kind(&shape, schema);
        }
        TypeKind::Alias(self.shape_expr(schema, &shape, ptr, hint))
    }

    fn reference(&mut self, reference: &str, ptr: &str) -> TypeExpr {
        match ref_name(reference).and_then(|n| self.defs.get(n)) {
            Some((id, _)) => TypeExpr::Named(*id),
            None => {
                self.error(ptr, format!("reference `{reference}` does not resolve to a definition"));
                TypeExpr::Any
            }
        }
    }

    /// The type of a schema used in place (property, items, parameter, body…).
    fn expr_of(&mut self, schema: &ReferenceOr<impl std::borrow::Borrow<Schema>>, ptr: &str, hint: &[String]) -> (TypeExpr, UseFacts) {
        match schema {
            ReferenceOr::Reference { reference } => (self.reference(reference, &pointer_push(ptr, "$ref")), UseFacts::default()),
            ReferenceOr::Item(schema) => {
                let schema: &Schema = std::borrow::Borrow::borrow(schema);
                let data = &schema.schema_data;
                let shape = Shape::of(schema);
                let facts = UseFacts {
                    description: data.description.clone(),
                    nullable: data.nullable,
                    read_only: data.read_only,
                    secret: is_secret(&data.extensions),
                    format: shape.format.clone().filter(|f| {
                        !matches!(
                            f.as_str(),
                            "int8" | "int16" | "int32" | "int64" | "uint8" | "uint16" | "uint32" | "uint64" | "double" | "float" | "binary"
                        )
                    }),
                    default: data.default.clone(),
                    example: data.example.clone(),
                };
                if let Some(r) = single_ref(&shape) {
                    return (self.reference(r, &format!("{ptr}/allOf/0")), facts);
                }
                (self.shape_expr(schema, &shape, ptr, hint), facts)
            }
        }
    }

    fn shape_expr(&mut self, schema: &Schema, shape: &Shape<'_>, ptr: &str, hint: &[String]) -> TypeExpr {
        if let Some(what) = shape.unsupported {
            self.error(ptr, format!("`{what}` is not supported (Swagger 2.0 has no such construct)"));
            return TypeExpr::Any;
        }
        if shape.is_struct() {
            let kind = self.struct_kind(schema, ptr, hint);
            return self.inline_type(schema, ptr, hint, kind);
        }
        if shape.is_string_enum() {
            let kind = enum_kind(shape, schema);
            return self.inline_type(schema, ptr, hint, kind);
        }
        match shape.typ {
            Some("string") => TypeExpr::Scalar(if shape.format.as_deref() == Some("binary") { Scalar::Binary } else { Scalar::String }),
            Some("boolean") => TypeExpr::Scalar(Scalar::Bool),
            Some("integer") => TypeExpr::Scalar(match shape.format.as_deref() {
                Some("int8") => Scalar::I8,
                Some("int16") => Scalar::I16,
                Some("int32") => Scalar::I32,
                Some("uint8") => Scalar::U8,
                Some("uint16") => Scalar::U16,
                Some("uint32") => Scalar::U32,
                Some("uint64") => Scalar::U64,
                // Go's `int` is 64-bit and the engine sends negative values (-1), so no
                // format means i64, never a platform-sized or unsigned type.
                _ => Scalar::I64,
            }),
            Some("number") => TypeExpr::Scalar(if shape.format.as_deref() == Some("float") { Scalar::F32 } else { Scalar::F64 }),
            Some("array") => match shape.items {
                Some(items) => {
                    let (item, facts) = self.expr_of(items, &pointer_push(ptr, "items"), &with(hint, "Item"));
                    TypeExpr::Array(Box::new(nullable_if(item, facts.nullable)))
                }
                None => TypeExpr::Array(Box::new(TypeExpr::Any)),
            },
            Some("object") | None if shape.typ.is_some() || shape.additional.is_some() => match shape.additional {
                Some(AdditionalProperties::Schema(value)) => {
                    let (value, facts) = self.expr_of(value, &pointer_push(ptr, "additionalProperties"), &with(hint, "Value"));
                    TypeExpr::Map(Box::new(nullable_if(value, facts.nullable)))
                }
                _ => TypeExpr::Map(Box::new(TypeExpr::Any)),
            },
            None => TypeExpr::Any,
            Some(other) => {
                self.error(&pointer_push(ptr, "type"), format!("unknown type `{other}`"));
                TypeExpr::Any
            }
        }
    }

    fn inline_type(&mut self, schema: &Schema, ptr: &str, hint: &[String], kind: TypeKind) -> TypeExpr {
        let id = TypeId(self.types.len());
        self.types.push(TypeDef {
            name: String::new(),
            name_hint: hint.to_vec(),
            name_override: rust_name_override(schema),
            origin: TypeOrigin::Inline,
            pointer: ptr.to_string(),
            description: schema.schema_data.description.clone(),
            kind,
        });
        TypeExpr::Named(id)
    }

    fn struct_kind(&mut self, schema: &Schema, ptr: &str, hint: &[String]) -> TypeKind {
        let mut fields: Vec<Field> = Vec::new();
        let mut additional = None;
        self.collect_fields(schema, ptr, hint, &mut fields, &mut additional);
        TypeKind::Struct { fields, rest: Rest { declared: additional, name: String::new() } }
    }

    /// Appends the fields of `schema` (its `allOf` parts first, then its own properties).
    fn collect_fields(&mut self, schema: &Schema, ptr: &str, hint: &[String], fields: &mut Vec<Field>, additional: &mut Option<TypeExpr>) {
        let shape = Shape::of(schema);
        for (i, part) in shape.all_of.iter().enumerate() {
            let part_ptr = format!("{ptr}/allOf/{i}");
            match part {
                ReferenceOr::Reference { reference } => {
                    let Some(name) = ref_name(reference).filter(|n| self.defs.contains_key(*n)) else {
                        self.error(&pointer_push(&part_ptr, "$ref"), format!("reference `{reference}` does not resolve to a definition"));
                        continue;
                    };
                    let Some(mut id) = self.ensure_definition(name) else {
                        self.error(&part_ptr, format!("`allOf` cycle: `{name}` includes itself"));
                        continue;
                    };
                    // A definition that only wraps another (`allOf: [$ref]`) contributes that one's fields.
                    let mut hops = 0;
                    while let TypeKind::Alias(TypeExpr::Named(target)) = self.types[id.0].kind {
                        let TypeOrigin::Definition(target_name) = self.types[target.0].origin.clone() else { break };
                        hops += 1;
                        match self.ensure_definition(&target_name) {
                            Some(next) if hops <= self.types.len() => id = next,
                            _ => {
                                self.error(&part_ptr, format!("`allOf` cycle: `{name}` includes itself through `{target_name}`"));
                                break;
                            }
                        }
                    }
                    match &self.types[id.0].kind {
                        TypeKind::Struct { fields: inherited, rest } => {
                            let (inherited, extra) = (inherited.clone(), rest.declared.clone());
                            for f in inherited {
                                upsert(fields, f);
                            }
                            if extra.is_some() {
                                *additional = extra;
                            }
                        }
                        _ => self.error(&part_ptr, format!("`allOf` part `{name}` is not an object")),
                    }
                }
                ReferenceOr::Item(inner) => self.collect_fields(inner, &part_ptr, hint, fields, additional),
            }
        }
        if let Some(props) = shape.properties {
            for (wire, prop) in props {
                let f_ptr = pointer_push(&pointer_push(ptr, "properties"), wire);
                let (ty, facts) = self.expr_of(prop, &f_ptr, &with(hint, wire));
                upsert(
                    fields,
                    Field {
                        wire_name: wire.clone(),
                        name: String::new(),
                        ty,
                        required: false,
                        nullable: facts.nullable,
                        boxed: false,
                        read_only: facts.read_only,
                        secret: facts.secret,
                        description: facts.description,
                        format: facts.format,
                        default: facts.default,
                        example: facts.example,
                        pointer: f_ptr,
                    },
                );
            }
        }
        for r in shape.required {
            match fields.iter_mut().find(|f| &f.wire_name == r) {
                Some(f) => f.required = true,
                None => self.error(&pointer_push(ptr, "required"), format!("required property `{r}` is not defined")),
            }
        }
        if let Some(AdditionalProperties::Schema(value)) = shape.additional {
            if shape.properties.is_some() {
                let (v, _) = self.expr_of(value, &pointer_push(ptr, "additionalProperties"), &with(hint, "Value"));
                *additional = Some(v);
            }
        }
    }

    fn operations(&mut self) -> Vec<Operation> {
        let api = self.api;
        let mut ops: Vec<Operation> = Vec::new();
        let mut seen: IndexMap<String, String> = IndexMap::new();
        for (path, item) in api.paths.iter() {
            let path_ptr = pointer_push("/paths", path);
            let ReferenceOr::Item(item) = item else {
                self.error(&path_ptr, "path item references are not supported");
                continue;
            };
            for (method, op) in item.iter() {
                let ptr = pointer_push(&path_ptr, method);
                let Some(id) = op.operation_id.clone() else {
                    self.error(&ptr, "operation without `operationId`");
                    continue;
                };
                if let Some(first) = seen.get(&id) {
                    self.error(&pointer_push(&ptr, "operationId"), format!("duplicate operationId `{id}` (also at {first})"));
                    continue;
                }
                seen.insert(id.clone(), ptr.clone());
                let method = Method::parse(method).expect("PathItem::iter yields known methods");
                let operation = self.operation(&id, method, path, op, &ptr);
                // A Rust name from `x-rust-name` must not be another operation's: the
                // generated methods and types would clash.
                if operation.name != id {
                    if let Some(first) = seen.get(&operation.name) {
                        let message = format!("`x-rust-name` `{}` is already the name of the operation at {first}", operation.name);
                        self.error(&pointer_push(&ptr, "x-rust-name"), message);
                        continue;
                    }
                    seen.insert(operation.name.clone(), ptr.clone());
                }
                ops.push(operation);
            }
        }
        ops
    }

    fn operation(&mut self, id: &str, method: Method, path: &str, op: &openapiv3::Operation, ptr: &str) -> Operation {
        let list = |key: &str| -> Vec<String> {
            op.extensions
                .get(key)
                .and_then(Value::as_array)
                .map(|a| a.iter().filter_map(|v| v.as_str().map(str::to_owned)).collect())
                .unwrap_or_default()
        };
        let (produces, consumes) = (list("x-produces"), list("x-consumes"));
        let mut parameters = Vec::new();
        for p in &op.parameters {
            let ReferenceOr::Item(p) = p else {
                self.error(&format!("{ptr}/parameters"), "parameter references are not supported");
                continue;
            };
            let data = p.parameter_data_ref();
            let p_ptr = format!("{ptr}/parameters[name={}]", data.name);
            let location = match p {
                openapiv3::Parameter::Path { .. } => ParamLocation::Path,
                openapiv3::Parameter::Query { .. } => ParamLocation::Query,
                openapiv3::Parameter::Header { .. } => ParamLocation::Header,
                openapiv3::Parameter::Cookie { .. } => {
                    self.error(&p_ptr, "cookie parameters are not supported");
                    continue;
                }
            };
            let (ty, facts) = match &data.format {
                ParameterSchemaOrContent::Schema(s) => self.expr_of(s, &p_ptr, &[id.to_string(), data.name.clone()]),
                ParameterSchemaOrContent::Content(_) => {
                    self.error(&p_ptr, "parameters with `content` are not supported");
                    (TypeExpr::Any, UseFacts::default())
                }
            };
            parameters.push(Parameter {
                wire_name: data.name.clone(),
                name: String::new(),
                location,
                ty,
                required: data.required,
                secret: is_secret(&data.extensions),
                description: data.description.clone(),
                default: facts.default,
                collection_format: data.extensions.get("x-collection-format").and_then(Value::as_str).map(str::to_owned),
            });
        }
        if path.contains('{') {
            for segment in path.split('{').skip(1) {
                let name = segment.split('}').next().unwrap_or_default();
                if !parameters.iter().any(|p| p.location == ParamLocation::Path && p.wire_name == name) {
                    self.error(ptr, format!("path parameter `{name}` of `{path}` is not declared"));
                }
            }
        }

        let request_body = match &op.request_body {
            None => None,
            Some(ReferenceOr::Reference { .. }) => {
                self.error(&format!("{ptr}/requestBody"), "request body references are not supported");
                None
            }
            Some(ReferenceOr::Item(body)) => {
                let b_ptr = format!("{ptr}/parameters[in=body]");
                let media_types: Vec<String> = body.content.keys().cloned().collect();
                let media = body.content.get("application/json").or_else(|| body.content.values().next());
                let schema = media.and_then(|m| m.schema.as_ref());
                let ty = schema.map(|s| self.expr_of(s, &format!("{b_ptr}/schema"), &[id.to_string(), "Body".to_string()]).0);
                let content = match body.extensions.get("x-moby-content") {
                    Some(k) => self.content_kind_of(k, &b_ptr),
                    None => infer_content(&media_types, ty.as_ref(), false),
                };
                let ty = ty.filter(|_| {
                    matches!(content, ContentKind::Json | ContentKind::DeferredJson | ContentKind::JsonLines | ContentKind::JsonProgress)
                });
                Some(RequestBody {
                    name: body.extensions.get("x-body-name").and_then(Value::as_str).map(str::to_owned),
                    description: body.description.clone(),
                    required: body.required,
                    content,
                    media_types,
                    ty,
                })
            }
        };

        let mut responses = Vec::new();
        if let Some(default) = &op.responses.default {
            if let Some(r) = self.response(id, Status::Default, default, &format!("{ptr}/responses/default")) {
                responses.push(r);
            }
        }
        for (code, resp) in &op.responses.responses {
            let status = match code {
                openapiv3::StatusCode::Code(c) => Status::Code(*c),
                openapiv3::StatusCode::Range(r) => {
                    self.error(&format!("{ptr}/responses"), format!("status ranges ({r}XX) are not supported"));
                    continue;
                }
            };
            if let Some(r) = self.response(id, status, resp, &format!("{ptr}/responses/{code}")) {
                responses.push(r);
            }
        }
        responses.sort_by_key(|r| r.status);

        let name = match op.extensions.get("x-rust-name") {
            None => id.to_string(),
            Some(Value::String(name)) => name.clone(),
            Some(other) => {
                self.error(&format!("{ptr}/x-rust-name"), format!("`x-rust-name` must be a string, not {other}"));
                id.to_string()
            }
        };
        Operation {
            id: id.to_string(),
            name,
            method,
            path: path.to_string(),
            tag: op.tags.first().cloned(),
            summary: op.summary.clone(),
            description: op.description.clone(),
            deprecated: op.deprecated,
            parameters,
            request_body,
            responses,
            produces,
            consumes,
            pointer: ptr.to_string(),
            rust: OperationNames::default(),
        }
    }

    fn content_kind_of(&mut self, value: &Value, ptr: &str) -> ContentKind {
        match value.as_str().and_then(ContentKind::parse) {
            Some(k) => k,
            None => {
                self.error(&pointer_push(ptr, "x-moby-content"), format!("unknown content kind {value}"));
                ContentKind::Binary
            }
        }
    }

    fn response(&mut self, op_id: &str, status: Status, resp: &ReferenceOr<openapiv3::Response>, ptr: &str) -> Option<Response> {
        let ReferenceOr::Item(resp) = resp else {
            self.error(ptr, "response references are not supported");
            return None;
        };
        let media_types: Vec<String> = resp.content.keys().cloned().collect();
        let media = resp.content.get("application/json").or_else(|| resp.content.values().next());
        let hint: Vec<String> = match status {
            Status::Code(200 | 201) => vec![op_id.to_string(), "Response".into()],
            Status::Code(c) => vec![op_id.to_string(), "Response".into(), c.to_string()],
            Status::Default => vec![op_id.to_string(), "Response".into(), "Default".into()],
        };
        let mut ty = media.and_then(|m| m.schema.as_ref()).map(|s| self.expr_of(s, &format!("{ptr}/schema"), &hint).0);
        let content = match resp.extensions.get("x-moby-content") {
            Some(k) => self.content_kind_of(k, ptr),
            None => infer_content(&media_types, ty.as_ref(), status == Status::Code(101)),
        };
        if let Some(item) = resp.extensions.get("x-moby-item") {
            ty = match item.as_str() {
                Some(name) => Some(self.reference(&format!("#/components/schemas/{name}"), &pointer_push(ptr, "x-moby-item"))),
                None => {
                    self.error(&pointer_push(ptr, "x-moby-item"), "`x-moby-item` names a definition");
                    None
                }
            };
        }
        let ty = match content {
            ContentKind::Json | ContentKind::DeferredJson | ContentKind::JsonLines | ContentKind::JsonProgress => ty,
            ContentKind::Text => Some(TypeExpr::Scalar(Scalar::String)),
            _ => None,
        };
        let mut headers = Vec::new();
        for (name, h) in &resp.headers {
            let h_ptr = pointer_push(&format!("{ptr}/headers"), name);
            let ReferenceOr::Item(h) = h else {
                self.error(&h_ptr, "header references are not supported");
                continue;
            };
            let ty = match &h.format {
                ParameterSchemaOrContent::Schema(s) => self.expr_of(s, &h_ptr, &with(&hint, name)).0,
                ParameterSchemaOrContent::Content(_) => TypeExpr::Scalar(Scalar::String),
            };
            headers.push(ResponseHeader { name: name.clone(), field: String::new(), ty, description: h.description.clone() });
        }
        Some(Response {
            status,
            variant: String::new(),
            description: Some(resp.description.clone()).filter(|d| !d.is_empty()),
            content,
            media_types,
            ty,
            headers,
        })
    }
}

/// A schema that only wraps one `$ref` (how the upgrade keeps `$ref` siblings).
fn single_ref<'s>(shape: &Shape<'s>) -> Option<&'s str> {
    match shape.all_of {
        [ReferenceOr::Reference { reference }]
            if shape.properties.is_none_or(|p| p.is_empty()) && matches!(shape.typ, None | Some("object")) =>
        {
            Some(reference)
        }
        _ => None,
    }
}

fn enum_kind(shape: &Shape<'_>, schema: &Schema) -> TypeKind {
    let mut values: Vec<EnumValue> = Vec::new();
    for v in &shape.enum_values {
        // `null` in an enum list means "may be absent", which the field's Option already says.
        if let Some(s) = v.as_str() {
            if !values.iter().any(|e| e.wire == s) {
                values.push(EnumValue { wire: s.to_string(), name: String::new() });
            }
        }
    }
    let default = schema.schema_data.default.as_ref().and_then(Value::as_str).map(str::to_owned);
    TypeKind::Enum { values, default }
}

fn infer_content(media_types: &[String], ty: Option<&TypeExpr>, upgrade: bool) -> ContentKind {
    let has = |t: &str| media_types.iter().any(|m| m == t);
    if upgrade {
        return ContentKind::Upgrade;
    }
    match ty {
        None => ContentKind::Empty,
        Some(TypeExpr::Scalar(Scalar::Binary)) if has("application/x-tar") => ContentKind::Tar,
        Some(TypeExpr::Scalar(Scalar::Binary)) => ContentKind::Binary,
        Some(_) if has("application/json") || media_types.is_empty() => ContentKind::Json,
        Some(_) if has("text/plain") => ContentKind::Text,
        Some(_) => ContentKind::Json,
    }
}

fn nullable_if(ty: TypeExpr, nullable: bool) -> TypeExpr {
    if nullable {
        TypeExpr::Nullable(Box::new(ty))
    } else {
        ty
    }
}

fn with(hint: &[String], part: &str) -> Vec<String> {
    let mut h = hint.to_vec();
    h.push(part.to_string());
    h
}

/// Adds a field, or replaces one with the same wire name in place (a later `allOf` part wins).
fn upsert(fields: &mut Vec<Field>, field: Field) {
    match fields.iter_mut().find(|f| f.wire_name == field.wire_name) {
        Some(existing) => {
            let required = existing.required;
            *existing = field;
            existing.required |= required;
        }
        None => fields.push(field),
    }
}

/// Marks fields that would make a type contain itself by value; they get a `Box`.
fn mark_boxed_cycles(types: &mut [TypeDef]) {
    fn direct_targets(ty: &TypeExpr) -> Option<TypeId> {
        match ty {
            TypeExpr::Named(id) => Some(*id),
            _ => None,
        }
    }
    fn reaches(types: &[TypeDef], from: TypeId, goal: TypeId, seen: &mut Vec<bool>) -> bool {
        if from == goal {
            return true;
        }
        if std::mem::replace(&mut seen[from.0], true) {
            return false;
        }
        match &types[from.0].kind {
            TypeKind::Struct { fields, .. } => {
                fields.iter().filter(|f| !f.boxed).filter_map(|f| direct_targets(&f.ty)).any(|t| reaches(types, t, goal, seen))
            }
            TypeKind::Alias(ty) => direct_targets(ty).is_some_and(|t| reaches(types, t, goal, seen)),
            TypeKind::Enum { .. } => false,
        }
    }
    for owner in 0..types.len() {
        let TypeKind::Struct { fields, .. } = &types[owner].kind else { continue };
        let candidates: Vec<(usize, TypeId)> =
            fields.iter().enumerate().filter_map(|(i, f)| direct_targets(&f.ty).map(|t| (i, t))).collect();
        for (i, target) in candidates {
            let mut seen = vec![false; types.len()];
            if reaches(types, target, TypeId(owner), &mut seen) {
                if let TypeKind::Struct { fields, .. } = &mut types[owner].kind {
                    fields[i].boxed = true;
                }
            }
        }
    }
}

/// `x-moby-secret: true` (spec/annotations/secrets.yaml).
fn is_secret(extensions: &indexmap::IndexMap<String, Value>) -> bool {
    extensions.get("x-moby-secret").and_then(Value::as_bool).unwrap_or(false)
}
