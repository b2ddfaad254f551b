//! Emits the Rust types of every shared type class (structs, open enums, aliases).

use std::collections::BTreeMap;

use proc_macro2::{Ident, Span, TokenStream};
use quote::quote;

use super::docs;
use crate::ir::history::SharedType;
use crate::ir::{ApiSpec, Field, History, Rest, Scalar, TypeDef, TypeExpr, TypeId, TypeKind};
use crate::version::VersionSet;

/// A Rust identifier, raw when the name says so (`r#type`).
pub fn ident(name: &str) -> Ident {
    match name.strip_prefix("r#") {
        Some(raw) => Ident::new_raw(raw, Span::call_site()),
        None => Ident::new(name, Span::call_site()),
    }
}

/// Module (under `shared/`) that holds the types used by exactly `versions`.
pub fn module_name(versions: VersionSet) -> String {
    versions.ident()
}

/// Renders type expressions of one spec as Rust, relative to a module.
pub struct TypeRenderer<'h> {
    pub history: &'h History,
    pub spec_index: usize,
    /// How a named type is reached: by its shared module, or through the version's `models`.
    pub named: NamedPath,
    pub uses_map: std::cell::Cell<bool>,
}

/// `use std::collections::HashMap;` for a module where a rendered type used a map
/// ([`TypeRenderer::uses_map`]), so no module imports it unused.
pub fn map_import(used: bool) -> Option<TokenStream> {
    used.then(|| {
        quote!(
            use std::collections::HashMap;
        )
    })
}

#[derive(Clone)]
pub enum NamedPath {
    /// From a module under `shared/`: sibling modules by `super::module::Name`.
    Shared { module: String },
    /// From a version module: `super::models::Name`.
    VersionModels,
}

impl TypeRenderer<'_> {
    fn spec(&self) -> &ApiSpec {
        &self.history.specs[self.spec_index]
    }

    pub fn render(&self, ty: &TypeExpr) -> TokenStream {
        match ty {
            TypeExpr::Named(id) => self.named(*id),
            TypeExpr::Scalar(s) => scalar(*s),
            TypeExpr::Array(t) => {
                let t = self.render(t);
                quote!(Vec<#t>)
            }
            TypeExpr::Map(t) => {
                self.uses_map.set(true);
                let t = self.render(t);
                quote!(HashMap<String, #t>)
            }
            TypeExpr::Nullable(t) => {
                let t = self.render(t);
                quote!(Option<#t>)
            }
            TypeExpr::Any => quote!(serde_json::Value),
        }
    }

    fn named(&self, id: TypeId) -> TokenStream {
        let name = ident(&self.spec().ty(id).name);
        match &self.named {
            NamedPath::VersionModels => quote!(super::models::#name),
            NamedPath::Shared { module } => {
                let target = module_name(self.history.class(self.spec_index, id).versions);
                if &target == module {
                    quote!(#name)
                } else {
                    let m = ident(&target);
                    quote!(super::#m::#name)
                }
            }
        }
    }
}

fn scalar(s: Scalar) -> TokenStream {
    match s {
        Scalar::String => quote!(String),
        Scalar::Binary => quote!(Vec<u8>),
        Scalar::Bool => quote!(bool),
        Scalar::I8 => quote!(i8),
        Scalar::I16 => quote!(i16),
        Scalar::I32 => quote!(i32),
        Scalar::I64 => quote!(i64),
        Scalar::U8 => quote!(u8),
        Scalar::U16 => quote!(u16),
        Scalar::U32 => quote!(u32),
        Scalar::U64 => quote!(u64),
        Scalar::F32 => quote!(f32),
        Scalar::F64 => quote!(f64),
    }
}

/// Emits one module of `shared/`: every class used by exactly the same versions.
pub fn shared_module(history: &History, module: &str, classes: &[&SharedType]) -> TokenStream {
    let mut items = Vec::new();
    let mut uses_map = false;
    let mut uses_serde = false;
    let mut uses_unknown = false;
    let mut uses_null_as_default = false;
    for class in classes {
        let spec = &history.specs[class.spec];
        let def = spec.ty(class.id);
        let r = TypeRenderer {
            history,
            spec_index: class.spec,
            named: NamedPath::Shared { module: module.to_string() },
            uses_map: std::cell::Cell::new(false),
        };
        let tokens = match &def.kind {
            TypeKind::Struct { fields, rest } => {
                uses_serde = true;
                uses_unknown |= rest.declared.is_none();
                uses_null_as_default |= fields.iter().any(|f| f.required && !f.nullable && may_be_null(&r, &f.ty));
                struct_tokens(&r, def, fields, rest)
            }
            TypeKind::Enum { values, default } => {
                uses_serde = true;
                enum_tokens(history, def, values, default.as_deref())
            }
            TypeKind::Alias(ty) => {
                let name = ident(&def.name);
                let doc = type_doc(history, def, None);
                let ty = r.render(ty);
                quote! { #doc pub type #name = #ty; }
            }
        };
        uses_map |= r.uses_map.get();
        items.push(tokens);
    }
    let header =
        docs::inner(&format!("Types shared by API versions {}.", classes.first().map(|c| c.versions.to_string()).unwrap_or_default()));
    let map_use = map_import(uses_map);
    let serde_use = uses_serde.then(|| {
        quote!(
            use serde::{Deserialize, Serialize};
        )
    });
    let json_use = match (uses_null_as_default, uses_unknown) {
        (true, true) => Some(quote!(
            use moby_api_runtime::json::{null_as_default, UnknownMembers};
        )),
        (true, false) => Some(quote!(
            use moby_api_runtime::json::null_as_default;
        )),
        (false, true) => Some(quote!(
            use moby_api_runtime::json::UnknownMembers;
        )),
        (false, false) => None,
    };
    quote! {
        #header
        #map_use
        #serde_use
        #json_use
        #(#items)*
    }
}

/// "Since API 1.25." for what does not exist in every generated version (`None` when it does).
pub fn availability(versions: VersionSet, generated: VersionSet) -> Option<String> {
    if versions == generated {
        return None;
    }
    let runs = versions.runs();
    let first = generated.first().map_or(crate::version::FIRST_MINOR, |v| v.minor);
    let last = generated.last().map_or(crate::version::LAST_MINOR, |v| v.minor);
    Some(match runs.as_slice() {
        [(a, b)] if b.minor == last => format!("Since API {a}."),
        [(a, b)] if a.minor == first => format!("Until API {b} (removed in {}).", crate::version::ApiVersion::new(b.minor + 1)),
        [(a, b)] if a == b => format!("Only in API {a}."),
        [(a, b)] => format!("Since API {a}, until API {b} (removed in {}).", crate::version::ApiVersion::new(b.minor + 1)),
        _ => format!("In API versions {versions}."),
    })
}

fn field_doc(f: &Field, versions: Option<VersionSet>, generated: VersionSet) -> TokenStream {
    let default = f.default.as_ref().map(|d| format!("Defaults to `{d}`."));
    let format = f.format.as_ref().map(|fm| format!("Format: `{fm}`."));
    let since = versions.and_then(|v| availability(v, generated));
    docs::outer(&docs::paragraphs([f.description.as_deref(), default.as_deref(), format.as_deref(), since.as_deref()]))
}

/// The type's description, and in which versions it exists when not in all of them.
fn type_doc(history: &History, def: &TypeDef, extra: Option<&str>) -> TokenStream {
    let since = history.types.get(&def.name).and_then(|t| availability(t.versions, history.covered()));
    docs::outer(&docs::paragraphs([def.description.as_deref(), extra, since.as_deref()]))
}

/// A struct by the decoding policy (ARCHITECTURE.md): optional members are `Option`s, a
/// required member that is absent or `null` reads as its type's default, and the members
/// the struct does not name are kept.
fn struct_tokens(r: &TypeRenderer<'_>, def: &TypeDef, fields: &[Field], rest: &Rest) -> TokenStream {
    let name = ident(&def.name);
    let doc = type_doc(r.history, def, None);
    let fields = fields.iter().map(|f| {
        let fname = ident(&f.name);
        let wire = &f.wire_name;
        let mut ty = r.render(&f.ty);
        if f.boxed {
            ty = quote!(Box<#ty>);
        }
        if f.secret {
            ty = quote!(moby_api_runtime::secret::Secret<#ty>);
        }
        let rename = (f.name.trim_start_matches("r#") != wire.as_str()).then(|| quote!(rename = #wire,));
        let (ty, attrs) = if !f.required {
            (quote!(Option<#ty>), quote!(#rename skip_serializing_if = "Option::is_none"))
        } else if f.nullable {
            (quote!(Option<#ty>), quote!(#rename))
        } else if may_be_null(r, &f.ty) {
            // Go sends `null` for an empty slice, map or pointer however the spec marks it.
            (ty, quote!(#rename default, deserialize_with = "null_as_default"))
        } else {
            // Engines leave out members the spec requires (28.5.2: ImageInspect `Container`).
            (ty, quote!(#rename default))
        };
        let serde_attr = (!attrs.is_empty()).then(|| quote!(#[serde(#attrs)]));
        // Said on the field only when it differs from the type's own versions (said on the type).
        let versions = r.history.types.get(&def.name).and_then(|t| t.fields.get(&f.wire_name).filter(|v| **v != t.versions)).copied();
        let doc = field_doc(f, versions, r.history.covered());
        quote! { #doc #serde_attr pub #fname: #ty, }
    });
    let rest_name = ident(&rest.name);
    let rest = match &rest.declared {
        Some(value) => {
            let value = r.render(value);
            r.uses_map.set(true);
            quote! {
                /// Members not named above.
                #[serde(flatten)]
                pub #rest_name: HashMap<String, #value>,
            }
        }
        None => quote! {
            /// Members this version does not define (a newer engine's), kept as sent.
            #[serde(flatten)]
            pub #rest_name: UnknownMembers,
        },
    };
    quote! {
        #doc
        #[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
        pub struct #name {
            #(#fields)*
            #rest
        }
    }
}

/// Whether the engine may send `null` for a value of this type: Go encodes empty slices,
/// maps and pointers (structs held by reference) as `null`, never strings, numbers or
/// booleans, whatever the spec says.
fn may_be_null(r: &TypeRenderer<'_>, ty: &TypeExpr) -> bool {
    match ty {
        TypeExpr::Array(_) | TypeExpr::Map(_) => true,
        TypeExpr::Named(id) => match &r.history.specs[r.spec_index].ty(*id).kind {
            TypeKind::Struct { .. } => true,
            TypeKind::Alias(t) => may_be_null(r, t),
            TypeKind::Enum { .. } => false,
        },
        TypeExpr::Scalar(_) | TypeExpr::Nullable(_) | TypeExpr::Any => false,
    }
}

fn enum_tokens(history: &History, def: &TypeDef, values: &[crate::ir::EnumValue], default: Option<&str>) -> TokenStream {
    let name = ident(&def.name);
    let doc = type_doc(history, def, Some("Open enum: a value this version does not list is kept in `Other` and written back unchanged."));
    let variants: Vec<Ident> = values.iter().map(|v| ident(&v.name)).collect();
    let wires: Vec<&str> = values.iter().map(|v| v.wire.as_str()).collect();
    let type_history = history.types.get(&def.name);
    let variant_docs = wires.iter().map(|w| {
        let line = format!("`{w}`");
        let since =
            type_history.and_then(|t| t.values.get(*w).filter(|v| **v != t.versions)).and_then(|v| availability(*v, history.covered()));
        docs::outer(&docs::paragraphs([Some(line.as_str()), since.as_deref()]))
    });
    let default_variant = default.and_then(|d| values.iter().position(|v| v.wire == d));
    let marks = (0..values.len()).map(|i| (Some(i) == default_variant).then(|| quote!(#[default])));
    let derive_default = default_variant.map(|_| quote!(Default,));
    // Every model has a default (the decoding policy reads an absent required member as it).
    let empty_default = default_variant.is_none().then(|| {
        quote! {
            /// The empty value, Go's zero value: what an absent member reads as.
            impl Default for #name {
                fn default() -> Self {
                    Self::Other(String::new())
                }
            }
        }
    });
    quote! {
        #doc
        #[derive(Debug, Clone, PartialEq, Eq, Hash, #derive_default)]
        pub enum #name {
            #( #variant_docs #marks #variants, )*
            /// A value not listed in this API version.
            Other(String),
        }

        impl #name {
            /// The value as sent on the wire.
            pub fn as_str(&self) -> &str {
                match self {
                    #( Self::#variants => #wires, )*
                    Self::Other(other) => other,
                }
            }
        }

        impl From<&str> for #name {
            fn from(value: &str) -> Self {
                match value {
                    #( #wires => Self::#variants, )*
                    other => Self::Other(other.to_owned()),
                }
            }
        }

        #empty_default

        impl std::fmt::Display for #name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl Serialize for #name {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }

        impl<'de> Deserialize<'de> for #name {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let value = String::deserialize(deserializer)?;
                Ok(Self::from(value.as_str()))
            }
        }
    }
}

/// `models.rs` of one version: re-exports of its types from `shared/`.
pub fn version_models(history: &History, spec_index: usize) -> TokenStream {
    let spec = &history.specs[spec_index];
    let mut by_module: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for i in 0..spec.types.len() {
        let class = history.class(spec_index, TypeId(i));
        by_module.entry(module_name(class.versions)).or_default().push(class.name.clone());
    }
    let header = docs::inner(&format!(
        "Every type of Engine API v{}: definitions and inline schemas (bodies, responses, nested objects).",
        spec.version
    ));
    let uses = by_module.into_iter().map(|(module, mut names)| {
        names.sort();
        let m = ident(&module);
        let names = names.iter().map(|n| ident(n));
        quote!(pub use crate::shared::#m::{ #(#names),* };)
    });
    quote! {
        #header
        #(#uses)*
    }
}

/// `roundtrip.rs` of one version: decode a response body into its typed model and back.
///
/// Every JSON answer an engine sends has an arm: each status the spec lists with a JSON
/// body (the long poll's document too), and for each operation the statuses it does not
/// list: an error status as the daemon's error body, a success status as the operation's
/// one JSON success type when it has exactly one.
pub fn version_roundtrip(history: &History, spec_index: usize) -> TokenStream {
    use crate::ir::{ContentKind, Status};
    let spec = &history.specs[spec_index];
    let r = TypeRenderer { history, spec_index, named: NamedPath::VersionModels, uses_map: std::cell::Cell::new(false) };
    let mut arms = Vec::new();
    let mut fallbacks = Vec::new();
    let mut answers_errors = Vec::new();
    for op in &spec.operations {
        let id = &op.id;
        let mut success_types: Vec<&TypeExpr> = Vec::new();
        for resp in &op.responses {
            let (Status::Code(code), Some(ty)) = (resp.status, resp.ty.as_ref()) else { continue };
            if !matches!(resp.content, ContentKind::Json | ContentKind::DeferredJson | ContentKind::JsonLines | ContentKind::JsonProgress) {
                continue;
            }
            if (200..300).contains(&code) && !success_types.contains(&ty) {
                success_types.push(ty);
            }
            let code = proc_macro2::Literal::u16_unsuffixed(code);
            let ty = r.render(ty);
            arms.push(quote! { (#id, #code) => roundtrip::<#ty>(body), });
        }
        if let [ty] = success_types.as_slice() {
            let ty = r.render(ty);
            fallbacks.push(quote! { (#id, 200..=299) => roundtrip::<#ty>(body), });
        }
        answers_errors.push(id);
    }
    let error_arm = spec.error_type().map(|error| {
        let ty = r.render(&TypeExpr::Named(error));
        quote! { (#(#answers_errors)|*, 400..=599) => roundtrip::<#ty>(body), }
    });
    let map_use = map_import(r.uses_map.get());
    let doc = docs::inner(
        "Decodes a JSON response body (or one line of a JSON-lines or progress stream) into this version's typed model and encodes it again, by operation id and status, by the decoding policy: for proxies that inspect traffic and for conformance tests.",
    );
    quote! {
        #doc
        #map_use
        use moby_api_runtime::json::roundtrip;

        /// `None` when the operation has no JSON body with this status in this version, or
        /// the operation id is not one of this version's.
        pub fn response(operation_id: &str, status: u16, body: &serde_json::Value) -> Option<Result<serde_json::Value, serde_json::Error>> {
            Some(match (operation_id, status) {
                #(#arms)*
                // Statuses the spec does not list.
                #(#fallbacks)*
                #error_arm
                _ => return None,
            })
        }
    }
}

pub fn feature_gate(versions: VersionSet) -> TokenStream {
    let features: Vec<String> = versions.iter().map(|v| v.ident()).collect();
    if features.len() == 1 {
        let f = &features[0];
        quote!(#[cfg(feature = #f)])
    } else {
        quote!(#[cfg(any( #(feature = #features),* ))])
    }
}

#[cfg(test)]
mod tests {
    use super::availability;
    use crate::version::VersionSet;

    #[test]
    fn availability_reads_naturally() {
        let say = |s: &str| availability(VersionSet::parse(s).unwrap(), VersionSet::all());
        assert_eq!(say("all"), None);
        assert_eq!(say("1.25.."), Some("Since API 1.25.".into()));
        assert_eq!(say("..=1.40"), Some("Until API 1.40 (removed in 1.41).".into()));
        assert_eq!(say("1.30..=1.40"), Some("Since API 1.30, until API 1.40 (removed in 1.41).".into()));
        assert_eq!(say("1.24"), Some("Until API 1.24 (removed in 1.25).".into()));
        assert_eq!(say("1.33"), Some("Only in API 1.33.".into()));
        assert_eq!(say("1.25..=1.27, 1.30.."), Some("In API versions 1.25–1.27, 1.30–1.49.".into()));
    }
}
