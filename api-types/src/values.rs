//! How values look in responses: money as a JSON number in major units, times as ISO-8601 UTC
//! with milliseconds, currencies as their lower-case code, and fields that are always there
//! (`null` when empty). Each reads back with serde as it was written.

use std::borrow::Cow;

use chrono::{DateTime, SecondsFormat, Utc};
use entities::Money;
use poem_openapi::{
    registry::{MetaSchema, MetaSchemaRef},
    types::{ToJSON, Type},
};
use serde::{Deserialize, Deserializer, Serialize, Serializer, de::Error as _};

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

/// A time in a response: ISO-8601 UTC with milliseconds (`2026-11-23T10:15:00.000Z`), declared
/// as `format: date-time`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timestamp(pub DateTime<Utc>);

impl Type for Timestamp {
    const IS_REQUIRED: bool = true;
    type RawValueType = Self;
    type RawElementValueType = Self;

    fn name() -> Cow<'static, str> {
        "timestamp".into()
    }

    fn schema_ref() -> MetaSchemaRef {
        MetaSchemaRef::Inline(Box::new(MetaSchema {
            example: Some(serde_json::json!("2026-11-23T10:15:00.000Z")),
            ..MetaSchema::new_with_format("string", "date-time")
        }))
    }

    fn as_raw_value(&self) -> Option<&Self> {
        Some(self)
    }

    fn raw_element_iter<'a>(&'a self) -> Box<dyn Iterator<Item = &'a Self> + 'a> {
        Box::new(std::iter::once(self))
    }
}

impl ToJSON for Timestamp {
    fn to_json(&self) -> Option<serde_json::Value> {
        Some(serde_json::Value::String(iso8601(self.0)))
    }
}

/// A field that is always there, `null` when it has no value, and declared `nullable` (a plain
/// `Option` field would be declared optional and left out instead).
#[derive(Debug, Clone, PartialEq)]
pub struct Nullable<T>(pub Option<T>);

impl<T: Type> Type for Nullable<T> {
    const IS_REQUIRED: bool = true;
    type RawValueType = T::RawValueType;
    type RawElementValueType = T::RawElementValueType;

    fn name() -> Cow<'static, str> {
        format!("nullable_{}", T::name()).into()
    }

    fn schema_ref() -> MetaSchemaRef {
        MetaSchemaRef::Inline(Box::new(MetaSchema {
            nullable: true,
            all_of: vec![T::schema_ref()],
            ..MetaSchema::ANY
        }))
    }

    fn register(registry: &mut poem_openapi::registry::Registry) {
        T::register(registry);
    }

    fn as_raw_value(&self) -> Option<&Self::RawValueType> {
        self.0.as_ref().and_then(Type::as_raw_value)
    }

    fn raw_element_iter<'a>(
        &'a self,
    ) -> Box<dyn Iterator<Item = &'a Self::RawElementValueType> + 'a> {
        match &self.0 {
            Some(value) => value.raw_element_iter(),
            None => Box::new(std::iter::empty()),
        }
    }
}

impl<T: ToJSON> ToJSON for Nullable<T> {
    fn to_json(&self) -> Option<serde_json::Value> {
        Some(
            self.0
                .as_ref()
                .and_then(ToJSON::to_json)
                .unwrap_or(serde_json::Value::Null),
        )
    }
}

/// A currency in a response: the ISO 4217 code in lower case (`usd`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Currency(pub String);

impl Type for Currency {
    const IS_REQUIRED: bool = true;
    type RawValueType = Self;
    type RawElementValueType = Self;

    fn name() -> Cow<'static, str> {
        "currency".into()
    }

    fn schema_ref() -> MetaSchemaRef {
        MetaSchemaRef::Inline(Box::new(MetaSchema {
            description: Some("The ISO 4217 code of the price's currency, in lower case"),
            pattern: Some("^[a-z]{3}$".into()),
            example: Some(serde_json::json!("usd")),
            ..MetaSchema::new("string")
        }))
    }

    fn as_raw_value(&self) -> Option<&Self> {
        Some(self)
    }

    fn raw_element_iter<'a>(&'a self) -> Box<dyn Iterator<Item = &'a Self> + 'a> {
        Box::new(std::iter::once(self))
    }
}

impl ToJSON for Currency {
    fn to_json(&self) -> Option<serde_json::Value> {
        Some(serde_json::Value::String(self.0.clone()))
    }
}

// Responses only; parsing is there because poem-openapi's objects go both ways.

impl poem_openapi::types::ParseFromJSON for Timestamp {
    fn parse_from_json(value: Option<serde_json::Value>) -> poem_openapi::types::ParseResult<Self> {
        value
            .as_ref()
            .and_then(serde_json::Value::as_str)
            .and_then(|text| DateTime::parse_from_rfc3339(text).ok())
            .map(|time| Timestamp(time.with_timezone(&Utc)))
            .ok_or_else(|| poem_openapi::types::ParseError::custom("an ISO-8601 time"))
    }
}

impl poem_openapi::types::ParseFromJSON for Currency {
    fn parse_from_json(value: Option<serde_json::Value>) -> poem_openapi::types::ParseResult<Self> {
        match value {
            Some(serde_json::Value::String(code)) => Ok(Currency(code)),
            _ => Err(poem_openapi::types::ParseError::custom("a currency code")),
        }
    }
}

impl<T: poem_openapi::types::ParseFromJSON> poem_openapi::types::ParseFromJSON for Nullable<T> {
    fn parse_from_json(value: Option<serde_json::Value>) -> poem_openapi::types::ParseResult<Self> {
        match value {
            None | Some(serde_json::Value::Null) => Ok(Nullable(None)),
            value => T::parse_from_json(value)
                .map(|v| Nullable(Some(v)))
                .map_err(poem_openapi::types::ParseError::propagate),
        }
    }
}

// The same values with serde, for the readers of responses (the pages, the tests).

impl Serialize for Price {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.0.to_json_number().serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for Price {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let number = serde_json::Number::deserialize(deserializer)?;
        Money::parse_price(&number.to_string())
            .map(Price)
            .map_err(|e| D::Error::custom(e.0))
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&iso8601(self.0))
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        DateTime::parse_from_rfc3339(&text)
            .map(|time| Timestamp(time.with_timezone(&Utc)))
            .map_err(|_| D::Error::custom(format!("{text:?} is not an ISO-8601 time")))
    }
}

impl Serialize for Currency {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for Currency {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        String::deserialize(deserializer).map(Currency)
    }
}

impl<T: Serialize> Serialize for Nullable<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(serializer)
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Nullable<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Option::<T>::deserialize(deserializer).map(Nullable)
    }
}

impl<T> Default for Nullable<T> {
    fn default() -> Self {
        Nullable(None)
    }
}
