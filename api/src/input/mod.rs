//! Lenient request inputs: a body field, query parameter or path segment that never fails the
//! parse of the request it sits in. A missing value or one of the wrong type becomes a value the
//! handler sees, so every field's own rule can report it (with the field's name), all at once.
//!
//! The OpenAPI document still shows the declared type.
//!
//! The parts: [`Text`] and its [`rules`] (text fields and parameters), [`DecimalText`] (prices),
//! [`Page`] (a listing's `limit` and `offset`).

mod page;
mod price;
pub mod rules;
mod text;

pub use page::{Bounded, Bounds, Limit, LimitBounds, Offset, OffsetBounds, Page};
pub use price::{DecimalText, PRICE_NOT_PLAIN, PRICE_PATTERN};
pub use text::{Text, TextRule};

use std::borrow::Cow;

use entities::domain::Invalid;
use poem_openapi::{
    registry::{MetaSchemaRef, Registry},
    types::{ParseFromJSON, ParseFromParameter, ParseResult, ToJSON, Type},
};
use serde_json::Value;

use crate::error::{ApiError, invalid};

/// What the client sent for one input.
#[derive(Debug, Clone, PartialEq)]
pub enum Input<T> {
    /// Absent (or JSON `null`).
    Missing,
    /// Present but not of the declared type.
    Malformed,
    Given(T),
}

impl<T> Input<T> {
    /// Applies the field's rule to a given value; a missing or malformed one fails with `otherwise`.
    pub fn parse<U>(
        self,
        rule: impl FnOnce(T) -> Result<U, Invalid>,
        otherwise: Invalid,
    ) -> Result<U, Invalid> {
        match self {
            Input::Given(value) => rule(value),
            Input::Missing | Input::Malformed => Err(otherwise),
        }
    }
}

impl<T: Type> Type for Input<T> {
    const IS_REQUIRED: bool = T::IS_REQUIRED;
    type RawValueType = T::RawValueType;
    type RawElementValueType = T::RawElementValueType;

    fn name() -> Cow<'static, str> {
        T::name()
    }

    fn schema_ref() -> MetaSchemaRef {
        T::schema_ref()
    }

    fn register(registry: &mut Registry) {
        T::register(registry);
    }

    fn as_raw_value(&self) -> Option<&Self::RawValueType> {
        match self {
            Input::Given(value) => value.as_raw_value(),
            _ => None,
        }
    }

    fn raw_element_iter<'a>(
        &'a self,
    ) -> Box<dyn Iterator<Item = &'a Self::RawElementValueType> + 'a> {
        match self {
            Input::Given(value) => value.raw_element_iter(),
            _ => Box::new(std::iter::empty()),
        }
    }

    fn is_none(&self) -> bool {
        matches!(self, Input::Missing)
    }
}

/// A JSON value of exactly one declared type: no coercion (a number is not a string).
pub trait FromJsonStrictly: Type + Sized {
    fn from_json_strictly(value: Value) -> Option<Self>;
}

impl FromJsonStrictly for String {
    fn from_json_strictly(value: Value) -> Option<Self> {
        match value {
            Value::String(text) => Some(text),
            _ => None,
        }
    }
}

/// A UUID: a JSON string holding one, white space around it allowed.
impl FromJsonStrictly for uuid::Uuid {
    fn from_json_strictly(value: Value) -> Option<Self> {
        match value {
            Value::String(text) => text.trim().parse().ok(),
            _ => None,
        }
    }
}

impl<T: FromJsonStrictly> ParseFromJSON for Input<T> {
    fn parse_from_json(value: Option<Value>) -> ParseResult<Self> {
        Ok(match value {
            None | Some(Value::Null) => Input::Missing,
            Some(value) => T::from_json_strictly(value).map_or(Input::Malformed, Input::Given),
        })
    }
}

impl<T: ToJSON> ToJSON for Input<T> {
    fn to_json(&self) -> Option<Value> {
        match self {
            Input::Given(value) => value.to_json(),
            _ => None,
        }
    }
}

impl<T: ParseFromParameter> ParseFromParameter for Input<T> {
    fn parse_from_parameter(value: &str) -> ParseResult<Self> {
        Ok(T::parse_from_parameter(value).map_or(Input::Malformed, Input::Given))
    }

    fn parse_from_parameters<I: IntoIterator<Item = A>, A: AsRef<str>>(
        iter: I,
    ) -> ParseResult<Self> {
        match iter.into_iter().next() {
            Some(value) => Self::parse_from_parameter(value.as_ref()),
            None => Ok(Input::Missing),
        }
    }
}

/// Checks two fields and reports every failure, in the order given.
pub fn both<A, B>(
    (a_name, a): (&str, Result<A, Invalid>),
    (b_name, b): (&str, Result<B, Invalid>),
) -> Result<(A, B), ApiError> {
    match (a, b) {
        (Ok(a), Ok(b)) => Ok((a, b)),
        (a, b) => Err(ApiError::Validation(
            [(a_name, a.err()), (b_name, b.err())]
                .into_iter()
                .filter_map(|(name, e)| e.map(|Invalid(message)| invalid(name, message)))
                .collect(),
        )),
    }
}

#[cfg(test)]
mod tests {
    use poem_openapi::types::ParseFromJSON;
    use serde_json::json;
    use uuid::Uuid;

    use super::Input;

    #[test]
    fn a_uuid_is_a_string_holding_one() {
        let id = Uuid::new_v4();
        let parse = |value| Input::<Uuid>::parse_from_json(value).unwrap();
        assert_eq!(parse(Some(json!(id.to_string()))), Input::Given(id));
        assert_eq!(parse(Some(json!(format!(" {id}\n")))), Input::Given(id));
        assert_eq!(parse(None), Input::Missing);
        assert_eq!(parse(Some(json!(null))), Input::Missing);
        for malformed in [
            json!(""),
            json!("   "),
            json!("1234"),
            json!(42),
            json!([id]),
        ] {
            assert_eq!(parse(Some(malformed)), Input::Malformed);
        }
    }
}
