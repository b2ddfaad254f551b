//! Operation classes: which of an operation's generated items are identical across
//! versions, found like the type classes, so that each is emitted once for the versions
//! that share it.
//!
//! Every item has a signature: its Rust names and wire shape, with type references written
//! as their type class (so an item changes exactly when a type it uses changes), and no
//! descriptions (the newest wording is emitted). Equal signatures are one class. An
//! operation has up to four items, each classed on its own, so that the part that did not
//! change stays one Rust type while its neighbours change:
//!
//! - params: the query and header parameters (`ContainerListParams`);
//! - request: method, path, path parameters, params and body (the server's
//!   `ContainerListRequest`, the client's request builder);
//! - reply: the responses (the server's `ContainerListReply`, the roundtrip decoder);
//! - outcome: the success statuses of an operation that has several (`ContainerStartOutcome`);
//! - method: the client's method (`Client::container_list`), a macro each version
//!   expands, so classed by its text: the names it uses (of its params, body, answer and
//!   outcome types, not their classes) and how it sends and reads.
//!
//! A tag's server trait is one more class: the names, request and reply classes of its
//! operations (`ContainerApi`).

use std::collections::HashMap;
use std::fmt::Write;

use serde::Serialize;

use super::{expr_signature, module_name};
use crate::ir::model::*;
use crate::version::VersionSet;

/// One class of an operation item: emitted once, in `module`, for `versions`.
#[derive(Debug, Clone, Serialize)]
pub struct SharedItem {
    /// The Rust name it is emitted under (`ContainerListParams`, `ContainerApi`).
    pub name: String,
    pub versions: VersionSet,
    /// The module under `shared/` that holds everything used by exactly `versions`.
    pub module: String,
    /// The newest version using it (index into [`History::specs`](super::History::specs)):
    /// its descriptions are the ones emitted.
    pub spec: usize,
    /// Its operation in that spec (index into `operations`); for a trait, its first one.
    pub op: usize,
}

/// The classes of one kind of item and the class of every `(spec, operation)` that has one.
#[derive(Debug, Clone, Default)]
pub struct ItemClasses {
    pub classes: Vec<SharedItem>,
    of: HashMap<(usize, usize), usize>,
}

impl ItemClasses {
    /// The class of operation `op` of spec `spec`; `None` when it has no such item.
    pub fn of(&self, spec: usize, op: usize) -> Option<&SharedItem> {
        self.of.get(&(spec, op)).map(|&c| &self.classes[c])
    }

    fn index(&self, spec: usize, op: usize) -> Option<usize> {
        self.of.get(&(spec, op)).copied()
    }
}

/// Every kind of operation item, classed.
#[derive(Debug, Clone, Default)]
pub struct OperationClasses {
    pub params: ItemClasses,
    pub requests: ItemClasses,
    pub replies: ItemClasses,
    pub outcomes: ItemClasses,
    /// The client's methods, named as the method (`container_list`).
    pub methods: ItemClasses,
    /// Server traits, one per tag; every operation of a tag maps to its trait's class.
    pub services: ItemClasses,
}

impl OperationClasses {
    /// Classes the operations of `specs`, whose types are classed by `type_class`.
    pub fn new(specs: &[ApiSpec], type_class: &HashMap<(usize, TypeId), usize>) -> OperationClasses {
        let ty = |s: usize, t: &TypeExpr, out: &mut String| expr_signature(t, out, &|id| type_class[&(s, id)].to_string());
        let params = classify(specs, |s, _, op| {
            let mut sig = op.rust.params.clone();
            let mut any = false;
            for p in op.non_path_params() {
                any = true;
                let _ = write!(sig, "|{:?}:{}={}/{}:", p.location, p.wire_name, p.name, p.required);
                ty(s, &p.ty, &mut sig);
            }
            any.then(|| (op.rust.params.clone(), sig))
        });
        let requests = classify(specs, |s, o, op| {
            let mut sig = format!("{}|{}|{} {}|", op.rust.request, op.name, op.method.as_str(), op.path);
            for p in op.path_params() {
                let _ = write!(sig, "{}={};", p.wire_name, p.name);
            }
            let _ = write!(sig, "|params={:?}|", params.index(s, o));
            if let Some(b) = &op.request_body {
                let _ = write!(sig, "{:?}/{}/{}:", b.content, b.required, b.media_types.join(","));
                if let Some(t) = &b.ty {
                    ty(s, t, &mut sig);
                }
            }
            Some((op.rust.request.clone(), sig))
        });
        let replies = classify(specs, |s, _, op| {
            // The error body too: the decoder answers the statuses the spec does not list with it.
            let error = specs[s].error_type().map(|e| type_class[&(s, e)]);
            let mut sig = format!("{}|error={error:?}", op.rust.reply);
            for r in &op.responses {
                response_signature(s, r, &mut sig, &ty);
                for h in &r.headers {
                    let _ = write!(sig, "{}={}:", h.name, h.field);
                    ty(s, &h.ty, &mut sig);
                }
            }
            Some((op.rust.reply.clone(), sig))
        });
        let outcomes = classify(specs, |s, _, op| {
            let name = op.rust.outcome.clone()?;
            let mut sig = name.clone();
            for r in op.outcomes()? {
                response_signature(s, r, &mut sig, &ty);
            }
            Some((name, sig))
        });
        // A method is a macro expanded in each version's module, where the names it uses
        // are that version's items: it is identical wherever its text is, so its signature
        // is the names and kinds the text is made of, not the classes behind them.
        let name = |s: usize, t: &TypeExpr, out: &mut String| expr_signature(t, out, &|id| specs[s].ty(id).name.clone());
        let methods = classify(specs, |s, o, op| {
            // The renamed note of its docs names the version's `operationId`.
            let mut sig = format!("{}|{}|{}|{} {}|", op.rust.method, op.id, op.deprecated, op.method.as_str(), op.path);
            for p in op.path_params() {
                let _ = write!(sig, "{},", p.name);
            }
            let _ = write!(sig, "|params={}|", params.index(s, o).is_some());
            if let Some(b) = &op.request_body {
                let _ = write!(sig, "{:?}:", b.content);
                if let Some(t) = &b.ty {
                    name(s, t, &mut sig);
                }
            }
            // What it reads the answer as: the connection, the outcome enum, or the first success.
            let outcome = op.rust.outcome.as_ref().filter(|_| outcomes.index(s, o).is_some());
            if op.upgrades() {
                sig.push_str("|upgrades");
            } else if let Some(outcome) = outcome {
                let _ = write!(sig, "|outcome={outcome}");
            } else if let Some(r) = op.responses.iter().find(|r| r.is_success()) {
                let _ = write!(sig, "|{:?}/path stat={}:", r.content, r.carries_path_stat());
                for (part, t) in [("type", &r.ty), ("aux", &r.aux)] {
                    if let Some(t) = t {
                        let _ = write!(sig, "{part}=");
                        name(s, t, &mut sig);
                    }
                }
            }
            Some((op.rust.method.clone(), sig))
        });
        // A trait is keyed by its tag's operations in spec order.
        let mut service_sigs: HashMap<(usize, &str), String> = HashMap::new();
        for (s, spec) in specs.iter().enumerate() {
            for (o, op) in spec.operations.iter().enumerate() {
                let sig = service_sigs.entry((s, op.rust.service.as_str())).or_insert_with(|| op.rust.service.clone());
                let _ = write!(sig, "|{}/{}/{}/{:?}/{:?}", op.rust.method, op.id, op.deprecated, requests.index(s, o), replies.index(s, o));
            }
        }
        let services = classify(specs, |s, _, op| Some((op.rust.service.clone(), service_sigs[&(s, op.rust.service.as_str())].clone())));
        OperationClasses { params, requests, replies, outcomes, methods, services }
    }
}

fn response_signature(s: usize, r: &Response, sig: &mut String, ty: &impl Fn(usize, &TypeExpr, &mut String)) {
    let _ = write!(sig, "|{:?}={}/{:?}:", r.status, r.variant, r.content);
    if let Some(t) = &r.ty {
        ty(s, t, sig);
    }
}

/// Groups the operations of every spec by `signature` (given the spec index, the
/// operation's index and the operation; it returns the item's Rust name
/// and signature, or `None` when the operation has no such item). Classes are numbered by
/// name, then first version; each remembers its newest operation.
fn classify(specs: &[ApiSpec], signature: impl Fn(usize, usize, &Operation) -> Option<(String, String)>) -> ItemClasses {
    let mut by_signature: HashMap<String, usize> = HashMap::new();
    let mut found: Vec<SharedItem> = Vec::new();
    let mut of: HashMap<(usize, usize), usize> = HashMap::new();
    for (s, spec) in specs.iter().enumerate() {
        for (o, op) in spec.operations.iter().enumerate() {
            let Some((name, sig)) = signature(s, o, op) else { continue };
            let next = found.len();
            let c = *by_signature.entry(sig).or_insert(next);
            if c == next {
                found.push(SharedItem { name, versions: VersionSet::EMPTY, module: String::new(), spec: s, op: o });
            }
            // Specs are oldest first: the last one seen is the newest.
            let item = &mut found[c];
            item.versions.insert(spec.version);
            (item.spec, item.op) = (s, o);
            of.insert((s, o), c);
        }
    }
    let mut order: Vec<usize> = (0..found.len()).collect();
    order.sort_by(|&a, &b| (&found[a].name, found[a].versions.first()).cmp(&(&found[b].name, found[b].versions.first())));
    let mut renumber = vec![0; found.len()];
    for (new, &old) in order.iter().enumerate() {
        renumber[old] = new;
    }
    let classes = order
        .iter()
        .map(|&old| {
            let mut item = found[old].clone();
            item.module = module_name(item.versions);
            item
        })
        .collect();
    ItemClasses { classes, of: of.into_iter().map(|(k, c)| (k, renumber[c])).collect() }
}
