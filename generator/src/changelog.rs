//! The IR diff of each version held against that version's section of upstream's
//! `CHANGELOG.md`: which changelog items the diff confirms, which it cannot see (behaviour,
//! filters, headers, …), and which diff changes no item mentions.
//!
//! A missed change is a generator bug until proven otherwise, so matching favours
//! precision. An item confirms a change, and the change counts as mentioned, when:
//!
//! - **endpoint**: the item names the change's operation, or — for type, field and enum
//!   changes — an operation from which the type is reachable in either version (through
//!   fields, and through `allOf` parts merged into a reachable struct). Changelog paths are
//!   normalised (`(id or name)`, `{name:.*}`, `<id>` → `{}`, query strings and trailing
//!   slashes dropped; a wrong method or a singular first segment is forgiven). An item
//!   whose endpoints exist in neither version confirms nothing. An item naming no endpoint
//!   matches by identifier alone;
//! - **identifier**: code spans (`` `HostConfig.AutoRemove` `` is `AutoRemove` under
//!   `HostConfig`, and also names `HostConfig`), `"quoted"` words and CamelCase words
//!   compare case-sensitively with the wire name of the parameter, field or enum value. A
//!   dotted parent must fit the field's type: equal to it or a whole-word suffix of it
//!   (`State` → `ContainerState`), or the field holding it (`EndpointsConfig`);
//! - **types** (added, removed, retyped) are named loosely: a capitalised word equal to or
//!   a whole-word suffix of the Rust name, the field or parameter holding the type, or a
//!   field of a new type; a type only new endpoints use comes with those endpoints;
//! - an operation added or removed is confirmed by naming it; a parameter only when the
//!   item speaks of parameters (query, option, key, …); a status code when the item has it;
//! - a nullable, required or default change only when the item speaks of presence
//!   (omitted, null, deprecated, default, …).
//!
//! New types that only mentioned changes use (`ClusterVolumeSpecAccessMode` under a mentioned
//! `ClusterVolumeSpec`) count as mentioned; this never confirms an item.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::fmt::Write;

use serde::Serialize;

use crate::diff::{self, Change};
use crate::ir::history::operation_key;
use crate::ir::{ApiSpec, History, TypeExpr, TypeId, TypeKind};
use crate::version::ApiVersion;

/// First line of the rendered report.
pub use crate::matrix::DOC_PREAMBLE;

/// Where the report lives, relative to the repository root.
pub const PATH: &str = "docs/changelog-check.md";

/// The oldest changelog section compared: 1.25 is the first version with a predecessor.
const FIRST_SECTION: u8 = 25;

/// One `## v1.XX API changes` section.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Section {
    pub version: ApiVersion,
    pub items: Vec<Item>,
}

/// One top-level `* ` bullet, its wrapped lines (and indented paragraphs, lists, code)
/// joined by single spaces.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Item {
    pub text: String,
    /// 1-based line of the bullet in the changelog.
    pub line: usize,
}

/// The sections for versions 1.25–1.49, in document order (newest first upstream).
///
/// An item is a `* ` bullet at column 0. It continues over indented lines, over lines at
/// column 0 that directly follow it, and over indented blocks after a blank line. It ends at
/// the next bullet, at any heading, or at a column-0 paragraph after a blank line (such
/// free-standing paragraphs, e.g. v1.46's "Deprecated Config fields", are not items).
pub fn parse(text: &str) -> Vec<Section> {
    let mut sections: Vec<Section> = Vec::new();
    let mut in_section = false;
    let mut item: Option<(usize, Vec<String>)> = None;
    let mut after_blank = false;

    fn flush(item: &mut Option<(usize, Vec<String>)>, sections: &mut [Section]) {
        if let (Some((line, parts)), Some(section)) = (item.take(), sections.last_mut()) {
            section.items.push(Item { text: parts.join(" "), line });
        }
    }

    for (index, raw) in text.lines().enumerate() {
        let line = index + 1;
        if raw.starts_with('#') {
            flush(&mut item, &mut sections);
            after_blank = false;
            if let Some(heading) = raw.strip_prefix("## ") {
                let word = heading.split_whitespace().next().unwrap_or("").to_ascii_lowercase();
                match ApiVersion::parse(&word).filter(|v| v.minor >= FIRST_SECTION) {
                    Some(version) => {
                        sections.push(Section { version, items: Vec::new() });
                        in_section = true;
                    }
                    None => in_section = false,
                }
            }
            continue;
        }
        if !in_section {
            continue;
        }
        if raw.trim().is_empty() {
            after_blank = true;
            continue;
        }
        if let Some(rest) = raw.strip_prefix("* ") {
            flush(&mut item, &mut sections);
            item = Some((line, vec![rest.trim().to_string()]));
        } else if let Some((_, parts)) = &mut item {
            let indented = raw.starts_with(' ') || raw.starts_with('\t');
            if indented || !after_blank {
                parts.push(raw.trim().to_string());
            } else {
                flush(&mut item, &mut sections);
            }
        }
        after_blank = false;
    }
    flush(&mut item, &mut sections);
    sections
}

// ---------------------------------------------------------------------------------------
// What an item mentions

/// An endpoint as written in the changelog: method (if given) and normalised path.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Endpoint {
    method: Option<String>,
    /// `/containers/{}/json`: parameters of any spelling become `{}`.
    path: String,
    /// As written, for the report.
    written: String,
}

/// An identifier: `HostConfig.AutoRemove` is `AutoRemove` with parents `["HostConfig"]`.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Ident {
    name: String,
    parents: Vec<String>,
}

#[derive(Debug, Clone, Default)]
struct Mentions {
    endpoints: Vec<Endpoint>,
    idents: Vec<Ident>,
    /// HTTP status codes (`400`, "status code 404").
    statuses: BTreeSet<String>,
}

const METHODS: [&str; 5] = ["GET", "POST", "PUT", "DELETE", "HEAD"];

fn is_word_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// `/containers/(id or name)/json?x=1` → `/containers/{}/json`; `/volumes{name}` →
/// `/volumes/{}`; trailing and doubled slashes dropped.
fn normalise_path(path: &str) -> String {
    let path = path.split('?').next().unwrap_or("");
    let mut segments: Vec<String> = Vec::new();
    let mut current = String::new();
    let mut depth = 0usize;
    for c in path.chars() {
        match c {
            '(' | '{' | '<' | '[' => {
                if depth == 0 && !current.is_empty() {
                    segments.push(std::mem::take(&mut current));
                }
                depth += 1;
                current.push(c);
            }
            ')' | '}' | '>' | ']' => {
                depth = depth.saturating_sub(1);
                current.push(c);
            }
            '/' if depth == 0 => segments.push(std::mem::take(&mut current)),
            _ => current.push(c),
        }
    }
    segments.push(current);
    let parts: Vec<&str> =
        segments.iter().filter(|s| !s.is_empty()).map(|s| if s.starts_with(['(', '{', '<', '[']) { "{}" } else { s.as_str() }).collect();
    format!("/{}", parts.join("/"))
}

/// The end (byte offset) of a path starting at `start`: brackets may hold spaces.
fn path_end(text: &str, start: usize) -> usize {
    let mut depth = 0usize;
    let mut end = start;
    for (k, c) in text[start..].char_indices() {
        match c {
            '(' | '{' | '<' | '[' => depth += 1,
            ')' | '}' | '>' | ']' => {
                if depth == 0 {
                    break;
                }
                depth -= 1;
            }
            '`' | '"' => break,
            c if (c.is_whitespace() || c == ',' || c == ';') && depth == 0 => break,
            _ => {}
        }
        end = start + k + c.len_utf8();
    }
    while end > start && text[..end].ends_with(['.', ':']) {
        end -= 1;
    }
    end
}

/// A CamelCase word (`HostConfig`, `OomScoreAdj`, `IPv4`): specific enough to be an
/// identifier even outside backticks, unlike ordinary English words.
fn is_camel(word: &str) -> bool {
    let mut chars = word.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && word.chars().any(|c| c.is_ascii_lowercase())
        && chars.any(|c| c.is_ascii_uppercase())
}

/// Identifiers in a code span: `HostConfig.IpcMode=private` → `HostConfig.IpcMode`, `private`.
fn code_idents(code: &str, out: &mut Vec<Ident>) {
    for token in code.split(|c: char| !(is_word_char(c) || c == '.' || c == '-')) {
        let token = token.trim_matches(['.', '-']);
        let parts: Vec<&str> = token.split('.').filter(|p| !p.is_empty()).collect();
        // `Platform.Name` also names `Platform`: a change may be one level up.
        for end in (1..=parts.len()).rev() {
            let (name, parents) = (parts[end - 1], &parts[..end - 1]);
            if name.chars().all(|c| c.is_ascii_digit()) {
                continue;
            }
            out.push(Ident { name: name.to_string(), parents: parents.iter().map(|p| p.to_string()).collect() });
        }
    }
}

/// Identifiers in prose: CamelCase words and single `"quoted"` words.
fn prose_idents(text: &str, out: &mut Vec<Ident>) {
    for word in text.split(|c: char| !c.is_ascii_alphanumeric()) {
        if is_camel(word) {
            out.push(Ident { name: word.to_string(), parents: Vec::new() });
        }
    }
    let mut parts = text.split('"');
    parts.next();
    while let (Some(quoted), Some(_)) = (parts.next(), parts.next()) {
        if !quoted.is_empty() && quoted.chars().all(|c| is_word_char(c) || c == '.' || c == '-') {
            code_idents(quoted, out);
        }
    }
}

fn statuses(text: &str, out: &mut BTreeSet<String>) {
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i].is_ascii_digit() {
            let start = i;
            while i < bytes.len() && bytes[i].is_ascii_digit() {
                i += 1;
            }
            let before = start.checked_sub(1).map(|b| bytes[b]);
            let after = bytes.get(i).copied();
            let glued = |b: Option<u8>| b.is_some_and(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'_');
            if i - start == 3 && !glued(before) && !glued(after) {
                let code = &text[start..i];
                if ("100"..="599").contains(&code) {
                    out.insert(code.to_string());
                }
            }
        } else {
            i += 1;
        }
    }
}

fn mentions(text: &str) -> Mentions {
    let mut m = Mentions::default();
    // Byte ranges taken by endpoints, so their paths are not read as identifiers.
    let mut taken: Vec<(usize, usize)> = Vec::new();

    // `GET /path`, `Get /path`, GET `/path`.
    for (i, _) in text.char_indices() {
        if text[..i].chars().next_back().is_some_and(is_word_char) {
            continue;
        }
        for method in METHODS {
            let Some(word) = text.get(i..i + method.len()) else { continue };
            if !word.eq_ignore_ascii_case(method) {
                continue;
            }
            let rest = &text[i + method.len()..];
            let trimmed = rest.trim_start_matches(' ');
            if trimmed.len() == rest.len() {
                continue;
            }
            let after_tick = trimmed.strip_prefix('`').unwrap_or(trimmed);
            if !after_tick.starts_with('/') {
                continue;
            }
            let start = text.len() - after_tick.len();
            let end = path_end(text, start);
            let path = &text[start..end];
            m.endpoints.push(Endpoint {
                method: Some(method.to_string()),
                path: normalise_path(path),
                written: format!("{method} {path}"),
            });
            taken.push((i, end));
        }
    }

    // Code spans, and the prose between them.
    let mut prose = String::new();
    let mut in_code = false;
    let mut offset = 0;
    for piece in text.split('`') {
        let (start, end) = (offset, offset + piece.len());
        offset = end + 1;
        let code = in_code;
        in_code = !in_code;
        let overlaps = taken.iter().any(|&(a, b)| start < b && a < end);
        if !code || piece.trim().contains(char::is_whitespace) {
            // Prose, or an unbalanced span that swallowed prose: keep what lies outside endpoints.
            let mut last = start;
            for &(a, b) in taken.iter().filter(|&&(a, b)| start < b && a < end) {
                prose.push_str(&text[last..a.max(last)]);
                prose.push(' ');
                last = b.min(end).max(last);
            }
            prose.push_str(&text[last..end]);
            prose.push(' ');
            continue;
        }
        if overlaps {
            continue;
        }
        let piece = piece.trim();
        if piece.starts_with('/') {
            // A path without a method (`/_ping`): any method.
            m.endpoints.push(Endpoint { method: None, path: normalise_path(piece), written: piece.to_string() });
        } else {
            code_idents(piece.trim_matches(['"', '\'']), &mut m.idents);
        }
    }
    prose_idents(&prose, &mut m.idents);
    statuses(&prose, &mut m.statuses);
    for (i, piece) in text.split('`').enumerate() {
        if i % 2 == 1 && !piece.contains('/') {
            statuses(piece, &mut m.statuses);
        }
    }
    m.idents.sort_by(|a, b| (&a.name, &a.parents).cmp(&(&b.name, &b.parents)));
    m.idents.dedup();
    m
}

// ---------------------------------------------------------------------------------------
// What a version's IR offers to match against

struct Index<'a> {
    /// Normalised path → (method, operation key).
    paths: BTreeMap<String, Vec<(&'static str, String)>>,
    /// Type name → operations from which it is reachable.
    reach: HashMap<&'a str, BTreeSet<String>>,
    /// Type name → wire names of the fields and parameters whose type refers to it directly.
    holders: HashMap<&'a str, BTreeSet<&'a str>>,
    /// Type name → its fields' wire names.
    members: HashMap<&'a str, BTreeSet<&'a str>>,
    /// Type name → where it is used: `(owner type, field wire name)` or `(operation key, "")`.
    uses: HashMap<&'a str, BTreeSet<(String, String)>>,
}

fn direct_names(ty: &TypeExpr, out: &mut Vec<TypeId>) {
    match ty {
        TypeExpr::Named(id) => out.push(*id),
        TypeExpr::Array(t) | TypeExpr::Map(t) | TypeExpr::Nullable(t) => direct_names(t, out),
        TypeExpr::Scalar(_) | TypeExpr::Any => {}
    }
}

fn reachable(spec: &ApiSpec, ty: &TypeExpr, seen: &mut HashSet<TypeId>) {
    let mut ids = Vec::new();
    direct_names(ty, &mut ids);
    for id in ids {
        if !seen.insert(id) {
            continue;
        }
        match &spec.ty(id).kind {
            TypeKind::Struct { fields, rest } => {
                for f in fields {
                    reachable(spec, &f.ty, seen);
                }
                if let Some(x) = &rest.declared {
                    reachable(spec, x, seen);
                }
            }
            TypeKind::Alias(x) => reachable(spec, x, seen),
            TypeKind::Enum { .. } => {}
        }
    }
}

impl<'a> Index<'a> {
    fn new(spec: &'a ApiSpec) -> Index<'a> {
        let mut paths: BTreeMap<String, Vec<(&'static str, String)>> = BTreeMap::new();
        let mut reach: HashMap<&'a str, BTreeSet<String>> = HashMap::new();
        let mut holders: HashMap<&'a str, BTreeSet<&'a str>> = HashMap::new();
        let mut members: HashMap<&'a str, BTreeSet<&'a str>> = HashMap::new();
        let mut uses: HashMap<&'a str, BTreeSet<(String, String)>> = HashMap::new();
        for op in &spec.operations {
            let key = operation_key(op);
            let mut direct = Vec::new();
            for ty in op
                .parameters
                .iter()
                .map(|p| &p.ty)
                .chain(op.request_body.iter().filter_map(|b| b.ty.as_ref()))
                .chain(op.responses.iter().filter_map(|r| r.ty.as_ref()))
            {
                direct_names(ty, &mut direct);
            }
            for id in direct {
                uses.entry(spec.ty(id).name.as_str()).or_default().insert((key.clone(), String::new()));
            }
            paths.entry(normalise_path(&op.path)).or_default().push((op.method.as_str(), key.clone()));
            let mut seen = HashSet::new();
            for p in &op.parameters {
                reachable(spec, &p.ty, &mut seen);
                let mut ids = Vec::new();
                direct_names(&p.ty, &mut ids);
                for id in ids {
                    holders.entry(spec.ty(id).name.as_str()).or_default().insert(p.wire_name.as_str());
                }
            }
            if let Some(ty) = op.request_body.as_ref().and_then(|b| b.ty.as_ref()) {
                reachable(spec, ty, &mut seen);
            }
            for r in &op.responses {
                if let Some(ty) = &r.ty {
                    reachable(spec, ty, &mut seen);
                }
                for h in &r.headers {
                    reachable(spec, &h.ty, &mut seen);
                }
            }
            for id in seen {
                reach.entry(spec.ty(id).name.as_str()).or_default().insert(key.clone());
            }
        }
        for t in &spec.types {
            let names = members.entry(t.name.as_str()).or_default();
            match &t.kind {
                TypeKind::Struct { fields, .. } => {
                    for f in fields {
                        names.insert(f.wire_name.as_str());
                        let mut ids = Vec::new();
                        direct_names(&f.ty, &mut ids);
                        for id in ids {
                            holders.entry(spec.ty(id).name.as_str()).or_default().insert(f.wire_name.as_str());
                            uses.entry(spec.ty(id).name.as_str()).or_default().insert((t.name.clone(), f.wire_name.clone()));
                        }
                    }
                }
                TypeKind::Enum { .. } | TypeKind::Alias(_) => {}
            }
        }
        // An alias (`type: array` definition) passes its holders on to what it names.
        for t in &spec.types {
            if let TypeKind::Alias(x) = &t.kind {
                let mut ids = Vec::new();
                direct_names(x, &mut ids);
                let inherited = holders.get(t.name.as_str()).cloned().unwrap_or_default();
                for id in ids {
                    holders.entry(spec.ty(id).name.as_str()).or_default().extend(inherited.iter().copied());
                }
            }
        }
        // `allOf` parts are merged into the including struct, whose inherited fields keep the
        // part's pointer (`/definitions/Resources/properties/Memory` in `HostConfig`): a part is
        // reachable wherever a struct including it is.
        let by_pointer: HashMap<&str, &str> = spec.types.iter().map(|t| (t.pointer.as_str(), t.name.as_str())).collect();
        let mut included_in: Vec<(&'a str, &'a str)> = Vec::new();
        for t in &spec.types {
            if let TypeKind::Struct { fields, .. } = &t.kind {
                let parts: BTreeSet<&str> = fields
                    .iter()
                    .filter_map(|f| f.pointer.rsplit_once("/properties/").map(|(owner, _)| owner))
                    .filter(|owner| *owner != t.pointer)
                    .filter_map(|owner| by_pointer.get(owner).copied())
                    .collect();
                included_in.extend(parts.into_iter().map(|part| (part, t.name.as_str())));
            }
        }
        for _ in 0..4 {
            let mut grew = false;
            for &(part, whole) in &included_in {
                let Some(ops) = reach.get(whole).cloned() else { continue };
                let entry = reach.entry(part).or_default();
                let before = entry.len();
                entry.extend(ops);
                grew |= entry.len() > before;
            }
            if !grew {
                break;
            }
        }
        Index { paths, reach, holders, members, uses }
    }

    fn reach(&self, ty: &str) -> Option<&BTreeSet<String>> {
        self.reach.get(ty)
    }

    fn holds(&self, ty: &str, field: &str) -> bool {
        self.holders.get(ty).is_some_and(|h| h.contains(field))
    }
}

/// Whether a word from the changelog can name the Rust type `ty`: equal ignoring case and
/// punctuation, or a whole-word suffix of it (`Resources` → `TaskSpecResources`,
/// `State` → `ContainerState`), also ignoring a plural `s` and the `Item` of array items.
/// `loose = false` asks for equality only. The word must be capitalised.
fn type_like(word: &str, ty: &str, loose: bool) -> bool {
    // Type names are capitalised; `volume` or `status` in a changelog is a value, not a type.
    if !word.starts_with(|c: char| c.is_ascii_uppercase()) {
        return false;
    }
    let w: String = word.chars().filter(char::is_ascii_alphanumeric).map(|c| c.to_ascii_lowercase()).collect();
    if w.len() < 3 {
        return false;
    }
    let bases = [ty, ty.strip_suffix("Item").unwrap_or(ty)];
    let words = [w.as_str(), w.strip_suffix('s').unwrap_or(&w)];
    bases.iter().any(|base| {
        let t = base.to_ascii_lowercase();
        words.iter().any(|w| {
            t == *w
                || (loose
                    && w.len() >= 4
                    && t.len() > w.len()
                    && t.ends_with(w)
                    && base.as_bytes().get(t.len() - w.len()).is_some_and(u8::is_ascii_uppercase))
        })
    })
}

/// `[Mount]`, `map[string]Mount?` → `Mount`.
fn base_type(described: &str) -> &str {
    let s = described.trim_start_matches('[').trim_start_matches("map[string]");
    s.trim_end_matches([']', '?'])
}

// ---------------------------------------------------------------------------------------
// Matching

/// One item, read and resolved against a pair of versions.
struct Reading {
    mentions: Mentions,
    /// The item names at least one endpoint (resolved or not).
    has_endpoint: bool,
    /// Operation keys its endpoints resolve to in either version.
    ops: BTreeSet<String>,
    /// Endpoints named but found in neither version's spec.
    unknown: Vec<String>,
    /// The item speaks of parameters (`query parameter`, `option`, `key`): only then can an
    /// identifier be a parameter (`a \`rollback\` value` is not one).
    about_parameters: bool,
    /// The item speaks of presence or defaults (`omitted`, `null`, `deprecated`, …): only
    /// then does a nullable, required or default change confirm it.
    about_presence: bool,
}

const PARAMETER_WORDS: [&str; 5] = ["param", "query", "argument", "option", "key"];
const PRESENCE_WORDS: [&str; 8] = ["omit", "null", "empty", "optional", "required", "default", "deprecated", "always"];

struct Pair<'a> {
    a: Index<'a>,
    b: Index<'a>,
    added_ops: BTreeSet<String>,
    removed_ops: BTreeSet<String>,
}

impl<'a> Pair<'a> {
    fn new(prev: &'a ApiSpec, this: &'a ApiSpec, changes: &[Change]) -> Pair<'a> {
        let mut added_ops = BTreeSet::new();
        let mut removed_ops = BTreeSet::new();
        for c in changes {
            match c {
                Change::OperationAdded { operation, .. } => {
                    added_ops.insert(operation.clone());
                }
                Change::OperationRemoved { operation, .. } => {
                    removed_ops.insert(operation.clone());
                }
                _ => {}
            }
        }
        Pair { a: Index::new(prev), b: Index::new(this), added_ops, removed_ops }
    }

    /// Operations an endpoint may mean: same normalised path and method; else the same
    /// path under another method (`GET /containers/create`); else the plural of the first
    /// segment (`/service/create`, `/node/{id}`, `/container/{id}/json`).
    fn resolve(&self, e: &Endpoint) -> BTreeSet<String> {
        let plural = {
            let mut parts = e.path.splitn(3, '/').skip(1);
            let first = parts.next().unwrap_or("");
            let rest = parts.next().map(|r| format!("/{r}")).unwrap_or_default();
            (!first.is_empty() && !first.ends_with('s') && !first.starts_with('{')).then(|| format!("/{first}s{rest}"))
        };
        for path in std::iter::once(e.path.clone()).chain(plural) {
            let all: Vec<&(&str, String)> = [&self.a, &self.b].iter().filter_map(|i| i.paths.get(&path)).flatten().collect();
            if all.is_empty() {
                continue;
            }
            let same: BTreeSet<String> =
                all.iter().filter(|(m, _)| e.method.as_deref().is_some_and(|x| x == *m)).map(|(_, k)| k.clone()).collect();
            if !same.is_empty() {
                return same;
            }
            return all.iter().map(|(_, k)| k.clone()).collect();
        }
        BTreeSet::new()
    }

    fn read(&self, item: &Item) -> Reading {
        let mentions = mentions(&item.text);
        let mut ops = BTreeSet::new();
        let mut unknown = Vec::new();
        for e in &mentions.endpoints {
            let found = self.resolve(e);
            if found.is_empty() {
                if !unknown.contains(&e.written) {
                    unknown.push(e.written.clone());
                }
            } else {
                ops.extend(found);
            }
        }
        // A method-less path that names nothing (`/v<API-version>/<endpoint>`) is not an endpoint.
        let has_endpoint = mentions.endpoints.iter().any(|e| e.method.is_some()) || !ops.is_empty();
        unknown.retain(|w| METHODS.iter().any(|m| w.starts_with(m)));
        let lower = item.text.to_lowercase();
        let about_parameters = PARAMETER_WORDS.iter().any(|w| lower.contains(w));
        let about_presence = PRESENCE_WORDS.iter().any(|w| lower.contains(w));
        Reading { mentions, has_endpoint, ops, unknown, about_parameters, about_presence }
    }

    fn reach(&self, ty: &str) -> BTreeSet<String> {
        let mut all = BTreeSet::new();
        for i in [&self.a, &self.b] {
            if let Some(r) = i.reach(ty) {
                all.extend(r.iter().cloned());
            }
        }
        all
    }

    /// The item names one of `ops`, or no endpoint at all.
    fn in_scope(&self, r: &Reading, ops: &BTreeSet<String>) -> bool {
        !r.has_endpoint || !r.ops.is_disjoint(ops)
    }

    /// `HostConfig.AutoRemove` may name field `AutoRemove` of `HostConfig`; `State.Status`
    /// of `ContainerState`; `EndpointsConfig.DriverOpts` of the type held by `EndpointsConfig`.
    fn parents_fit(&self, ident: &Ident, ty: &str) -> bool {
        match ident.parents.last() {
            None => true,
            Some(p) => type_like(p, ty, true) || self.a.holds(ty, p) || self.b.holds(ty, p),
        }
    }

    /// A type added (or removed) by this version: named loosely, by the field that holds it,
    /// by one of its members, or explained by an endpoint that is itself new (or gone).
    fn type_mentioned(&self, r: &Reading, ty: &str, side: &Index, new_ops: &BTreeSet<String>) -> bool {
        let empty = BTreeSet::new();
        let reach = side.reach(ty).unwrap_or(&empty);
        if !reach.is_empty() && reach.is_subset(new_ops) && !r.ops.is_disjoint(reach) {
            return true;
        }
        if !self.in_scope(r, reach) {
            return false;
        }
        r.mentions.idents.iter().any(|i| {
            self.names_type(i, ty, r.has_endpoint, &[side])
                || (r.has_endpoint && side.members.get(ty).is_some_and(|m| m.contains(i.name.as_str())) && self.parents_fit(i, ty))
        })
    }

    /// An identifier names a type: by its name (`ContainerSpec.Privileges` →
    /// `TaskSpecContainerSpecPrivileges`, not `PluginPrivilege`), or as the field or parameter
    /// holding it (`HostConfig.CgroupnsMode` → `HostConfigCgroupnsMode`, `condition` →
    /// `ContainerWaitCondition`).
    fn names_type(&self, i: &Ident, ty: &str, loose: bool, sides: &[&Index]) -> bool {
        let word = match i.parents.last() {
            Some(p) => format!("{p}{}", i.name),
            None => i.name.clone(),
        };
        type_like(&word, ty, loose)
            || sides.iter().any(|side| match i.parents.is_empty() {
                true => side.holds(ty, &i.name),
                false => side.uses.get(ty).is_some_and(|u| u.iter().any(|(owner, f)| *f == i.name && self.parents_fit(i, owner))),
            })
    }

    fn matches(&self, r: &Reading, change: &Change) -> bool {
        use Change::*;
        let idents = &r.mentions.idents;
        let plain = |name: &str| idents.iter().any(|i| i.parents.is_empty() && i.name == name);
        // A body or response that changed type: named loosely, or by a member of the new
        // (or old) type (`Warnings` of `ServiceUpdateResponse`).
        let types_named = |from: &str, to: &str| {
            idents.iter().any(|i| {
                [(from, &self.a), (to, &self.b)].iter().any(|(d, side)| {
                    *d != "none"
                        && (type_like(&i.name, base_type(d), true)
                            || (i.parents.is_empty() && side.members.get(base_type(d)).is_some_and(|m| m.contains(i.name.as_str()))))
                })
            })
        };
        match change {
            OperationAdded { operation, .. } | OperationRemoved { operation, .. } => r.ops.contains(operation),
            OperationRenamed { operation, from, to } => r.ops.contains(operation) && (plain(from) || plain(to)),
            ParameterAdded { operation, name, .. } | ParameterRemoved { operation, name, .. } => {
                r.about_parameters && (r.ops.contains(operation) || !r.has_endpoint) && plain(name)
            }
            ParameterChanged { operation, name, aspect, .. } => {
                r.about_parameters
                    && (aspect == "type" || r.about_presence)
                    && (r.ops.contains(operation) || !r.has_endpoint)
                    && plain(name)
            }
            RequestBodyChanged { operation, aspect, from, to } => r.ops.contains(operation) && aspect == "type" && types_named(from, to),
            ResponseAdded { operation, status, .. } | ResponseRemoved { operation, status, .. } => {
                r.ops.contains(operation) && r.mentions.statuses.contains(status)
            }
            ResponseChanged { operation, status, aspect, from, to } => {
                r.ops.contains(operation) && (r.mentions.statuses.contains(status) || (aspect == "type" && types_named(from, to)))
            }
            ResponseHeaderAdded { operation, header, .. } | ResponseHeaderRemoved { operation, header, .. } => {
                r.ops.contains(operation) && idents.iter().any(|i| i.name.eq_ignore_ascii_case(header))
            }
            TypeAdded { type_name } => self.type_mentioned(r, type_name, &self.b, &self.added_ops),
            TypeRemoved { type_name } => self.type_mentioned(r, type_name, &self.a, &self.removed_ops),
            TypeChanged { type_name, .. } => {
                self.in_scope(r, &self.reach(type_name))
                    && idents.iter().any(|i| self.names_type(i, type_name, r.has_endpoint, &[&self.a, &self.b]))
            }
            FieldChanged { aspect, .. } if aspect != "type" && !r.about_presence => false,
            FieldAdded { type_name, field, .. } | FieldRemoved { type_name, field, .. } | FieldChanged { type_name, field, .. } => {
                self.in_scope(r, &self.reach(type_name)) && idents.iter().any(|i| i.name == *field && self.parents_fit(i, type_name))
            }
            EnumValueAdded { type_name, value } | EnumValueRemoved { type_name, value } => {
                self.in_scope(r, &self.reach(type_name)) && idents.iter().any(|i| i.name == *value && self.parents_fit(i, type_name))
            }
        }
    }
}

// ---------------------------------------------------------------------------------------
// The report

/// A changelog item no diff change confirms.
#[derive(Debug, Clone, Serialize)]
pub struct Unconfirmed {
    pub line: usize,
    pub text: String,
    /// Endpoints the item names that neither version's spec has.
    pub unknown_endpoints: Vec<String>,
}

/// A changelog item and the diff changes that confirm it.
#[derive(Debug, Clone, Serialize)]
pub struct Confirmed {
    pub line: usize,
    pub text: String,
    pub by: Vec<Change>,
}

/// One version compared with its predecessor.
#[derive(Debug, Clone, Serialize)]
pub struct Row {
    pub version: ApiVersion,
    pub items: usize,
    pub confirmed: usize,
    /// Changes in the diff from the previous version.
    pub changes: usize,
    pub unconfirmed: Vec<Unconfirmed>,
    /// The confirmed items with their evidence (not rendered; for review and JSON).
    pub confirmed_by: Vec<Confirmed>,
    /// Diff changes that no item mentions.
    pub unmentioned: Vec<Change>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// Oldest first.
    pub rows: Vec<Row>,
}

/// Compares one version's diff with its changelog items.
pub fn compare(prev: &ApiSpec, this: &ApiSpec, items: &[Item]) -> Row {
    let d = diff::diff(prev, this);
    let pair = Pair::new(prev, this, &d.changes);
    let readings: Vec<Reading> = items.iter().map(|i| pair.read(i)).collect();
    let hit: Vec<Vec<bool>> = readings.iter().map(|r| d.changes.iter().map(|c| pair.matches(r, c)).collect()).collect();
    let confirmed = hit.iter().filter(|row| row.iter().any(|&h| h)).count();
    let unconfirmed = items
        .iter()
        .zip(&readings)
        .zip(&hit)
        .filter(|(_, row)| !row.iter().any(|&h| h))
        .map(|((item, reading), _)| Unconfirmed { line: item.line, text: item.text.clone(), unknown_endpoints: reading.unknown.clone() })
        .collect();
    let confirmed_by = items
        .iter()
        .zip(&hit)
        .filter(|(_, row)| row.iter().any(|&h| h))
        .map(|(item, row)| Confirmed {
            line: item.line,
            text: item.text.clone(),
            by: d.changes.iter().zip(row).filter(|(_, h)| **h).map(|(c, _)| c.clone()).collect(),
        })
        .collect();
    let mut mentioned: Vec<bool> = (0..d.changes.len()).map(|k| hit.iter().any(|row| row[k])).collect();
    explain_new_types(&pair, &d.changes, &mut mentioned);
    let unmentioned = d.changes.iter().zip(&mentioned).filter(|(_, m)| !**m).map(|(c, _)| c.clone()).collect();
    Row { version: this.version, items: items.len(), confirmed, changes: d.changes.len(), unconfirmed, confirmed_by, unmentioned }
}

/// A type added (removed) only where mentioned changes put it — new fields of a mentioned
/// new type, a field whose mentioned change retyped it, an operation mentioned as changed —
/// counts as mentioned too: `ClusterVolumeSpecAccessMode` comes with `ClusterVolumeSpec`.
/// This widens only the mentioned changes, never the confirmed items.
fn explain_new_types(pair: &Pair, changes: &[Change], mentioned: &mut [bool]) {
    use Change::*;
    let explains = |c: &Change, owner: &str, field: &str| match c {
        FieldAdded { type_name, field: f, .. } | FieldRemoved { type_name, field: f, .. } | FieldChanged { type_name, field: f, .. } => {
            type_name == owner && f == field
        }
        TypeAdded { type_name } | TypeRemoved { type_name } => !field.is_empty() && type_name == owner,
        OperationAdded { operation, .. }
        | OperationRemoved { operation, .. }
        | RequestBodyChanged { operation, .. }
        | ResponseAdded { operation, .. }
        | ResponseRemoved { operation, .. }
        | ResponseChanged { operation, .. }
        | ResponseHeaderAdded { operation, .. }
        | ResponseHeaderRemoved { operation, .. }
        | ParameterAdded { operation, .. }
        | ParameterRemoved { operation, .. }
        | ParameterChanged { operation, .. } => field.is_empty() && operation == owner,
        _ => false,
    };
    loop {
        let mut grew = false;
        for k in 0..changes.len() {
            let (ty, side) = match &changes[k] {
                TypeAdded { type_name } if !mentioned[k] => (type_name, &pair.b),
                TypeRemoved { type_name } if !mentioned[k] => (type_name, &pair.a),
                _ => continue,
            };
            let Some(uses) = side.uses.get(ty.as_str()).filter(|u| !u.is_empty()) else { continue };
            let explained =
                uses.iter().all(|(owner, field)| changes.iter().zip(mentioned.iter()).any(|(c, m)| *m && explains(c, owner, field)));
            if explained {
                mentioned[k] = true;
                grew = true;
            }
        }
        if !grew {
            return;
        }
    }
}

/// Every version from 1.25 on, against its predecessor and its changelog section.
pub fn check(history: &History, changelog: &str) -> Report {
    let sections = parse(changelog);
    let mut rows = Vec::new();
    for pair in history.specs.windows(2) {
        let (prev, this) = (&pair[0], &pair[1]);
        if this.version.minor < FIRST_SECTION {
            continue;
        }
        let items: Vec<Item> = sections.iter().filter(|s| s.version == this.version).flat_map(|s| s.items.clone()).collect();
        rows.push(compare(prev, this, &items));
    }
    rows.sort_by_key(|r| r.version);
    Report { rows }
}

/// At most `max` characters, cut at a word, with open code spans closed.
fn excerpt(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let cut: String = text.chars().take(max).collect();
    let mut cut = match cut.rfind(' ') {
        Some(i) if i > max / 2 => cut[..i].to_string(),
        _ => cut,
    };
    cut = cut.trim_end_matches([',', '.', ';', ':']).to_string();
    if cut.matches('`').count() % 2 == 1 {
        cut.push('`');
    }
    cut.push('…');
    cut
}

impl Report {
    pub fn row(&self, v: ApiVersion) -> Option<&Row> {
        self.rows.iter().find(|r| r.version == v)
    }

    pub fn items(&self) -> usize {
        self.rows.iter().map(|r| r.items).sum()
    }

    pub fn confirmed(&self) -> usize {
        self.rows.iter().map(|r| r.confirmed).sum()
    }

    pub fn to_markdown(&self) -> String {
        let mut out = String::from(DOC_PREAMBLE);
        out.push_str(
            "\n# The IR diff against CHANGELOG.md\n\n\
             Each version's IR diff from its predecessor, held against that version's section of\n\
             upstream's `CHANGELOG.md`. An item is *confirmed* when a diff change has the endpoint it\n\
             names and the parameter, field, enum value or type it names. Items the diff does not\n\
             show are mostly behaviour, filters, headers and deprecations; a schema change among\n\
             them, or a diff change no item explains, is worth a look. Inline types that the spec\n\
             turned into definitions (or renamed) show as a type removed and a type added.\n\n\
             | version | changelog items | confirmed by the diff | not visible in the diff | diff changes not in the changelog |\n\
             |---|---:|---:|---:|---:|\n",
        );
        for r in &self.rows {
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} | {} of {} |",
                r.version,
                r.items,
                r.confirmed,
                r.unconfirmed.len(),
                r.unmentioned.len(),
                r.changes
            );
        }
        let (items, confirmed) = (self.items(), self.confirmed());
        let changes: usize = self.rows.iter().map(|r| r.changes).sum();
        let unmentioned: usize = self.rows.iter().map(|r| r.unmentioned.len()).sum();
        let _ = writeln!(out, "| all | {items} | {confirmed} | {} | {unmentioned} of {changes} |", items - confirmed);
        for r in &self.rows {
            let _ = write!(
                out,
                "\n## v{}\n\n{} of {} changelog items confirmed; {} of {} diff changes not in the changelog.\n",
                r.version,
                r.confirmed,
                r.items,
                r.unmentioned.len(),
                r.changes
            );
            if !r.unconfirmed.is_empty() {
                out.push_str("\n### Changelog items the diff does not show\n\n");
                for u in &r.unconfirmed {
                    let _ = write!(out, "- line {}: {}", u.line, excerpt(&u.text, 100));
                    if !u.unknown_endpoints.is_empty() {
                        let list: Vec<String> = u.unknown_endpoints.iter().map(|e| format!("`{e}`")).collect();
                        let _ = write!(out, " (not in the spec: {})", list.join(", "));
                    }
                    out.push('\n');
                }
            }
            if !r.unmentioned.is_empty() {
                out.push_str("\n### Diff changes no changelog item mentions\n\n");
                for c in &r.unmentioned {
                    let _ = writeln!(out, "- {}", diff::line(c));
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ir::ContentKind;
    use crate::ir::{
        EnumValue, Field, Method, Operation, ParamLocation, Parameter, RequestBody, Response, Scalar, Status, TypeDef, TypeOrigin,
    };

    const CHANGELOG: &str = "\
---
title: x
---

## v1.99 API changes

* `GET /info` now returns `Future`.

## v1.26 API changes

* `POST /plugins/(plugin name)/upgrade` upgrade a plugin.
* `GET /events` now supports filtering 4 more kinds of events: `config`, `node`,
`secret` and `service`.

## V1.25 API changes

* `GET /version` now returns `MinAPIVersion`.
* `GET /_ping` now returns a `Swarm` header.

  The `Swarm` header can contain:

    - \"inactive\"
    - \"active\"
* `GET /images/(name)/json` no longer contains the `RootFS.BaseLayer` field. This
  field was used for Windows images.

#### Deprecated fields

Some free text that is not an item.

- `Hostname`

* `POST /services/create` now support OomScoreAdj

## v1.24 API changes

* `POST /containers/create` now takes `StorageOpt` field.
";

    #[test]
    fn parse_keeps_supported_sections_and_joins_bullets() {
        let sections = parse(CHANGELOG);
        let versions: Vec<u8> = sections.iter().map(|s| s.version.minor).collect();
        assert_eq!(versions, [26, 25]);
        let v26 = &sections[0].items;
        assert_eq!(v26.len(), 2);
        assert_eq!(v26[0], Item { text: "`POST /plugins/(plugin name)/upgrade` upgrade a plugin.".into(), line: 11 });
        assert_eq!(v26[1].text, "`GET /events` now supports filtering 4 more kinds of events: `config`, `node`, `secret` and `service`.");
        let v25 = &sections[1].items;
        let texts: Vec<&str> = v25.iter().map(|i| i.text.as_str()).collect();
        assert_eq!(
            texts,
            [
                "`GET /version` now returns `MinAPIVersion`.",
                "`GET /_ping` now returns a `Swarm` header. The `Swarm` header can contain: - \"inactive\" - \"active\"",
                "`GET /images/(name)/json` no longer contains the `RootFS.BaseLayer` field. This field was used for Windows images.",
                "`POST /services/create` now support OomScoreAdj",
            ]
        );
        assert_eq!(v25.iter().map(|i| i.line).collect::<Vec<_>>(), [17, 18, 24, 33]);
    }

    #[test]
    fn paths_are_normalised() {
        assert_eq!(normalise_path("/containers/(id or name)/json"), "/containers/{}/json");
        assert_eq!(normalise_path("/containers/{name:.*}/json"), "/containers/{}/json");
        assert_eq!(normalise_path("/containers/<container ID>/exec"), "/containers/{}/exec");
        assert_eq!(normalise_path("/plugins/pull?name=<plugin name>"), "/plugins/pull");
        assert_eq!(normalise_path("/volumes{name}"), "/volumes/{}");
        assert_eq!(normalise_path("/networks/"), "/networks");
        assert_eq!(normalise_path("/"), "/");
    }

    #[test]
    fn mentions_endpoints_identifiers_and_statuses() {
        let m = mentions(
            "`GET /containers/(id or name)/json` and GET `/images/json` and `Get /version` return `\"removing\"` in \
             `State.Status`, `HostConfig.IpcMode=private` and OomScoreAdj; status code 404 instead of `500`, not v1.400.",
        );
        let eps: Vec<(Option<&str>, &str)> = m.endpoints.iter().map(|e| (e.method.as_deref(), e.path.as_str())).collect();
        assert_eq!(eps, [(Some("GET"), "/containers/{}/json"), (Some("GET"), "/images/json"), (Some("GET"), "/version")]);
        let ids: Vec<String> = m.idents.iter().map(|i| [&i.parents[..], std::slice::from_ref(&i.name)].concat().join(".")).collect();
        assert_eq!(ids, ["HostConfig", "HostConfig.IpcMode", "OomScoreAdj", "State", "State.Status", "private", "removing"]);
        assert_eq!(m.statuses.iter().map(String::as_str).collect::<Vec<_>>(), ["404", "500"]);
    }

    #[test]
    fn type_names_match_loosely_at_word_boundaries() {
        assert!(type_like("HostConfig", "HostConfig", false));
        assert!(type_like("State", "ContainerState", true));
        assert!(type_like("Resources", "TaskSpecResources", true));
        assert!(type_like("Ulimits", "TaskSpecContainerSpecUlimitsItem", true));
        assert!(type_like("Limits", "Limit", false));
        assert!(!type_like("State", "ContainerState", false));
        assert!(!type_like("tate", "ContainerState", true));
        assert!(!type_like("Mounts", "HostConfig", true));
        assert!(!type_like("volume", "ClusterVolume", true));
        assert!(!type_like("ContainerSpecPrivileges", "PluginPrivilege", true));
        assert!(type_like("ContainerSpecPrivileges", "TaskSpecContainerSpecPrivileges", true));
    }

    // A tiny 1.24 → 1.25 pair.

    fn field(wire: &str, ty: TypeExpr) -> Field {
        Field {
            wire_name: wire.into(),
            name: wire.to_lowercase(),
            ty,
            required: false,
            nullable: false,
            boxed: false,
            read_only: false,
            secret: false,
            description: None,
            format: None,
            default: None,
            example: None,
            pointer: String::new(),
        }
    }

    fn ty(name: &str, kind: TypeKind) -> TypeDef {
        TypeDef {
            name: name.into(),
            name_hint: vec![name.into()],
            name_override: None,
            origin: TypeOrigin::Definition(name.into()),
            pointer: String::new(),
            description: None,
            kind,
        }
    }

    fn strukt(name: &str, fields: Vec<Field>) -> TypeDef {
        ty(name, TypeKind::Struct { fields, rest: crate::ir::Rest { declared: None, name: "unknown_members".into() } })
    }

    fn values(name: &str, values: &[&str]) -> TypeDef {
        let values = values.iter().map(|v| EnumValue { wire: v.to_string(), name: v.to_string() }).collect();
        ty(name, TypeKind::Enum { values, default: None })
    }

    fn param(name: &str) -> Parameter {
        Parameter {
            wire_name: name.into(),
            name: name.into(),
            location: ParamLocation::Query,
            ty: TypeExpr::Scalar(Scalar::I64),
            required: false,
            secret: false,
            description: None,
            default: None,
            collection_format: None,
        }
    }

    fn op(
        method: Method,
        path: &str,
        id: &str,
        body: Option<TypeExpr>,
        response: Option<TypeExpr>,
        parameters: Vec<Parameter>,
    ) -> Operation {
        let json = |ty: Option<TypeExpr>| (if ty.is_some() { ContentKind::Json } else { ContentKind::Empty }, ty);
        let (content, ty) = json(response);
        Operation {
            id: id.into(),
            name: id.into(),
            method,
            path: path.into(),
            tag: None,
            summary: None,
            description: None,
            deprecated: false,
            parameters,
            request_body: body.map(|ty| RequestBody {
                name: Some("body".into()),
                description: None,
                required: true,
                content: ContentKind::Json,
                media_types: vec![],
                ty: Some(ty),
            }),
            responses: vec![Response {
                status: Status::Code(200),
                variant: "Ok".into(),
                description: None,
                content,
                media_types: vec![],
                ty,
                headers: vec![],
            }],
            produces: vec![],
            consumes: vec![],
            pointer: String::new(),
            rust: Default::default(),
        }
    }

    fn named(i: usize) -> TypeExpr {
        TypeExpr::Named(TypeId(i))
    }

    /// Types 0 HostConfig, 1 ContainerStateStatus, 2 ContainerState, 3 ContainerInspect,
    /// 4 Network, 5 ContainerCreateBody, 6 Plugin (1.25 only).
    fn spec(minor: u8) -> ApiSpec {
        let new = minor >= 25;
        let mut host = vec![field("Binds", TypeExpr::Array(Box::new(TypeExpr::Scalar(Scalar::String))))];
        let mut status = vec!["running", "exited"];
        let mut network = vec![Field { nullable: new, ..field("Name", TypeExpr::Scalar(Scalar::String)) }];
        let mut list_params = vec![param("all")];
        if new {
            host.push(field("AutoRemove", TypeExpr::Scalar(Scalar::Bool)));
            status.push("removing");
            network.push(field("Status", TypeExpr::Scalar(Scalar::String)));
            network.push(field("Created", TypeExpr::Scalar(Scalar::String)));
            list_params.push(param("limit"));
        }
        let mut types = vec![
            strukt("HostConfig", host),
            values("ContainerStateStatus", &status),
            strukt("ContainerState", vec![field("Status", named(1))]),
            strukt("ContainerInspect", vec![field("HostConfig", named(0)), field("State", named(2))]),
            strukt("Network", network),
            strukt("ContainerCreateBody", vec![field("HostConfig", named(0))]),
        ];
        let mut operations = vec![
            op(Method::Post, "/containers/create", "ContainerCreate", Some(named(5)), None, vec![]),
            op(Method::Get, "/containers/{id}/json", "ContainerInspect", None, Some(named(3)), vec![]),
            op(Method::Get, "/containers/json", "ContainerList", None, None, list_params),
            op(Method::Get, "/networks/{id}", "NetworkInspect", None, Some(named(4)), vec![]),
        ];
        if new {
            types.push(strukt("Plugin", vec![field("Name", TypeExpr::Scalar(Scalar::String))]));
            operations.push(op(Method::Get, "/plugins", "PluginList", None, Some(TypeExpr::Array(Box::new(named(6)))), vec![]));
        }
        ApiSpec { version: ApiVersion::new(minor), source: "test".into(), operations, types }
    }

    fn row(items: &[&str]) -> Row {
        let items: Vec<Item> = items.iter().enumerate().map(|(i, t)| Item { text: t.to_string(), line: i + 1 }).collect();
        compare(&spec(24), &spec(25), &items)
    }

    fn unconfirmed(r: &Row) -> Vec<usize> {
        r.unconfirmed.iter().map(|u| u.line).collect()
    }

    #[test]
    fn items_confirmed_by_the_changes_they_name() {
        let r = row(&[
            "`POST /containers/create` now takes `AutoRemove` in HostConfig.",
            "`GET /containers/(id or name)/json` now returns `\"removing\"` as a value for the `State.Status` field.",
            "`GET /containers/json` now accepts a `limit` query parameter.",
            "`GET /plugins` list plugins.",
            "`GET /networks/(id or name)` now returns `Status`.",
        ]);
        assert_eq!(unconfirmed(&r), Vec::<usize>::new());
        assert_eq!((r.items, r.confirmed), (5, 5));

        // Everything but `Network.Created` is explained; `Plugin` by its new endpoint.
        let lines: Vec<String> = r.unmentioned.iter().map(diff::line).collect();
        assert_eq!(lines, ["`Network.Created` added (string, optional)", "`Network.Name`: nullable false → true"]);
        let r = row(&["`GET /networks/{id}` now omits `Name` when it is empty."]);
        assert_eq!(r.confirmed_by[0].by.iter().map(diff::line).collect::<Vec<_>>(), ["`Network.Name`: nullable false → true"]);
    }

    #[test]
    fn near_misses_are_not_confirmed() {
        let r = row(&[
            // `Status` changed in `Network`, which container inspect does not reach.
            "`GET /containers/{id}/json` now returns `Status`.",
            // Wire names compare case-sensitively.
            "`GET /networks/{id}` now returns `status`.",
            // The parent does not fit: `Mounts` neither names nor holds `HostConfig`.
            "`POST /containers/create` now takes `Mounts.AutoRemove`.",
            // The parameter exists, but on another endpoint.
            "`GET /networks/{id}` now accepts `limit`.",
            // An endpoint neither spec has: nothing can confirm it.
            "`POST /session` now returns `AutoRemove`.",
            // Behaviour, no identifier.
            "`GET /containers/json` is faster now.",
            // A value, not a parameter: the item never speaks of parameters.
            "`GET /containers/json` now accepts a `limit` value for `Mode`.",
            // A nullable change confirms only an item about presence (omitted, null, …).
            "`GET /networks/{id}` now validates `Name`.",
        ]);
        assert_eq!(r.confirmed, 0);
        assert_eq!(unconfirmed(&r), [1, 2, 3, 4, 5, 6, 7, 8]);
        assert_eq!(r.unconfirmed[4].unknown_endpoints, ["POST /session"]);
        assert_eq!(r.unmentioned.len(), r.changes);
    }

    #[test]
    fn typos_in_endpoints_are_forgiven() {
        // Singular first segment, wrong method, no method at all.
        let r = row(&[
            "`GET /container/{id}/json` now returns `\"removing\"`.",
            "`GET /containers/create` now takes `HostConfig.AutoRemove`.",
            "The `/networks/{id}` endpoint returns `Status`.",
        ]);
        assert_eq!(r.confirmed, 3);
    }

    #[test]
    fn report_renders_a_table_and_sections() {
        let history = History::new(vec![spec(24), spec(25)]);
        let changelog = "## v1.25 API changes\n\n* `GET /plugins` list plugins.\n* `GET /containers/json` is quicker.\n";
        let report = check(&history, changelog);
        let md = report.to_markdown();
        assert!(md.starts_with(DOC_PREAMBLE));
        assert!(md.contains("| 1.25 | 2 | 1 | 1 | "), "{md}");
        assert!(md.contains("- line 4: `GET /containers/json` is quicker.\n"), "{md}");
        assert_eq!(md, check(&history, changelog).to_markdown());
    }

    #[test]
    fn excerpts_are_cut_at_words_with_code_closed() {
        assert_eq!(excerpt("short", 100), "short");
        assert_eq!(excerpt("`GET /info` now returns `SomeVeryLongFieldName`", 30), "`GET /info` now returns…");
        assert_eq!(excerpt("now returns `Some Very Long Field Name`", 30), "now returns `Some Very Long`…");
    }
}
