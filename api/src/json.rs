//! How values look in responses: money as a JSON number in major units, times as ISO-8601 UTC
//! with milliseconds.

use std::borrow::Cow;

use chrono::{DateTime, SecondsFormat, Utc};
use entities::Money;
use poem_openapi::{
    registry::{MetaSchema, MetaSchemaRef},
    types::{ToJSON, Type},
};

/// `2026-11-23T10:15:00.000Z`
pub fn iso8601(time: DateTime<Utc>) -> String {
    time.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// A price in a response: a JSON number in major units (`19.99`), from integer cents.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Price(pub Money);

impl Type for Price {
    const IS_REQUIRED: bool = true;
    type RawValueType = Self;
    type RawElementValueType = Self;

    fn name() -> Cow<'static, str> {
        "price".into()
    }

    fn schema_ref() -> MetaSchemaRef {
        MetaSchemaRef::Inline(Box::new(MetaSchema {
            description: Some(
                "An amount in major units with at most 2 decimals (integer cents on the server)",
            ),
            example: Some(serde_json::json!(19.99)),
            ..MetaSchema::new("number")
        }))
    }

    fn as_raw_value(&self) -> Option<&Self> {
        Some(self)
    }

    fn raw_element_iter<'a>(&'a self) -> Box<dyn Iterator<Item = &'a Self> + 'a> {
        Box::new(std::iter::once(self))
    }
}

impl ToJSON for Price {
    fn to_json(&self) -> Option<serde_json::Value> {
        Some(serde_json::Value::Number(self.0.to_json_number()))
    }
}

impl poem_openapi::types::ParseFromJSON for Price {
    fn parse_from_json(value: Option<serde_json::Value>) -> poem_openapi::types::ParseResult<Self> {
        match value {
            Some(serde_json::Value::Number(n)) => Money::parse_price(&n.to_string())
                .map(Price)
                .map_err(|e| poem_openapi::types::ParseError::custom(e.0)),
            _ => Err(poem_openapi::types::ParseError::expected_type(
                serde_json::Value::Null,
            )),
        }
    }
}
