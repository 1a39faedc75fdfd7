//! Lenient request inputs: a body field, query parameter or path segment that never fails the
//! parse of the request it sits in. A missing value or one of the wrong type becomes a value the
//! handler sees, so every field's own rule can report it (with the field's name), all at once.
//!
//! The OpenAPI document still shows the declared type.

use std::borrow::Cow;

use entities::domain::Invalid;
use poem_openapi::{
    registry::{MetaSchema, MetaSchemaRef, Registry},
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

/// A decimal amount as sent: a JSON number or a numeric string, kept as its decimal text so that
/// no floating point ever touches money.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecimalText(pub String);

impl Type for DecimalText {
    const IS_REQUIRED: bool = true;
    type RawValueType = Self;
    type RawElementValueType = Self;

    fn name() -> Cow<'static, str> {
        "decimal".into()
    }

    fn schema_ref() -> MetaSchemaRef {
        MetaSchemaRef::Inline(Box::new(MetaSchema {
            description: Some("A decimal amount in major units: a JSON number or a numeric string"),
            any_of: vec![
                MetaSchemaRef::Inline(Box::new(MetaSchema::new("number"))),
                MetaSchemaRef::Inline(Box::new(MetaSchema::new("string"))),
            ],
            example: Some(serde_json::json!(19.99)),
            ..MetaSchema::ANY
        }))
    }

    fn as_raw_value(&self) -> Option<&Self> {
        Some(self)
    }

    fn raw_element_iter<'a>(&'a self) -> Box<dyn Iterator<Item = &'a Self> + 'a> {
        Box::new(std::iter::once(self))
    }
}

impl FromJsonStrictly for DecimalText {
    fn from_json_strictly(value: Value) -> Option<Self> {
        match value {
            Value::Number(number) => Some(DecimalText(number.to_string())),
            Value::String(text) => Some(DecimalText(text)),
            _ => None,
        }
    }
}

impl ToJSON for DecimalText {
    fn to_json(&self) -> Option<Value> {
        Some(Value::String(self.0.clone()))
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

/// A page of a listing: `limit` (1 to 500, default 100) and `offset` (default 0).
#[derive(Debug, Clone, Copy)]
pub struct Page {
    pub limit: u64,
    pub offset: u64,
}

impl Page {
    pub fn parse(limit: Option<Input<i64>>, offset: Option<Input<i64>>) -> Result<Self, ApiError> {
        const LIMIT: Invalid = Invalid("limit must be an integer between 1 and 500");
        const OFFSET: Invalid = Invalid("offset must be a non-negative integer");
        let limit = limit.unwrap_or(Input::Given(100)).parse(
            |n| {
                u64::try_from(n)
                    .ok()
                    .filter(|n| (1..=500).contains(n))
                    .ok_or(LIMIT)
            },
            LIMIT,
        );
        let offset = offset
            .unwrap_or(Input::Given(0))
            .parse(|n| u64::try_from(n).map_err(|_| OFFSET), OFFSET);
        let (limit, offset) = both(("limit", limit), ("offset", offset))?;
        Ok(Page { limit, offset })
    }
}
