//! Emits the Rust types of every shared type class (structs, open enums, aliases).

use std::collections::BTreeMap;

use proc_macro2::{Ident, Span, TokenStream};
use quote::quote;

use super::docs;
use crate::ir::history::SharedType;
use crate::ir::{Field, History, Rest, Scalar, TypeDef, TypeExpr, TypeId, TypeKind};
use crate::version::VersionSet;

/// A Rust identifier, raw when the name says so (`r#type`).
pub fn ident(name: &str) -> Ident {
    match name.strip_prefix("r#") {
        Some(raw) => Ident::new_raw(raw, Span::call_site()),
        None => Ident::new(name, Span::call_site()),
    }
}

/// Renders type expressions of one spec as Rust, relative to a module.
pub struct TypeRenderer<'h> {
    pub history: &'h History,
    pub spec_index: usize,
    /// How a named type is reached: by its shared module, or through the version's `models`.
    pub named: NamedPath<'h>,
    pub uses_map: std::cell::Cell<bool>,
}

impl<'h> TypeRenderer<'h> {
    /// A renderer for the types of spec `spec_index` that imports them into `imports`' file.
    pub fn importing(history: &'h History, spec_index: usize, imports: &'h Imports) -> Self {
        TypeRenderer { history, spec_index, named: NamedPath::Imported(imports), uses_map: std::cell::Cell::new(false) }
    }

    /// A renderer for code that a macro expands in a version's module, where the version's
    /// models are in scope by name ([`NamedPath::VersionScope`]).
    pub fn in_version_scope(history: &'h History, spec_index: usize) -> Self {
        TypeRenderer { history, spec_index, named: NamedPath::VersionScope, uses_map: std::cell::Cell::new(false) }
    }
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
pub enum NamedPath<'h> {
    /// From a module under `shared/`: sibling modules by `super::module::Name`.
    Shared { module: String },
    /// Imported by name into one file (the operation modules, the version modules).
    Imported(&'h Imports),
    /// By name, as a version module that imports its models whole sees them; a map by its
    /// path, which needs no import.
    VersionScope,
}

/// The `use` declarations of one generated file, collected while its items are rendered, so
/// that the items name types without paths and the file imports exactly what it uses.
pub struct Imports {
    /// Where the file takes a model from: its version's `models` (a version module) or the
    /// type's shared module.
    models: ModelsFrom,
    /// The file's own module path: what it defines needs no import.
    here: Option<String>,
    names: std::cell::RefCell<BTreeMap<String, std::collections::BTreeSet<String>>>,
    map: std::cell::Cell<bool>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub enum ModelsFrom {
    /// `super::models` (a file of a version module).
    VersionModels,
    /// `crate::shared::<module>` (a file under `shared/`).
    Shared,
}

impl Imports {
    pub fn new(models: ModelsFrom) -> Self {
        Imports { models, here: None, names: Default::default(), map: Default::default() }
    }

    /// Imports for the file of module `path` (`crate::shared::v1_41::server`).
    pub fn in_module(mut self, path: String) -> Self {
        self.here = Some(path);
        self
    }

    /// `name`, imported from `module` (a path such as `crate::shared::v1_41::params`).
    pub fn name(&self, module: impl Into<String>, name: &str) -> Ident {
        let module = module.into();
        if self.here.as_ref() != Some(&module) {
            self.names.borrow_mut().entry(module).or_default().insert(name.to_owned());
        }
        ident(name)
    }

    /// An operation item of `kind` emitted in shared module `module`: a version's file takes
    /// it from the version's module of that kind, which re-exports it.
    pub fn item(&self, kind: super::operation::Kind, module: &str, name: &str) -> Ident {
        match self.models {
            ModelsFrom::VersionModels => self.name(format!("super::{}", kind.module()), name),
            ModelsFrom::Shared => self.name(kind.path(module), name),
        }
    }

    /// The type class `class_module::name`, from where this file takes models.
    fn model(&self, class_module: &str, name: &str) -> Ident {
        match self.models {
            ModelsFrom::VersionModels => self.name("super::models", name),
            ModelsFrom::Shared => self.name(format!("crate::shared::{class_module}"), name),
        }
    }

    /// The `use` declarations; the `HashMap` import when a rendered type used a map.
    pub fn tokens(&self) -> TokenStream {
        let uses = self
            .names
            .borrow()
            .iter()
            .map(|(module, names)| {
                let path: syn::Path = syn::parse_str(module).expect("module paths are built from identifiers");
                // A version module's file takes its version's own names whole: those lists
                // (every model and parameter struct a `Client` uses) were a fifth of the
                // per-version code, and a glob cannot hide a name the file defines itself.
                if self.models == ModelsFrom::VersionModels && module.starts_with("super::") {
                    return quote!(use #path::*;);
                }
                let names = names.iter().map(|n| ident(n));
                quote!(use #path::{#(#names),*};)
            })
            .collect::<Vec<_>>();
        let map = map_import(self.map.get());
        quote! { #map #(#uses)* }
    }
}

impl TypeRenderer<'_> {
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
                if let NamedPath::Imported(imports) = &self.named {
                    imports.map.set(true);
                }
                let t = self.render(t);
                if let NamedPath::VersionScope = self.named {
                    return quote!(std::collections::HashMap<String, #t>);
                }
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
        let class = self.history.class(self.spec_index, id);
        let name = ident(&class.name);
        match &self.named {
            NamedPath::Imported(imports) => {
                let name = imports.model(&class.module, &class.name);
                quote!(#name)
            }
            NamedPath::VersionScope => quote!(#name),
            NamedPath::Shared { module } => {
                let target = &class.module;
                if target == module {
                    quote!(#name)
                } else {
                    let m = ident(target);
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

/// Emits the types of one module of `shared/`: every class used by exactly the same
/// versions, after `header` (the module's docs and declarations).
pub fn shared_module(history: &History, module: &str, classes: &[&SharedType], header: TokenStream) -> TokenStream {
    let mut items = Vec::new();
    let mut uses_map = false;
    let mut uses_enum = false;
    let mut uses_unknown = false;
    let mut uses_struct = false;
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
                uses_struct = true;
                uses_unknown |= rest.declared.is_none();
                struct_tokens(&r, def, fields, rest)
            }
            TypeKind::Enum { values, default } => {
                uses_enum = true;
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
    let map_use = map_import(uses_map);
    // Structs are `object!`s; enums implement serde's traits themselves.
    let serde_use = uses_enum.then(|| {
        quote!(
            use serde::{Deserialize, Serialize};
        )
    });
    let json_use = match (uses_struct, uses_unknown) {
        (true, true) => Some(quote!(
            use moby_api_runtime::json::{object, UnknownMembers};
        )),
        (true, false) => Some(quote!(
            use moby_api_runtime::json::object;
        )),
        _ => None,
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
    let (Some(first), Some(last)) = (generated.first().map(|v| v.minor), generated.last().map(|v| v.minor)) else {
        return None;
    };
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
        // An absent required member reads as its default (engines leave some out: 28.5.2's
        // ImageInspect `Container`): `object!` reads from `Default`.
        let (ty, mode) = if !f.required {
            (quote!(Option<#ty>), Some(quote!(optional)))
        } else if f.nullable {
            (quote!(Option<#ty>), None)
        } else if may_be_null(r, &f.ty) {
            // Go sends `null` for an empty slice, map or pointer however the spec marks it.
            (ty, Some(quote!(or_default)))
        } else {
            (ty, None)
        };
        let mode = mode.map(|m| quote!(, #m));
        // Said on the field only when it differs from the type's own versions (said on the type).
        let versions = r.history.types.get(&def.name).and_then(|t| t.fields.get(&f.wire_name).filter(|v| **v != t.versions)).copied();
        let doc = field_doc(f, versions, r.history.covered());
        quote! { #doc #[wire(#wire #mode)] pub #fname: #ty, }
    });
    let rest_name = ident(&rest.name);
    let rest = match &rest.declared {
        Some(value) => {
            let value = r.render(value);
            r.uses_map.set(true);
            quote! {
                #[rest]
                /// Members not named above.
                pub #rest_name: HashMap<String, #value>,
            }
        }
        None => quote! {
            #[rest]
            /// Members this version does not define (a newer engine's), kept as sent.
            pub #rest_name: UnknownMembers,
        },
    };
    // Wrapped in `object! { … }` once formatted (`format::wrap_objects`).
    let mark: TokenStream = super::format::OBJECT_MARK.parse().expect("an attribute");
    quote! {
        #mark
        #doc
        #[derive(Debug, Clone, PartialEq, Default)]
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
    let mut by_module: BTreeMap<(String, VersionSet), Vec<String>> = BTreeMap::new();
    for i in 0..spec.types.len() {
        let class = history.class(spec_index, TypeId(i));
        by_module.entry((class.module.clone(), class.versions)).or_default().push(class.name.clone());
    }
    let header = docs::inner(&format!(
        "Every type of Engine API v{}: definitions and inline schemas (bodies, responses, nested objects).",
        spec.version
    ));
    let uses = super::operation::grouped_reexports(
        by_module.into_iter().map(|((module, versions), mut names)| {
            names.sort();
            let m = ident(&module);
            let names = names.iter().map(|n| ident(n));
            (versions, quote!(#m::{ #(#names),* }))
        }),
        spec.version,
    );
    quote! {
        #header
        #uses
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
        let generated = VersionSet::parse("..=1.49").unwrap();
        let say = |s: &str| availability(VersionSet::parse(s).unwrap().intersection(generated), generated);
        assert_eq!(say("all"), None);
        assert_eq!(say("1.25.."), Some("Since API 1.25.".into()));
        assert_eq!(say("..=1.40"), Some("Until API 1.40 (removed in 1.41).".into()));
        assert_eq!(say("1.30..=1.40"), Some("Since API 1.30, until API 1.40 (removed in 1.41).".into()));
        assert_eq!(say("1.24"), Some("Until API 1.24 (removed in 1.25).".into()));
        assert_eq!(say("1.33"), Some("Only in API 1.33.".into()));
        assert_eq!(say("1.25..=1.27, 1.30.."), Some("In API versions 1.25–1.27, 1.30–1.49.".into()));
    }
}
