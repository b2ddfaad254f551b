//! What changed between two API versions, computed from their IR.
//!
//! Operations are matched by method and path, parameters by location and wire name, types
//! by Rust name (stable across versions: inline types are named after where they sit),
//! fields by wire name. The result is a flat, sorted list of changes that reads as
//! Markdown or serializes as JSON; `diff(b, a)` is exactly the inverse of `diff(a, b)`.

use std::collections::BTreeMap;
use std::fmt::Write;

use serde::Serialize;

use crate::ir::history::operation_key;
use crate::ir::{ApiSpec, ContentKind, Field, Operation, Parameter, Rest, Scalar, Status, TypeExpr, TypeKind};
use crate::version::ApiVersion;

#[derive(Debug, Clone, Serialize)]
pub struct Diff {
    pub from: ApiVersion,
    pub to: ApiVersion,
    pub changes: Vec<Change>,
}

/// One difference. `operation` is `METHOD /path`; types are named as in Rust.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(tag = "change", rename_all = "kebab-case")]
pub enum Change {
    OperationAdded { operation: String, id: String },
    OperationRemoved { operation: String, id: String },
    OperationRenamed { operation: String, from: String, to: String },
    ParameterAdded { operation: String, location: String, name: String, ty: String, required: bool },
    ParameterRemoved { operation: String, location: String, name: String, ty: String, required: bool },
    ParameterChanged { operation: String, location: String, name: String, aspect: String, from: String, to: String },
    RequestBodyChanged { operation: String, aspect: String, from: String, to: String },
    ResponseAdded { operation: String, status: String, content: String },
    ResponseRemoved { operation: String, status: String, content: String },
    ResponseChanged { operation: String, status: String, aspect: String, from: String, to: String },
    ResponseHeaderAdded { operation: String, status: String, header: String, ty: String },
    ResponseHeaderRemoved { operation: String, status: String, header: String, ty: String },
    TypeAdded { type_name: String },
    TypeRemoved { type_name: String },
    TypeChanged { type_name: String, aspect: String, from: String, to: String },
    FieldAdded { type_name: String, field: String, ty: String, required: bool },
    FieldRemoved { type_name: String, field: String, ty: String, required: bool },
    FieldChanged { type_name: String, field: String, aspect: String, from: String, to: String },
    EnumValueAdded { type_name: String, value: String },
    EnumValueRemoved { type_name: String, value: String },
}

impl Change {
    /// The same change seen from the other side.
    pub fn inverse(&self) -> Change {
        use Change::*;
        let swap = |from: &String, to: &String| (to.clone(), from.clone());
        match self.clone() {
            OperationAdded { operation, id } => OperationRemoved { operation, id },
            OperationRemoved { operation, id } => OperationAdded { operation, id },
            OperationRenamed { operation, from, to } => OperationRenamed { operation, from: to, to: from },
            ParameterAdded { operation, location, name, ty, required } => ParameterRemoved { operation, location, name, ty, required },
            ParameterRemoved { operation, location, name, ty, required } => ParameterAdded { operation, location, name, ty, required },
            ParameterChanged { operation, location, name, aspect, from, to } => {
                let (from, to) = swap(&from, &to);
                ParameterChanged { operation, location, name, aspect, from, to }
            }
            RequestBodyChanged { operation, aspect, from, to } => RequestBodyChanged { operation, aspect, from: to, to: from },
            ResponseAdded { operation, status, content } => ResponseRemoved { operation, status, content },
            ResponseRemoved { operation, status, content } => ResponseAdded { operation, status, content },
            ResponseChanged { operation, status, aspect, from, to } => ResponseChanged { operation, status, aspect, from: to, to: from },
            ResponseHeaderAdded { operation, status, header, ty } => ResponseHeaderRemoved { operation, status, header, ty },
            ResponseHeaderRemoved { operation, status, header, ty } => ResponseHeaderAdded { operation, status, header, ty },
            TypeAdded { type_name } => TypeRemoved { type_name },
            TypeRemoved { type_name } => TypeAdded { type_name },
            TypeChanged { type_name, aspect, from, to } => TypeChanged { type_name, aspect, from: to, to: from },
            FieldAdded { type_name, field, ty, required } => FieldRemoved { type_name, field, ty, required },
            FieldRemoved { type_name, field, ty, required } => FieldAdded { type_name, field, ty, required },
            FieldChanged { type_name, field, aspect, from, to } => FieldChanged { type_name, field, aspect, from: to, to: from },
            EnumValueAdded { type_name, value } => EnumValueRemoved { type_name, value },
            EnumValueRemoved { type_name, value } => EnumValueAdded { type_name, value },
        }
    }

    /// The operation or type the change is about, for grouping.
    pub fn subject(&self) -> &str {
        use Change::*;
        match self {
            OperationAdded { operation, .. }
            | OperationRemoved { operation, .. }
            | OperationRenamed { operation, .. }
            | ParameterAdded { operation, .. }
            | ParameterRemoved { operation, .. }
            | ParameterChanged { operation, .. }
            | RequestBodyChanged { operation, .. }
            | ResponseAdded { operation, .. }
            | ResponseRemoved { operation, .. }
            | ResponseChanged { operation, .. }
            | ResponseHeaderAdded { operation, .. }
            | ResponseHeaderRemoved { operation, .. } => operation,
            TypeAdded { type_name }
            | TypeRemoved { type_name }
            | TypeChanged { type_name, .. }
            | FieldAdded { type_name, .. }
            | FieldRemoved { type_name, .. }
            | FieldChanged { type_name, .. }
            | EnumValueAdded { type_name, .. }
            | EnumValueRemoved { type_name, .. } => type_name,
        }
    }
}

/// A language-neutral rendering of a type for diffs: `string`, `int64`, `[Mount]`, `map[string]string`.
pub fn describe(spec: &ApiSpec, ty: &TypeExpr) -> String {
    match ty {
        TypeExpr::Named(id) => spec.ty(*id).name.clone(),
        TypeExpr::Scalar(s) => match s {
            Scalar::String => "string",
            Scalar::Binary => "binary",
            Scalar::Bool => "boolean",
            Scalar::I8 => "int8",
            Scalar::I16 => "int16",
            Scalar::I32 => "int32",
            Scalar::I64 => "int64",
            Scalar::U8 => "uint8",
            Scalar::U16 => "uint16",
            Scalar::U32 => "uint32",
            Scalar::U64 => "uint64",
            Scalar::F32 => "float",
            Scalar::F64 => "double",
        }
        .to_string(),
        TypeExpr::Array(t) => format!("[{}]", describe(spec, t)),
        TypeExpr::Map(t) => format!("map[string]{}", describe(spec, t)),
        TypeExpr::Nullable(t) => format!("{}?", describe(spec, t)),
        TypeExpr::Any => "any".into(),
    }
}

fn content(kind: ContentKind) -> String {
    serde_json::to_value(kind).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default()
}

fn status(s: Status) -> String {
    match s {
        Status::Code(c) => c.to_string(),
        Status::Default => "default".into(),
    }
}

fn location(p: &Parameter) -> String {
    format!("{:?}", p.location).to_lowercase()
}

/// Everything that changed from `a` to `b`.
pub fn diff(a: &ApiSpec, b: &ApiSpec) -> Diff {
    let mut changes = Vec::new();
    let (ops_a, ops_b) = (operations_by_key(a), operations_by_key(b));
    for (key, oa) in &ops_a {
        match ops_b.get(key) {
            None => changes.push(Change::OperationRemoved { operation: key.clone(), id: oa.id.clone() }),
            Some(ob) => operation_changes(a, b, key, oa, ob, &mut changes),
        }
    }
    for (key, ob) in &ops_b {
        if !ops_a.contains_key(key) {
            changes.push(Change::OperationAdded { operation: key.clone(), id: ob.id.clone() });
        }
    }
    let (types_a, types_b) = (types_by_name(a), types_by_name(b));
    for (name, ta) in &types_a {
        let Some(tb) = types_b.get(name) else {
            changes.push(Change::TypeRemoved { type_name: name.to_string() });
            continue;
        };
        let type_name = name.to_string();
        match (&ta.kind, &tb.kind) {
            (TypeKind::Struct { fields: fa, rest: Rest { declared: xa, .. } }, TypeKind::Struct { fields: fb, rest: Rest { declared: xb, .. } }) => {
                for f in fa {
                    match fb.iter().find(|g| g.wire_name == f.wire_name) {
                        None => changes.push(Change::FieldRemoved {
                            type_name: type_name.clone(),
                            field: f.wire_name.clone(),
                            ty: describe(a, &f.ty),
                            required: f.required,
                        }),
                        Some(g) => field_changes(a, b, &type_name, f, g, &mut changes),
                    }
                }
                for g in fb {
                    if !fa.iter().any(|f| f.wire_name == g.wire_name) {
                        changes.push(Change::FieldAdded {
                            type_name: type_name.clone(),
                            field: g.wire_name.clone(),
                            ty: describe(b, &g.ty),
                            required: g.required,
                        });
                    }
                }
                let extra = |s: &ApiSpec, x: &Option<TypeExpr>| x.as_ref().map(|t| describe(s, t)).unwrap_or_else(|| "none".into());
                let (ea, eb) = (extra(a, xa), extra(b, xb));
                if ea != eb {
                    changes.push(Change::TypeChanged { type_name, aspect: "additional members".into(), from: ea, to: eb });
                }
            }
            (TypeKind::Enum { values: va, default: da }, TypeKind::Enum { values: vb, default: db }) => {
                for v in va.iter().filter(|v| !vb.iter().any(|w| w.wire == v.wire)) {
                    changes.push(Change::EnumValueRemoved { type_name: type_name.clone(), value: v.wire.clone() });
                }
                for v in vb.iter().filter(|v| !va.iter().any(|w| w.wire == v.wire)) {
                    changes.push(Change::EnumValueAdded { type_name: type_name.clone(), value: v.wire.clone() });
                }
                if da != db {
                    let show = |d: &Option<String>| d.clone().map(|d| format!("{d:?}")).unwrap_or_else(|| "none".into());
                    changes.push(Change::TypeChanged { type_name, aspect: "default".into(), from: show(da), to: show(db) });
                }
            }
            (TypeKind::Alias(x), TypeKind::Alias(y)) => {
                let (dx, dy) = (describe(a, x), describe(b, y));
                if dx != dy {
                    changes.push(Change::TypeChanged { type_name, aspect: "type".into(), from: dx, to: dy });
                }
            }
            (ka, kb) => {
                changes.push(Change::TypeChanged { type_name, aspect: "kind".into(), from: kind_name(ka).into(), to: kind_name(kb).into() })
            }
        }
    }
    for name in types_b.keys() {
        if !types_a.contains_key(name) {
            changes.push(Change::TypeAdded { type_name: name.to_string() });
        }
    }
    changes.sort();
    Diff { from: a.version, to: b.version, changes }
}

fn operations_by_key(s: &ApiSpec) -> BTreeMap<String, &Operation> {
    s.operations.iter().map(|o| (operation_key(o), o)).collect()
}

fn types_by_name(s: &ApiSpec) -> BTreeMap<&str, &crate::ir::TypeDef> {
    s.types.iter().map(|t| (t.name.as_str(), t)).collect()
}

fn kind_name(k: &TypeKind) -> &'static str {
    match k {
        TypeKind::Struct { .. } => "object",
        TypeKind::Enum { .. } => "enum",
        TypeKind::Alias(_) => "alias",
    }
}

fn field_changes(a: &ApiSpec, b: &ApiSpec, type_name: &str, f: &Field, g: &Field, out: &mut Vec<Change>) {
    let mut push = |aspect: &str, from: String, to: String| {
        if from != to {
            out.push(Change::FieldChanged {
                type_name: type_name.to_string(),
                field: f.wire_name.clone(),
                aspect: aspect.into(),
                from,
                to,
            });
        }
    };
    push("type", describe(a, &f.ty), describe(b, &g.ty));
    push("required", f.required.to_string(), g.required.to_string());
    push("nullable", f.nullable.to_string(), g.nullable.to_string());
    let show = |d: &Option<serde_json::Value>| d.as_ref().map(|d| d.to_string()).unwrap_or_else(|| "none".into());
    push("default", show(&f.default), show(&g.default));
}

fn operation_changes(a: &ApiSpec, b: &ApiSpec, key: &str, oa: &Operation, ob: &Operation, out: &mut Vec<Change>) {
    let operation = key.to_string();
    if oa.id != ob.id {
        out.push(Change::OperationRenamed { operation: operation.clone(), from: oa.id.clone(), to: ob.id.clone() });
    }
    let same = |p: &Parameter, q: &Parameter| p.location == q.location && p.wire_name == q.wire_name;
    for p in &oa.parameters {
        match ob.parameters.iter().find(|q| same(p, q)) {
            None => out.push(Change::ParameterRemoved {
                operation: operation.clone(),
                location: location(p),
                name: p.wire_name.clone(),
                ty: describe(a, &p.ty),
                required: p.required,
            }),
            Some(q) => {
                let show = |d: &Option<serde_json::Value>| d.as_ref().map(|d| d.to_string()).unwrap_or_else(|| "none".into());
                for (aspect, from, to) in [
                    ("type", describe(a, &p.ty), describe(b, &q.ty)),
                    ("required", p.required.to_string(), q.required.to_string()),
                    ("default", show(&p.default), show(&q.default)),
                ] {
                    if from != to {
                        out.push(Change::ParameterChanged {
                            operation: operation.clone(),
                            location: location(p),
                            name: p.wire_name.clone(),
                            aspect: aspect.into(),
                            from,
                            to,
                        });
                    }
                }
            }
        }
    }
    for q in &ob.parameters {
        if !oa.parameters.iter().any(|p| same(p, q)) {
            out.push(Change::ParameterAdded {
                operation: operation.clone(),
                location: location(q),
                name: q.wire_name.clone(),
                ty: describe(b, &q.ty),
                required: q.required,
            });
        }
    }
    let body = |s: &ApiSpec, o: &Operation| -> (String, String) {
        match &o.request_body {
            None => ("none".into(), "none".into()),
            Some(rb) => (content(rb.content), rb.ty.as_ref().map(|t| describe(s, t)).unwrap_or_else(|| "none".into())),
        }
    };
    let ((ca, ta), (cb, tb)) = (body(a, oa), body(b, ob));
    if ca != cb {
        out.push(Change::RequestBodyChanged { operation: operation.clone(), aspect: "content".into(), from: ca, to: cb });
    }
    if ta != tb {
        out.push(Change::RequestBodyChanged { operation: operation.clone(), aspect: "type".into(), from: ta, to: tb });
    }
    for ra in &oa.responses {
        let st = status(ra.status);
        match ob.responses.iter().find(|rb| rb.status == ra.status) {
            None => out.push(Change::ResponseRemoved { operation: operation.clone(), status: st, content: content(ra.content) }),
            Some(rb) => {
                let ty = |s: &ApiSpec, t: &Option<TypeExpr>| t.as_ref().map(|t| describe(s, t)).unwrap_or_else(|| "none".into());
                // Header names are case-insensitive on the wire.
                let same = |x: &str, y: &str| x.eq_ignore_ascii_case(y);
                for h in ra.headers.iter().filter(|h| !rb.headers.iter().any(|g| same(&g.name, &h.name))) {
                    out.push(Change::ResponseHeaderRemoved { operation: operation.clone(), status: st.clone(), header: h.name.clone(), ty: describe(a, &h.ty) });
                }
                for h in rb.headers.iter().filter(|h| !ra.headers.iter().any(|g| same(&g.name, &h.name))) {
                    out.push(Change::ResponseHeaderAdded { operation: operation.clone(), status: st.clone(), header: h.name.clone(), ty: describe(b, &h.ty) });
                }
                for (aspect, from, to) in [("content", content(ra.content), content(rb.content)), ("type", ty(a, &ra.ty), ty(b, &rb.ty))] {
                    if from != to {
                        out.push(Change::ResponseChanged {
                            operation: operation.clone(),
                            status: st.clone(),
                            aspect: aspect.into(),
                            from,
                            to,
                        });
                    }
                }
            }
        }
    }
    for rb in &ob.responses {
        if !oa.responses.iter().any(|ra| ra.status == rb.status) {
            out.push(Change::ResponseAdded { operation: operation.clone(), status: status(rb.status), content: content(rb.content) });
        }
    }
}

impl Diff {
    pub fn is_empty(&self) -> bool {
        self.changes.is_empty()
    }

    /// Markdown: operations first, then types, one line per change.
    pub fn to_markdown(&self) -> String {
        let mut out = format!("# Docker Engine API changes from v{} to v{}\n\n", self.from, self.to);
        if self.changes.is_empty() {
            out.push_str("No differences.\n");
            return out;
        }
        let is_op = |c: &&Change| {
            matches!(
                c,
                Change::OperationAdded { .. }
                    | Change::OperationRemoved { .. }
                    | Change::OperationRenamed { .. }
                    | Change::ParameterAdded { .. }
                    | Change::ParameterRemoved { .. }
                    | Change::ParameterChanged { .. }
                    | Change::RequestBodyChanged { .. }
                    | Change::ResponseAdded { .. }
                    | Change::ResponseRemoved { .. }
                    | Change::ResponseChanged { .. }
                    | Change::ResponseHeaderAdded { .. }
                    | Change::ResponseHeaderRemoved { .. }
            )
        };
        let ops: Vec<&Change> = self.changes.iter().filter(is_op).collect();
        let types: Vec<&Change> = self.changes.iter().filter(|c| !is_op(c)).collect();
        let _ = writeln!(out, "{} changes: {} to operations, {} to types.\n", self.changes.len(), ops.len(), types.len());
        for (title, group) in [("Operations", ops), ("Types", types)] {
            if group.is_empty() {
                continue;
            }
            let _ = writeln!(out, "## {title}\n");
            for c in group {
                let _ = writeln!(out, "- {}", line(c));
            }
            out.push('\n');
        }
        out
    }
}

fn optional(required: bool) -> &'static str {
    if required {
        "required"
    } else {
        "optional"
    }
}

/// One change as a sentence.
pub fn line(c: &Change) -> String {
    use Change::*;
    match c {
        OperationAdded { operation, id } => format!("added `{operation}` ({id})"),
        OperationRemoved { operation, id } => format!("removed `{operation}` ({id})"),
        OperationRenamed { operation, from, to } => format!("`{operation}`: operation id `{from}` → `{to}`"),
        ParameterAdded { operation, location, name, ty, required } => {
            format!("`{operation}`: {location} parameter `{name}` added ({ty}, {})", optional(*required))
        }
        ParameterRemoved { operation, location, name, ty, required } => {
            format!("`{operation}`: {location} parameter `{name}` removed ({ty}, {})", optional(*required))
        }
        ParameterChanged { operation, location, name, aspect, from, to } => {
            format!("`{operation}`: {location} parameter `{name}` {aspect} {from} → {to}")
        }
        RequestBodyChanged { operation, aspect, from, to } => format!("`{operation}`: request body {aspect} {from} → {to}"),
        ResponseAdded { operation, status, content } => format!("`{operation}`: response {status} added ({content})"),
        ResponseRemoved { operation, status, content } => format!("`{operation}`: response {status} removed ({content})"),
        ResponseChanged { operation, status, aspect, from, to } => format!("`{operation}`: response {status} {aspect} {from} → {to}"),
        ResponseHeaderAdded { operation, status, header, ty } => format!("`{operation}`: response {status} header `{header}` added ({ty})"),
        ResponseHeaderRemoved { operation, status, header, ty } => format!("`{operation}`: response {status} header `{header}` removed ({ty})"),
        TypeAdded { type_name } => format!("added type `{type_name}`"),
        TypeRemoved { type_name } => format!("removed type `{type_name}`"),
        TypeChanged { type_name, aspect, from, to } => format!("`{type_name}`: {aspect} {from} → {to}"),
        FieldAdded { type_name, field, ty, required } => format!("`{type_name}.{field}` added ({ty}, {})", optional(*required)),
        FieldRemoved { type_name, field, ty, required } => format!("`{type_name}.{field}` removed ({ty}, {})", optional(*required)),
        FieldChanged { type_name, field, aspect, from, to } => format!("`{type_name}.{field}`: {aspect} {from} → {to}"),
        EnumValueAdded { type_name, value } => format!("`{type_name}`: value `{value}` added"),
        EnumValueRemoved { type_name, value } => format!("`{type_name}`: value `{value}` removed"),
    }
}
