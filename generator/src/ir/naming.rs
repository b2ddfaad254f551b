//! The naming pass: Rust names for types, fields, variants and parameters.
//!
//! Deterministic (a name depends only on the schema's place in the spec), and a clash is
//! an error naming both places, never a silent merge or an invented suffix: the fix is an
//! `x-rust-name` annotation in `spec/annotations/`.

use std::collections::HashMap;

use heck::{ToSnakeCase, ToUpperCamelCase};

use super::model::*;
use crate::diagnostics::{Diagnostic, Diagnostics};

/// Names that generated code uses unqualified, so no type may take them.
const RESERVED_TYPE_NAMES: &[&str] =
    &["Option", "Result", "String", "Vec", "Box", "HashMap", "Value", "Self", "Some", "None", "Ok", "Err", "Default"];

/// The field of a struct that holds the members the spec allows besides its properties
/// (`additionalProperties`), and the one that keeps members the spec does not allow but an
/// engine or client sends anyway (newer versions' additions).
const DECLARED_REST: &str = "additional_properties";
const UNKNOWN_REST: &str = "unknown_members";

/// The catch-all variant of every open enum.
pub const OTHER_VARIANT: &str = "Other";

pub fn assign_names(spec: &mut ApiSpec) -> Result<(), Diagnostics> {
    let file = spec.source.clone();
    let mut problems = Diagnostics::default();
    let mut taken: HashMap<String, usize> = HashMap::new();
    for i in 0..spec.types.len() {
        let t = &spec.types[i];
        let name = match &t.name_override {
            Some(n) => n.clone(),
            None => type_name(&t.name_hint),
        };
        if !is_identifier(&name) || RESERVED_TYPE_NAMES.contains(&name.as_str()) {
            problems.push(Diagnostic::new(
                &file,
                &t.pointer,
                format!("`{name}` cannot be a Rust type name here; set `x-rust-name` with an overlay in spec/annotations"),
            ));
        } else if let Some(&other) = taken.get(&name) {
            problems.push(Diagnostic::new(
                &file,
                &t.pointer,
                format!(
                    "type name `{name}` clashes with the type at {}; set `x-rust-name` on one of them with an overlay in spec/annotations",
                    spec.types[other].pointer
                ),
            ));
        } else {
            taken.insert(name.clone(), i);
        }
        spec.types[i].name = name;
    }
    for t in &mut spec.types {
        match &mut t.kind {
            TypeKind::Struct { fields, rest } => {
                let mut seen: HashMap<String, String> = HashMap::new();
                for f in fields.iter_mut() {
                    f.name = field_name(&f.wire_name);
                    if let Some(first) = seen.insert(f.name.clone(), f.wire_name.clone()) {
                        problems.push(Diagnostic::new(
                            &file,
                            &f.pointer,
                            format!("fields `{first}` and `{}` both become `{}` in Rust", f.wire_name, f.name),
                        ));
                    }
                }
                rest.name = if rest.declared.is_some() { DECLARED_REST } else { UNKNOWN_REST }.to_string();
                if let Some(clash) = fields.iter().find(|f| f.name == rest.name) {
                    problems.push(Diagnostic::new(
                        &file,
                        &clash.pointer,
                        format!("field `{}` clashes with `{}`, the map of the members the struct does not name", clash.wire_name, rest.name),
                    ));
                }
            }
            TypeKind::Enum { values, .. } => {
                let mut seen: HashMap<String, String> = HashMap::new();
                seen.insert(OTHER_VARIANT.to_string(), "(unknown values)".to_string());
                for v in values.iter_mut() {
                    v.name = variant_name(&v.wire);
                    if let Some(first) = seen.insert(v.name.clone(), v.wire.clone()) {
                        problems.push(Diagnostic::new(
                            &file,
                            &t.pointer,
                            format!("enum values `{first}` and `{}` both become variant `{}`", v.wire, v.name),
                        ));
                    }
                }
            }
            TypeKind::Alias(_) => {}
        }
    }
    let mut methods: HashMap<String, String> = HashMap::new();
    for op in &mut spec.operations {
        let mut seen: HashMap<String, String> = HashMap::new();
        for p in &mut op.parameters {
            p.name = field_name(&p.wire_name);
            if let Some(first) = seen.insert(p.name.clone(), p.wire_name.clone()) {
                problems.push(Diagnostic::new(
                    &file,
                    &op.pointer,
                    format!("parameters `{first}` and `{}` both become `{}` in Rust", p.wire_name, p.name),
                ));
            }
        }
        for resp in &mut op.responses {
            resp.variant = match resp.status {
                Status::Code(code) => status_variant_name(code),
                Status::Default => "Default".into(),
            };
            for h in &mut resp.headers {
                h.field = field_name(&h.name);
            }
        }
        op.rust = operation_names(op);
        if let Some(first) = methods.insert(op.rust.method.clone(), op.pointer.clone()) {
            problems.push(Diagnostic::new(
                &file,
                &op.pointer,
                format!(
                    "operation name `{}` is also the name of the operation at {first}; set `x-rust-name` on one of them with an overlay in spec/annotations",
                    op.name
                ),
            ));
        }
        let generated = [Some(&op.rust.params), Some(&op.rust.request), Some(&op.rust.reply), op.rust.outcome.as_ref()];
        for name in generated.into_iter().flatten() {
            if let Some(&t) = taken.get(name) {
                problems.push(Diagnostic::new(
                    &file,
                    &op.pointer,
                    format!(
                        "`{name}`, a type generated for operation `{}`, is also the name of the type at {}; set `x-rust-name` on one of them with an overlay in spec/annotations",
                        op.name, spec.types[t].pointer
                    ),
                ));
            }
        }
    }
    problems.into_result(())
}

/// The names of what is generated for `op`, after its Rust name (`x-rust-name` or the
/// `operationId`) and its tag.
fn operation_names(op: &Operation) -> OperationNames {
    let base = type_name(std::slice::from_ref(&op.name));
    OperationNames {
        method: field_name(&op.name),
        params: format!("{base}Params"),
        request: format!("{base}Request"),
        reply: format!("{base}Reply"),
        outcome: op.outcomes().map(|_| format!("{base}Outcome")),
        service: format!("{}Api", type_name(&[op.tag.clone().unwrap_or_else(|| "Other".into())])),
    }
}

/// The variant name of a status code, after its reason phrase (`NotModified` for 304).
pub fn status_variant_name(code: u16) -> String {
    match code {
        101 => "SwitchingProtocols".into(),
        200 => "Ok".into(),
        201 => "Created".into(),
        202 => "Accepted".into(),
        204 => "NoContent".into(),
        206 => "PartialContent".into(),
        301 => "MovedPermanently".into(),
        302 => "Found".into(),
        304 => "NotModified".into(),
        400 => "BadRequest".into(),
        401 => "Unauthorized".into(),
        403 => "Forbidden".into(),
        404 => "NotFound".into(),
        406 => "NotAcceptable".into(),
        409 => "Conflict".into(),
        413 => "PayloadTooLarge".into(),
        500 => "InternalServerError".into(),
        501 => "NotImplemented".into(),
        503 => "ServiceUnavailable".into(),
        other => format!("Status{other}"),
    }
}

/// `["ContainerCreate", "Body"]` → `ContainerCreateBody`; `["HostConfig", "Mounts", "Item"]` → `HostConfigMountsItem`.
pub fn type_name(hint: &[String]) -> String {
    let mut name: String = hint.iter().map(|part| soften_acronyms(part).to_upper_camel_case()).collect();
    if name.starts_with(|c: char| c.is_ascii_digit()) {
        name.insert(0, 'T');
    }
    name
}

/// Wire name → snake_case field name, escaping keywords (`Type` → `r#type`).
pub fn field_name(wire: &str) -> String {
    let mut name = soften_acronyms(wire).to_snake_case();
    if name.is_empty() {
        name = "field".into();
    }
    if name.starts_with(|c: char| c.is_ascii_digit()) {
        name.insert(0, '_');
    }
    if matches!(name.as_str(), "self" | "super" | "crate" | "extern") {
        name.push('_');
    } else if is_keyword(&name) {
        name.insert_str(0, "r#");
    }
    name
}

/// Enum wire value → UpperCamelCase variant (`""` → `Empty`, `on-failure` → `OnFailure`).
pub fn variant_name(wire: &str) -> String {
    if wire.is_empty() {
        return "Empty".into();
    }
    let mut name = wire.to_upper_camel_case();
    if name.is_empty() {
        name = wire.chars().map(|c| format!("U{:04X}", c as u32)).collect();
    }
    if name.starts_with(|c: char| c.is_ascii_digit()) {
        name.insert(0, 'V');
    }
    if name == "Self" {
        name.push('_');
    }
    name
}

/// Rewrites acronyms that word splitting would tear apart: plurals (`CPUs`, `IDs`) and
/// `IPv4`/`IPv6`, so `NanoCPUs` → `nano_cpus` and `IPv4Address` → `ipv4_address`.
fn soften_acronyms(word: &str) -> String {
    let chars: Vec<char> = word.chars().collect();
    let mut out = String::with_capacity(word.len());
    let mut i = 0;
    while i < chars.len() {
        let run = chars[i..].iter().take_while(|c| c.is_ascii_uppercase()).count();
        if run >= 2 {
            let next = chars.get(i + run).copied();
            let after = chars.get(i + run + 1).copied();
            let plural = next == Some('s') && after.is_none_or(|c| !c.is_ascii_lowercase());
            let ip_version = next == Some('v') && after.is_some_and(|c| c.is_ascii_digit());
            if plural || ip_version {
                out.push(chars[i]);
                out.extend(chars[i + 1..i + run].iter().map(|c| c.to_ascii_lowercase()));
                i += run;
                continue;
            }
            // Leave the last capital of a run to the next word (`IPAMConfig` → `IPAM`, `Config`).
            out.extend(&chars[i..i + run]);
            i += run;
            continue;
        }
        out.push(chars[i]);
        i += 1;
    }
    out
}

fn is_identifier(name: &str) -> bool {
    name.starts_with(|c: char| c.is_ascii_alphabetic()) && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

fn is_keyword(s: &str) -> bool {
    matches!(
        s,
        "as" | "async"
            | "await"
            | "break"
            | "const"
            | "continue"
            | "dyn"
            | "else"
            | "enum"
            | "false"
            | "fn"
            | "for"
            | "if"
            | "impl"
            | "in"
            | "let"
            | "loop"
            | "match"
            | "mod"
            | "move"
            | "mut"
            | "pub"
            | "ref"
            | "return"
            | "static"
            | "struct"
            | "trait"
            | "true"
            | "type"
            | "unsafe"
            | "use"
            | "where"
            | "while"
            | "abstract"
            | "become"
            | "box"
            | "do"
            | "final"
            | "macro"
            | "override"
            | "priv"
            | "try"
            | "typeof"
            | "unsized"
            | "virtual"
            | "yield"
            | "gen"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_read_like_rust() {
        assert_eq!(field_name("Type"), "r#type");
        assert_eq!(field_name("os.version"), "os_version");
        assert_eq!(field_name("X-Registry-Auth"), "x_registry_auth");
        assert_eq!(field_name("IPv4Address"), "ipv4_address");
        assert_eq!(field_name("GlobalIPv6Address"), "global_ipv6_address");
        assert_eq!(field_name("NanoCPUs"), "nano_cpus");
        assert_eq!(field_name("ExecIDs"), "exec_ids");
        assert_eq!(field_name("IPAMConfig"), "ipam_config");
        assert_eq!(field_name("ID"), "id");
        assert_eq!(type_name(&["NanoCPUs".into()]), "NanoCpus");
        assert_eq!(field_name("self"), "self_");
        assert_eq!(variant_name("on-failure"), "OnFailure");
        assert_eq!(variant_name(""), "Empty");
        assert_eq!(variant_name("1"), "V1");
        assert_eq!(variant_name("*"), "U002A");
        assert_eq!(type_name(&["ContainerCreate".into(), "Body".into()]), "ContainerCreateBody");
    }
}
