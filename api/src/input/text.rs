//! [`Text`]: a text input whose schema declares a rule that the handler, not poem-openapi,
//! enforces.

use std::{borrow::Cow, marker::PhantomData};

use poem_openapi::{
    registry::{MetaSchema, MetaSchemaRef},
    types::{ParseError, ParseFromParameter, ParseResult, ToJSON, Type},
};
use serde_json::Value;

use super::FromJsonStrictly;

/// A text input whose OpenAPI schema declares the rule the handler enforces (a format, lengths, a
/// pattern) without poem-openapi enforcing it: a value that breaks the rule still reaches the
/// handler, which answers with the contract's message for the field. Generated clients see the
/// rule; the server's answers stay the contract's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Text<R>(pub String, pub PhantomData<R>);

/// What a [`Text`] declares.
pub trait TextRule: Send + Sync + 'static {
    /// The schema's name (for poem-openapi's registry).
    const NAME: &'static str;
    /// The string schema with the rule's keywords.
    fn schema() -> MetaSchema;
}

impl<R: TextRule> Type for Text<R> {
    const IS_REQUIRED: bool = true;
    type RawValueType = Self;
    type RawElementValueType = Self;

    fn name() -> Cow<'static, str> {
        R::NAME.into()
    }

    fn schema_ref() -> MetaSchemaRef {
        MetaSchemaRef::Inline(Box::new(R::schema()))
    }

    fn as_raw_value(&self) -> Option<&Self> {
        Some(self)
    }

    fn raw_element_iter<'a>(&'a self) -> Box<dyn Iterator<Item = &'a Self> + 'a> {
        Box::new(std::iter::once(self))
    }
}

impl<R: TextRule> FromJsonStrictly for Text<R> {
    fn from_json_strictly(value: Value) -> Option<Self> {
        match value {
            Value::String(text) => Some(Text(text, PhantomData)),
            _ => None,
        }
    }
}

/// A text query parameter (or path segment) holding a control character is refused here, at the
/// edge: it reaches the handler as [`Input::Malformed`], which answers for the field. No text of
/// ours holds one (titles refuse them), and PostgreSQL's text cannot hold NUL at all.
impl<R: TextRule> ParseFromParameter for Text<R> {
    fn parse_from_parameter(value: &str) -> ParseResult<Self> {
        if value.chars().any(char::is_control) {
            return Err(ParseError::custom("must not contain control characters"));
        }
        Ok(Text(value.to_owned(), PhantomData))
    }
}

impl<R: TextRule> ToJSON for Text<R> {
    fn to_json(&self) -> Option<Value> {
        Some(Value::String(self.0.clone()))
    }
}
