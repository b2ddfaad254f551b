//! Relates the versions: where each operation, parameter, field and enum value exists, and
//! which types and operation items are identical across versions so they are emitted once
//! and shared ([`operations`]).

pub mod operations;

use std::collections::HashMap;
use std::fmt::Write;

use indexmap::IndexMap;
use serde::Serialize;

use super::model::*;
use crate::version::{ApiVersion, VersionSet};

/// All versions' IR plus what relates them.
#[derive(Debug, Clone)]
pub struct History {
    /// One spec per version, oldest first.
    pub specs: Vec<ApiSpec>,
    /// `"GET /containers/json"` → versions that have it.
    pub operations: IndexMap<String, OperationHistory>,
    /// Rust type name → versions, fields and enum values.
    pub types: IndexMap<String, TypeHistory>,
    /// Groups of identical types; each is emitted once.
    pub shared: Vec<SharedType>,
    /// `(spec index, type) → index into shared`.
    pub class_of: HashMap<(usize, TypeId), usize>,
    /// Groups of identical operation items (parameters, requests, replies, outcomes,
    /// server traits); each is emitted once, like the types.
    pub ops: operations::OperationClasses,
}

#[derive(Debug, Clone, Serialize)]
pub struct OperationHistory {
    pub versions: VersionSet,
    /// operationId per version run (Docker renamed some in 1.28).
    pub ids: IndexMap<String, VersionSet>,
    /// Parameter (by `location:wire name`) → versions.
    pub parameters: IndexMap<String, VersionSet>,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct TypeHistory {
    pub versions: VersionSet,
    pub fields: IndexMap<String, VersionSet>,
    pub values: IndexMap<String, VersionSet>,
}

/// One distinct shape of a named type, used unchanged by `versions`.
#[derive(Debug, Clone, Serialize)]
pub struct SharedType {
    pub name: String,
    pub versions: VersionSet,
    /// The module under `shared/` that holds everything used by exactly `versions`.
    pub module: String,
    /// The newest version using it: its descriptions are the ones emitted.
    pub spec: usize,
    pub id: TypeId,
}

pub fn operation_key(op: &Operation) -> String {
    format!("{} {}", op.method.as_str(), op.path)
}

/// The key of a parameter in [`OperationHistory::parameters`]: `query:all`, `header:x-registry-auth`.
pub fn parameter_key(p: &crate::ir::Parameter) -> String {
    format!("{:?}:{}", p.location, p.wire_name).to_lowercase()
}

impl History {
    pub fn new(specs: Vec<ApiSpec>) -> History {
        let mut operations: IndexMap<String, OperationHistory> = IndexMap::new();
        let mut types: IndexMap<String, TypeHistory> = IndexMap::new();
        for spec in &specs {
            let v = spec.version;
            for op in &spec.operations {
                let h = operations.entry(operation_key(op)).or_insert_with(|| OperationHistory {
                    versions: VersionSet::EMPTY,
                    ids: IndexMap::new(),
                    parameters: IndexMap::new(),
                });
                h.versions.insert(v);
                h.ids.entry(op.id.clone()).or_default().insert(v);
                for p in &op.parameters {
                    h.parameters.entry(parameter_key(p)).or_default().insert(v);
                }
            }
            for t in &spec.types {
                let h = types.entry(t.name.clone()).or_default();
                h.versions.insert(v);
                match &t.kind {
                    TypeKind::Struct { fields, .. } => {
                        for f in fields {
                            h.fields.entry(f.wire_name.clone()).or_default().insert(v);
                        }
                    }
                    TypeKind::Enum { values, .. } => {
                        for e in values {
                            h.values.entry(e.wire.clone()).or_default().insert(v);
                        }
                    }
                    TypeKind::Alias(_) => {}
                }
            }
        }
        operations.sort_by(|a, _, b, _| a.cmp(b));
        types.sort_by(|a, _, b, _| a.cmp(b));
        let (shared, class_of) = share_identical_types(&specs);
        let ops = operations::OperationClasses::new(&specs, &class_of);
        History { specs, operations, types, shared, class_of, ops }
    }

    pub fn versions(&self) -> impl Iterator<Item = ApiVersion> + '_ {
        self.specs.iter().map(|s| s.version)
    }

    /// The versions this history holds (all 26 for the real inputs, one for a fixture spec).
    pub fn covered(&self) -> VersionSet {
        self.versions().collect()
    }

    pub fn spec(&self, v: ApiVersion) -> Option<&ApiSpec> {
        self.specs.iter().find(|s| s.version == v)
    }

    /// Every module of `shared/` (types and operation items), by name, with its versions.
    pub fn shared_modules(&self) -> std::collections::BTreeMap<String, VersionSet> {
        let types = self.shared.iter().map(|c| (c.module.clone(), c.versions));
        let ops = &self.ops;
        let items = [&ops.params, &ops.requests, &ops.replies, &ops.outcomes, &ops.methods, &ops.services]
            .into_iter()
            .flat_map(|kind| kind.classes.iter().map(|c| (c.module.clone(), c.versions)));
        types.chain(items).collect()
    }

    /// The operation an operation item was classed from (the newest of its class).
    pub fn operation_of(&self, item: &operations::SharedItem) -> &Operation {
        &self.specs[item.spec].operations[item.op]
    }

    /// The shared class of a type of spec `spec_index`.
    pub fn class(&self, spec_index: usize, id: TypeId) -> &SharedType {
        &self.shared[self.class_of[&(spec_index, id)]]
    }
}

/// Partition refinement: start from types that look alike locally (same name and shape,
/// references compared by name), then split groups whose references fall in different
/// groups, until stable. Cycles need no special care. Descriptions are not compared:
/// the newest wording is emitted for all versions of a shape.
fn share_identical_types(specs: &[ApiSpec]) -> (Vec<SharedType>, HashMap<(usize, TypeId), usize>) {
    let items: Vec<(usize, TypeId)> =
        specs.iter().enumerate().flat_map(|(s, spec)| (0..spec.types.len()).map(move |t| (s, TypeId(t)))).collect();
    let mut class: HashMap<(usize, TypeId), usize> = HashMap::with_capacity(items.len());
    let mut count = 0usize;
    let mut first = true;
    loop {
        let mut ids: HashMap<String, usize> = HashMap::new();
        let mut next: HashMap<(usize, TypeId), usize> = HashMap::with_capacity(items.len());
        for &(s, t) in &items {
            let mut sig = String::new();
            if !first {
                // Keep the previous split: refinement never merges groups again.
                let _ = write!(sig, "{}|", class[&(s, t)]);
            }
            signature(&specs[s], t, &mut sig, |id| if first { specs[s].ty(id).name.clone() } else { class[&(s, id)].to_string() });
            let n = ids.len();
            next.insert((s, t), *ids.entry(sig).or_insert(n));
        }
        let new_count = ids.len();
        class = next;
        if !first && new_count == count {
            break;
        }
        count = new_count;
        first = false;
    }
    // Number the classes in a stable order: by name, then by first version.
    let mut groups: HashMap<usize, (String, VersionSet, usize, TypeId)> = HashMap::new();
    for &(s, t) in &items {
        let g = groups.entry(class[&(s, t)]).or_insert_with(|| (specs[s].ty(t).name.clone(), VersionSet::EMPTY, s, t));
        g.1.insert(specs[s].version);
        if s > g.2 {
            g.2 = s;
            g.3 = t;
        }
    }
    let mut ordered: Vec<(usize, (String, VersionSet, usize, TypeId))> = groups.into_iter().collect();
    ordered.sort_by(|a, b| (&a.1 .0, a.1 .1.first()).cmp(&(&b.1 .0, b.1 .1.first())));
    let mut renumber: HashMap<usize, usize> = HashMap::new();
    let mut shared = Vec::with_capacity(ordered.len());
    for (i, (old, (name, versions, spec, id))) in ordered.into_iter().enumerate() {
        renumber.insert(old, i);
        shared.push(SharedType { name, module: module_name(versions), versions, spec, id });
    }
    let class_of = class.into_iter().map(|(k, c)| (k, renumber[&c])).collect();
    (shared, class_of)
}

/// The module under `shared/` for what is used by exactly `versions`: `v1_32_to_v1_41`.
pub fn module_name(versions: VersionSet) -> String {
    versions.ident()
}

/// Writes the shape of a type (not its docs) with references rendered by `refer`.
fn signature(spec: &ApiSpec, id: TypeId, out: &mut String, refer: impl Fn(TypeId) -> String) {
    let t = spec.ty(id);
    let _ = write!(out, "{}:", t.name);
    match &t.kind {
        TypeKind::Struct { fields, rest } => {
            out.push_str("struct{");
            for f in fields {
                let _ = write!(out, "{}={}/{}/{}/{}/{}:", f.wire_name, f.name, f.required, f.nullable, f.boxed, f.secret);
                expr_signature(&f.ty, out, &refer);
                out.push(';');
            }
            let _ = write!(out, "..{}:", rest.name);
            if let Some(a) = &rest.declared {
                expr_signature(a, out, &refer);
            }
            out.push('}');
        }
        TypeKind::Enum { values, default } => {
            let _ = write!(out, "enum{{{:?}}}", default);
            for v in values {
                let _ = write!(out, "{}={};", v.wire, v.name);
            }
        }
        TypeKind::Alias(ty) => {
            out.push_str("alias=");
            expr_signature(ty, out, &refer);
        }
    }
}

pub(crate) fn expr_signature(ty: &TypeExpr, out: &mut String, refer: &impl Fn(TypeId) -> String) {
    match ty {
        TypeExpr::Named(id) => {
            out.push('#');
            out.push_str(&refer(*id));
        }
        TypeExpr::Scalar(s) => {
            let _ = write!(out, "{s:?}");
        }
        TypeExpr::Array(t) => {
            out.push('[');
            expr_signature(t, out, refer);
            out.push(']');
        }
        TypeExpr::Map(t) => {
            out.push('{');
            expr_signature(t, out, refer);
            out.push('}');
        }
        TypeExpr::Nullable(t) => {
            out.push('?');
            expr_signature(t, out, refer);
        }
        TypeExpr::Any => out.push('*'),
    }
}
