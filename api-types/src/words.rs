//! The statuses the API shows, as enums of the OpenAPI document whose words are the domain's own:
//! [`OrderStatus`] is an `entities::order::Status`, [`WorkflowStatus`] an
//! `entities::order::WorkflowPhase`. Their words are spelt once, in `entities::order`; the
//! document lists them in the domain's order.

use std::borrow::Cow;

use entities::order::{Status, WorkflowPhase};
use poem_openapi::{
    registry::{MetaSchema, MetaSchemaRef, Registry},
    types::{ParseError, ParseFromJSON, ParseFromParameter, ParseResult, ToJSON, Type},
};
use serde::{Deserialize, Serialize};

/// Declares `$name`, a word of the API that is the domain's `$domain` (with its `ALL`, `as_str`
/// and `parse`), described in the document as `$description`.
macro_rules! word {
    ($(#[$attr:meta])* $name:ident($domain:ty), $description:literal) => {
        $(#[$attr])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub $domain);

        impl From<$domain> for $name {
            fn from(value: $domain) -> Self {
                $name(value)
            }
        }

        impl Type for $name {
            const IS_REQUIRED: bool = true;
            type RawValueType = Self;
            type RawElementValueType = Self;

            fn name() -> Cow<'static, str> {
                stringify!($name).into()
            }

            fn schema_ref() -> MetaSchemaRef {
                MetaSchemaRef::Reference(Self::name().into_owned())
            }

            fn register(registry: &mut Registry) {
                registry.create_schema::<Self, _>(Self::name().into_owned(), |_| MetaSchema {
                    description: Some($description),
                    enum_items: <$domain>::ALL
                        .iter()
                        .map(|value| serde_json::Value::from(value.as_str()))
                        .collect(),
                    ..MetaSchema::new("string")
                });
            }

            fn as_raw_value(&self) -> Option<&Self> {
                Some(self)
            }

            fn raw_element_iter<'a>(&'a self) -> Box<dyn Iterator<Item = &'a Self> + 'a> {
                Box::new(std::iter::once(self))
            }
        }

        impl ToJSON for $name {
            fn to_json(&self) -> Option<serde_json::Value> {
                Some(serde_json::Value::from(self.0.as_str()))
            }
        }

        impl ParseFromJSON for $name {
            fn parse_from_json(value: Option<serde_json::Value>) -> ParseResult<Self> {
                let value = value.unwrap_or_default();
                match value.as_str().map(<$domain>::parse) {
                    Some(Ok(word)) => Ok($name(word)),
                    _ => Err(ParseError::expected_type(value)),
                }
            }
        }

        impl ParseFromParameter for $name {
            fn parse_from_parameter(value: &str) -> ParseResult<Self> {
                <$domain>::parse(value)
                    .map($name)
                    .map_err(|_| ParseError::custom("Expect a valid enumeration value."))
            }
        }
    };
}

word!(
    /// Where an order is in its life.
    OrderStatus(Status),
    "Where an order is in its life."
);

word!(
    /// Where an order's workflow is: an order status, or before it (`reserving`) or instead of
    /// one (`rejected`: the reservation was refused).
    WorkflowStatus(WorkflowPhase),
    "Where an order's workflow is: an order status, or before it (`reserving`) or instead of one\n(`rejected`: the reservation was refused)."
);

/// The word a value of one of the API's enums is written as (`forSale`, `expired`): what its
/// JSON says, for pages that show it in an attribute.
pub fn word_of(value: &impl Serialize) -> String {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(word)) => word,
        _ => String::new(),
    }
}
