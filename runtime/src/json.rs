//! JSON helpers used by the generated models, and the decoding policy of whole bodies.
//!
//! The policy, as in the Go client: no body an engine accepting the version
//! sends may fail to decode. `null` where a value is expected reads as the type's default
//! (Go's zero value), inside a document ([`null_as_default`], on required members) and as
//! the whole document ([`from_slice`], [`from_value`]); the engine answers `null` for the
//! changes of an unchanged container, where the spec says array.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::marker::PhantomData;

use serde::de::{DeserializeOwned, MapAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize};

/// The members of a JSON object that its model does not define, by wire name: every
/// generated struct keeps them (`unknown_members`, the `#[rest]` of [`object!`]), so a body decoded
/// and encoded again loses nothing, and a caller can read what a newer engine added.
pub type UnknownMembers = BTreeMap<String, serde_json::Value>;

/// Reads `null` as the type's default: the engine sends `null` for empty collections
/// and structs that the spec marks as required (Go encodes an empty slice, map or nil
/// pointer as `null`; Engine 20.10 does so for `/info`'s `DriverStatus`, an image's
/// `RepoDigests` and more); with `#[serde(default)]` beside it, an absent member reads the
/// same way.
pub fn null_as_default<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de> + Default,
{
    Ok(Option::<T>::deserialize(deserializer)?.unwrap_or_default())
}

/// A generated struct read as a JSON object, member by member ([`object!`] implements it
/// and `Deserialize` through [`read_object`]): a `match` on the member's wire name.
///
/// Reading starts from `Default::default()`, so an absent member is its default (the
/// decoding policy); a member sent twice keeps its last value, as the engine's Go decoder
/// does; a member the struct does not name goes into its rest (`unknown_members`).
/// `serde(flatten)` would do the last part by buffering every member, and serde's derived
/// code for it was the largest part of the generated crate's compile time.
pub trait Object: Default {
    /// The struct's name, for "expected struct …" errors.
    const NAME: &'static str;

    /// Reads the value of `member` from `value` into `self`.
    fn read_member<'de, A: MapAccess<'de>>(&mut self, member: Member<'de>, value: &mut A) -> Result<(), A::Error>;
}

/// The `Deserialize` of an [`Object`]: a JSON object, member by member.
pub fn read_object<'de, D: Deserializer<'de>, T: Object>(deserializer: D) -> Result<T, D::Error> {
    struct ObjectVisitor<T>(PhantomData<T>);

    impl<'de, T: Object> Visitor<'de> for ObjectVisitor<T> {
        type Value = T;

        fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            write!(formatter, "struct {}", T::NAME)
        }

        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<T, A::Error> {
            let mut object = T::default();
            while let Some(member) = map.next_key::<Member<'de>>()? {
                object.read_member(member, &mut map)?;
            }
            Ok(object)
        }
    }

    deserializer.deserialize_map(ObjectVisitor(PhantomData))
}

/// A generated model: the struct as written, plus `Serialize` and `Deserialize` (through
/// [`Object`]) by the decoding policy, from one wire name per field:
///
/// ```
/// moby_api_runtime::json::object! {
///     /// A mount.
///     #[derive(Debug, Clone, PartialEq, Default)]
///     pub struct Mount {
///         /// Always written; absent reads as `""`.
///         #[wire("Source")]
///         pub source: String,
///         /// Go's `null` for an empty map reads as empty.
///         #[wire("Labels", or_default)]
///         pub labels: std::collections::HashMap<String, String>,
///         /// Not written when `None`.
///         #[wire("Size", optional)]
///         pub size: Option<i64>,
///         #[rest]
///         /// Every other member, kept as sent and written back.
///         pub unknown_members: moby_api_runtime::json::UnknownMembers,
///     }
/// }
/// let mount: Mount = serde_json::from_str(r#"{"Labels": null, "Source": "/a", "New": 1}"#).unwrap();
/// assert_eq!(serde_json::to_string(&mount).unwrap(), r#"{"Source":"/a","Labels":{},"New":1}"#);
/// ```
///
/// A mode other than `optional` and `or_default` is an error:
///
/// ```compile_fail
/// moby_api_runtime::json::object! {
///     #[derive(Default)]
///     pub struct Mount {
///         #[wire("Size", optinal)]
///         pub size: Option<i64>,
///         #[rest]
///         pub unknown_members: moby_api_runtime::json::UnknownMembers,
///     }
/// }
/// ```
///
/// What serde's derive would make of the same struct (with `flatten` for the rest) was most
/// of the generated crate's compile time; this is one `match` and one list of writes.
#[macro_export]
macro_rules! object {
    (
        $(#[$attr:meta])*
        pub struct $name:ident {
            $(
                $(#[doc = $doc:literal])*
                #[wire($wire:literal $(, $mode:ident)?)]
                pub $field:ident : $ty:ty,
            )*
            #[rest]
            $(#[doc = $rest_doc:literal])*
            pub $rest:ident : $rest_ty:ty $(,)?
        }
    ) => {
        $(#[$attr])*
        pub struct $name {
            $( $(#[doc = $doc])* pub $field: $ty, )*
            $(#[doc = $rest_doc])*
            pub $rest: $rest_ty,
        }

        // How the `Deserialize` below reads it: a detail that would be noise on every
        // model's page.
        #[doc(hidden)]
        impl $crate::json::Object for $name {
            const NAME: &'static str = stringify!($name);

            fn read_member<'de, A: $crate::json::__serde::de::MapAccess<'de>>(
                &mut self,
                member: $crate::json::Member<'de>,
                value: &mut A,
            ) -> Result<(), A::Error> {
                match member.as_str() {
                    $( $wire => $crate::object!(@read self.$field, value $(, $mode)?), )*
                    _ => $crate::json::__read_unknown(member, value).map(|(name, member)| {
                        self.$rest.insert(name, member);
                    }),
                }
            }
        }

        impl<'de> $crate::json::__serde::Deserialize<'de> for $name {
            fn deserialize<D: $crate::json::__serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                $crate::json::read_object(deserializer)
            }
        }

        impl $crate::json::__serde::Serialize for $name {
            #[allow(clippy::question_mark)]
            fn serialize<S: $crate::json::__serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                use $crate::json::__serde::ser::SerializeMap;
                let mut map = serializer.serialize_map(None)?;
                // An early return per member rather than `?`: the same, with less for rustc
                // to infer and lower, times every member of every model (and a third less
                // memory to build them all).
                $(
                    if let Err(error) = $crate::object!(@write map, $wire, &self.$field $(, $mode)?) {
                        return Err(error);
                    }
                )*
                if let Err(error) = $crate::json::__write_unknown(&mut map, &self.$rest) {
                    return Err(error);
                }
                map.end()
            }
        }
    };
    // The modes, each by name, so that a misspelt one does not compile.
    (@read $slot:expr, $value:ident, or_default) => { $crate::json::__read_into_or_default(&mut $slot, $value) };
    (@read $slot:expr, $value:ident $(, optional)?) => { $crate::json::__read_into(&mut $slot, $value) };
    (@write $map:ident, $wire:literal, $field:expr, optional) => { $crate::json::__write_optional(&mut $map, $wire, $field) };
    (@write $map:ident, $wire:literal, $field:expr $(, or_default)?) => { $map.serialize_entry($wire, $field) };
}

pub use crate::object;

#[doc(hidden)]
pub use serde as __serde;

/// The name of an object's member, borrowed from the input where the deserializer can.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member<'de>(Cow<'de, str>);

impl Member<'_> {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl From<Member<'_>> for String {
    fn from(member: Member<'_>) -> String {
        member.0.into_owned()
    }
}

impl<'de> Deserialize<'de> for Member<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct MemberVisitor;

        impl<'de> Visitor<'de> for MemberVisitor {
            type Value = Member<'de>;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("a member name")
            }

            fn visit_borrowed_str<E>(self, name: &'de str) -> Result<Member<'de>, E> {
                Ok(Member(Cow::Borrowed(name)))
            }

            fn visit_str<E>(self, name: &str) -> Result<Member<'de>, E> {
                Ok(Member(Cow::Owned(name.to_owned())))
            }

            fn visit_string<E>(self, name: String) -> Result<Member<'de>, E> {
                Ok(Member(Cow::Owned(name)))
            }
        }

        deserializer.deserialize_str(MemberVisitor)
    }
}

// What [`object!`] expands to, one call per member: the generic work is here, once.

#[doc(hidden)]
pub fn __read_into<'de, T: Deserialize<'de>, A: MapAccess<'de>>(slot: &mut T, map: &mut A) -> Result<(), A::Error> {
    *slot = map.next_value()?;
    Ok(())
}

#[doc(hidden)]
pub fn __read_into_or_default<'de, T: Deserialize<'de> + Default, A: MapAccess<'de>>(slot: &mut T, map: &mut A) -> Result<(), A::Error> {
    *slot = next_value_or_default(map)?;
    Ok(())
}

/// A member the struct does not name, for its rest (a map of JSON values, or of the type
/// the schema's `additionalProperties` gives).
#[doc(hidden)]
pub fn __read_unknown<'de, T: Deserialize<'de>, A: MapAccess<'de>>(member: Member<'de>, map: &mut A) -> Result<(String, T), A::Error> {
    Ok((member.into(), map.next_value()?))
}

#[doc(hidden)]
pub fn __write_optional<M: serde::ser::SerializeMap, T: Serialize>(map: &mut M, wire: &'static str, value: &Option<T>) -> Result<(), M::Error> {
    match value {
        Some(value) => map.serialize_entry(wire, value),
        None => Ok(()),
    }
}

#[doc(hidden)]
pub fn __write_unknown<'a, M: serde::ser::SerializeMap, T: Serialize + 'a>(
    map: &mut M,
    rest: impl IntoIterator<Item = (&'a String, &'a T)>,
) -> Result<(), M::Error> {
    for (member, value) in rest {
        map.serialize_entry(member, value)?;
    }
    Ok(())
}

/// The next value of `map`, `null` read as the default: [`null_as_default`] for an
/// [`Object`]'s required members.
pub fn next_value_or_default<'de, A, T>(map: &mut A) -> Result<T, A::Error>
where
    A: MapAccess<'de>,
    T: Deserialize<'de> + Default,
{
    Ok(map.next_value::<Option<T>>()?.unwrap_or_default())
}

/// Decodes a whole JSON body; a body that is `null` reads as `T::default()`.
pub fn from_slice<T: DeserializeOwned + Default>(bytes: &[u8]) -> Result<T, serde_json::Error> {
    Ok(serde_json::from_slice::<Option<T>>(bytes)?.unwrap_or_default())
}

/// [`from_slice`] for a document already parsed into a [`serde_json::Value`].
pub fn from_value<T: DeserializeOwned + Default>(body: &serde_json::Value) -> Result<T, serde_json::Error> {
    Ok(Option::<T>::deserialize(body)?.unwrap_or_default())
}

/// What [`roundtrip`] makes of a body: the value as the typed model keeps it, or why the
/// body does not decode.
pub type Decoded = Result<serde_json::Value, serde_json::Error>;

/// Decodes `body` as `T` (by the policy of [`from_value`]) and encodes it again: what the
/// typed model keeps of a value. A `null` in `body` is `null` again where it was: the model
/// read it as its default (absent, empty), which carries nothing the `null` did not, and a
/// client that prints what it got (`docker inspect`) would otherwise show a difference.
pub fn roundtrip<T>(body: &serde_json::Value) -> Decoded
where
    T: DeserializeOwned + Default + Serialize,
{
    let mut kept = serde_json::to_value(from_value::<T>(body)?)?;
    restore_nulls(body, &mut kept);
    Ok(kept)
}

/// Puts back every `null` of `sent` into `kept` at the same place (object member or array
/// index), where `kept` has the default the decoding policy made of it.
fn restore_nulls(sent: &serde_json::Value, kept: &mut serde_json::Value) {
    use serde_json::Value;
    match (sent, kept) {
        (Value::Null, kept) => *kept = Value::Null,
        (Value::Object(sent), Value::Object(kept)) => {
            for (name, value) in sent {
                match kept.get_mut(name) {
                    Some(inner) => restore_nulls(value, inner),
                    None if value.is_null() => {
                        kept.insert(name.clone(), Value::Null);
                    }
                    None => {}
                }
            }
        }
        (Value::Array(sent), Value::Array(kept)) if sent.len() == kept.len() => {
            for (value, inner) in sent.iter().zip(kept) {
                restore_nulls(value, inner);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    #[derive(Deserialize, Serialize, Default, Debug, PartialEq)]
    struct Volume {
        #[serde(rename = "Options", default, deserialize_with = "null_as_default")]
        options: BTreeMap<String, String>,
        #[serde(rename = "Labels", default, skip_serializing_if = "Option::is_none")]
        labels: Option<BTreeMap<String, String>>,
        #[serde(rename = "Name", default)]
        name: String,
    }

    #[test]
    fn a_roundtrip_keeps_the_nulls_it_was_sent_and_nothing_else() {
        let sent = serde_json::json!({"Options": null, "Labels": null, "Name": "v"});
        assert_eq!(roundtrip::<Volume>(&sent).unwrap(), sent);
        // Where nothing was null, the model's encoding stands: absent stays absent.
        let sent = serde_json::json!({"Options": {"o": "1"}, "Name": "v"});
        assert_eq!(roundtrip::<Volume>(&sent).unwrap(), sent);
        assert_eq!(roundtrip::<Volume>(&serde_json::Value::Null).unwrap(), serde_json::Value::Null);
    }

    #[derive(Deserialize, Default, Debug, PartialEq)]
    struct Holder {
        #[serde(default, deserialize_with = "null_as_default")]
        items: Vec<String>,
    }

    #[test]
    fn null_and_missing_read_as_empty() {
        let a: Holder = serde_json::from_str(r#"{"items": null}"#).unwrap();
        let b: Holder = serde_json::from_str(r#"{}"#).unwrap();
        let c: Holder = serde_json::from_str(r#"{"items": ["x"]}"#).unwrap();
        assert!(a.items.is_empty() && b.items.is_empty());
        assert_eq!(c.items, ["x"]);
        assert!(serde_json::from_str::<Holder>(r#"{"items": 3}"#).is_err());
    }

    crate::json::object! {
        /// What the generator emits for a struct.
        #[derive(Default, Debug, PartialEq)]
        pub struct Mount {
            #[wire("Source")]
            pub source: String,
            /// Documented.
            #[wire("Labels", or_default)]
            pub labels: BTreeMap<String, String>,
            #[wire("Size", optional)]
            pub size: Option<i64>,
            #[wire("Status")]
            pub status: Option<String>,
            #[rest]
            pub unknown_members: UnknownMembers,
        }
    }

    #[test]
    fn an_object_reads_its_members_keeps_the_others_and_takes_the_last_of_a_repeated_one() {
        let sent = r#"{"Source": "/a", "New\u0041": [1], "Labels": null, "Size": 3, "Source": "/b", "Extra": {"x": null}}"#;
        let mount: Mount = serde_json::from_str(sent).unwrap();
        assert_eq!((mount.source.as_str(), mount.labels.len(), mount.size), ("/b", 0, Some(3)));
        assert_eq!(serde_json::Value::Object(mount.unknown_members.clone().into_iter().collect()), serde_json::json!({"NewA": [1], "Extra": {"x": null}}));
        // Optional members are left out when `None`, required ones are written (`null` if nullable).
        assert_eq!(serde_json::to_string(&mount).unwrap(), r#"{"Source":"/b","Labels":{},"Size":3,"Status":null,"Extra":{"x":null},"NewA":[1]}"#);
        // Absent members are their defaults; from a `Value` (owned member names) the same.
        assert_eq!(serde_json::from_str::<Mount>("{}").unwrap(), Mount::default());
        assert_eq!(serde_json::from_value::<Mount>(serde_json::json!({"Size": 1, "Other": 2})).unwrap().size, Some(1));
        // A wrong type is an error that names where it is; so is what is not an object.
        let error = serde_json::from_str::<Mount>(r#"{"Size": "big"}"#).unwrap_err().to_string();
        assert!(error.contains("expected i64") && error.contains("column"), "{error}");
        let error = serde_json::from_str::<Mount>("[1]").unwrap_err().to_string();
        assert!(error.contains("expected struct Mount"), "{error}");
    }

    #[test]
    fn a_null_document_reads_as_the_default() {
        assert_eq!(from_slice::<Vec<String>>(b"null").unwrap(), Vec::<String>::new());
        assert_eq!(from_slice::<Vec<String>>(b" null\n").unwrap(), Vec::<String>::new());
        assert_eq!(from_slice::<Holder>(b"null").unwrap(), Holder::default());
        assert_eq!(from_value::<Vec<String>>(&serde_json::Value::Null).unwrap(), Vec::<String>::new());
        assert_eq!(from_slice::<Vec<String>>(br#"["a"]"#).unwrap(), ["a"]);
        // Anything else that is not the type is still an error.
        assert!(from_slice::<Vec<String>>(b"{}").is_err());
        assert!(from_slice::<Vec<String>>(b"").is_err());
    }

    #[test]
    fn roundtrip_keeps_what_the_type_keeps() {
        #[derive(Deserialize, Serialize, Default)]
        struct Known {
            #[serde(rename = "A")]
            a: i64,
        }
        let v = roundtrip::<Known>(&serde_json::json!({"A": 1, "B": 2})).unwrap();
        assert_eq!(v, serde_json::json!({"A": 1}));

        #[derive(Deserialize, Serialize, Default)]
        struct Keeping {
            #[serde(rename = "A")]
            a: i64,
            #[serde(flatten)]
            unknown_members: BTreeMap<String, serde_json::Value>,
        }
        let body = serde_json::json!({"A": 1, "B": {"C": [1, 2]}});
        assert_eq!(roundtrip::<Keeping>(&body).unwrap(), body);
        // A null body reads as the empty list, and goes out as the null it was.
        assert_eq!(from_value::<Vec<Known>>(&serde_json::Value::Null).unwrap().len(), 0);
        assert_eq!(roundtrip::<Vec<Known>>(&serde_json::Value::Null).unwrap(), serde_json::Value::Null);
    }
}
