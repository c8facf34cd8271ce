//! Typed pieces of a stream event, parsed straight from the event's text.
//!
//! Every stream event used to become a generic `serde_json::Value` (an `IndexMap` per object under
//! `preserve_order`): most of the CPU a request cost. A protocol now reads the few fields it needs into
//! a struct whose strings borrow from the event (`Text`), and falls back to the `Value` reading only for
//! what the typed reading refuses (a wrong type, a duplicate key, an error object), so every answer reads
//! exactly as before.

use std::borrow::Cow;
use std::fmt;
use std::marker::PhantomData;

use serde::de::value::MapAccessDeserializer;
use serde::de::{Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;

use super::Usage;

/// A JSON string borrowed from the event when it has no escapes, owned otherwise. (`Option<Cow>`
/// would always allocate: serde's `Option` does not forward `borrow`.)
#[derive(Debug, Deserialize)]
pub struct Text<'a>(#[serde(borrow)] pub Cow<'a, str>);

/// The first element of a JSON array; the rest are skipped without being built.
#[derive(Debug)]
pub struct First<T>(pub Option<T>);

impl<'de, T: Deserialize<'de>> Deserialize<'de> for First<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<T>(PhantomData<T>);
        impl<'de, T: Deserialize<'de>> Visitor<'de> for V<T> {
            type Value = First<T>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an array")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<First<T>, A::Error> {
                let first = seq.next_element()?;
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(First(first))
            }
        }
        d.deserialize_seq(V(PhantomData))
    }
}

/// A struct read only from a JSON object. serde's derived structs also accept an array (fields by
/// position), which the `Value` reading does not: the typed reading must refuse it too.
#[derive(Debug)]
pub struct Obj<T>(pub T);

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Obj<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<T>(PhantomData<T>);
        impl<'de, T: Deserialize<'de>> Visitor<'de> for V<T> {
            type Value = Obj<T>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an object")
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Obj<T>, A::Error> {
                T::deserialize(MapAccessDeserializer::new(map)).map(Obj)
            }
        }
        d.deserialize_map(V(PhantomData))
    }
}

/// `true` when the key is present, whatever its value (`null` included): a field whose mere presence
/// sends the event to the `Value` reading.
pub fn present<'de, D: Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    IgnoredAny::deserialize(d)?;
    Ok(true)
}

/// `usage` as both protocols send it. A count that is not a non-negative integer fails the typed
/// reading (the `Value` reading then drops just that count).
#[derive(Debug, Deserialize)]
pub struct TypedUsage {
    /// Tokens of the prompt, as the server counted them.
    pub prompt_tokens: Option<u64>,
    /// Tokens of the answer, as the server counted them.
    pub completion_tokens: Option<u64>,
}

impl From<TypedUsage> for Usage {
    fn from(u: TypedUsage) -> Usage {
        Usage {
            prompt_tokens: u.prompt_tokens,
            completion_tokens: u.completion_tokens,
        }
    }
}

/// Parse `data` as `T`; `None` when the typed reading refuses it (the caller reads it as a `Value`).
pub fn typed<'a, T: Deserialize<'a>>(data: &'a str) -> Option<T> {
    // serde's derived structs also accept a JSON array (fields by position); an event is an object.
    if !data.trim_start().starts_with('{') {
        return None;
    }
    serde_json::from_str(data).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Deserialize)]
    struct E<'a> {
        #[serde(borrow)]
        choices: Option<First<Text<'a>>>,
        #[serde(default, deserialize_with = "present")]
        error: bool,
    }

    #[test]
    fn plain_strings_borrow_and_escaped_ones_are_decoded() {
        let e: E = typed(r#"{"choices":["a b","x"],"other":{"k":[1]}}"#).unwrap();
        assert!(matches!(
            e.choices.unwrap().0.unwrap().0,
            Cow::Borrowed("a b")
        ));
        let e: E = typed(r#"{"choices":["\u4f60\n"]}"#).unwrap();
        assert_eq!(e.choices.unwrap().0.unwrap().0, "你\n");
        let e: E = typed(r#"{"choices":[]}"#).unwrap();
        assert!(e.choices.unwrap().0.is_none());
    }

    #[test]
    fn a_present_key_is_seen_even_when_null_and_a_wrong_type_is_refused() {
        assert!(typed::<E>(r#"{"error":null}"#).unwrap().error);
        assert!(!typed::<E>(r#"{}"#).unwrap().error);
        assert!(typed::<E>(r#"{"choices":{"0":"a"}}"#).is_none());
        assert!(typed::<E>(r#"{"choices":["a"],"choices":["b"]}"#).is_none());
        assert!(typed::<E>("[1]").is_none());
    }
}
