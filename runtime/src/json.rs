//! JSON helpers used by the generated models.

use serde::{Deserialize, Deserializer, Serialize};

/// Reads `null` as the type's default: the engine sends `null` for empty collections
/// that the spec marks as required (see NOTES.md, "Real 20.10 payloads").
pub fn null_as_default<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de> + Default,
{
    Ok(Option::<T>::deserialize(deserializer)?.unwrap_or_default())
}

/// What [`roundtrip`] makes of a body: the value as the typed model keeps it, or why the
/// body does not decode.
pub type Decoded = Result<serde_json::Value, serde_json::Error>;

/// Decodes `body` as `T` and encodes it again: what the typed model keeps of a value.
pub fn roundtrip<T>(body: &serde_json::Value) -> Decoded
where
    T: for<'de> Deserialize<'de> + Serialize,
{
    let typed = T::deserialize(body)?;
    serde_json::to_value(typed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Deserialize)]
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
    fn roundtrip_drops_unknown_members_only() {
        #[derive(Deserialize, Serialize)]
        struct Known {
            #[serde(rename = "A")]
            a: i64,
        }
        let v = roundtrip::<Known>(&serde_json::json!({"A": 1, "B": 2})).unwrap();
        assert_eq!(v, serde_json::json!({"A": 1}));
    }
}
