//! JSON helpers used by the generated models, and the decoding policy of whole bodies.
//!
//! The policy, as in the Go client: no body an engine accepting the version
//! sends may fail to decode. `null` where a value is expected reads as the type's default
//! (Go's zero value), inside a document ([`null_as_default`], on required members) and as
//! the whole document ([`from_slice`], [`from_value`]); the engine answers `null` for the
//! changes of an unchanged container, where the spec says array.

use std::collections::BTreeMap;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer, Serialize};

/// The members of a JSON object that its model does not define, by wire name: every
/// generated struct keeps them (`unknown_members`, `#[serde(flatten)]`), so a body decoded
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
