//! [`Page`]: a listing's `limit` and `offset` parameters, and the bounds their schemas declare.

use std::{borrow::Cow, marker::PhantomData};

use entities::domain::Invalid;
use poem_openapi::{
    registry::{MetaSchema, MetaSchemaRef},
    types::{ParseError, ParseFromParameter, ParseResult, Type},
};

use super::{Input, both};
use crate::error::ApiError;

/// A page of a listing: `limit` (1 to 500, default 100) and `offset` (default 0).
#[derive(Debug, Clone, Copy)]
pub struct Page {
    pub limit: u64,
    pub offset: u64,
}

impl Page {
    pub fn parse(limit: Limit, offset: Offset) -> Result<Self, ApiError> {
        const LIMIT: Invalid = Invalid("limit must be an integer between 1 and 500");
        const OFFSET: Invalid = Invalid("offset must be a non-negative integer");
        let limit = limit
            .unwrap_or(Input::Given(Bounded(100, PhantomData)))
            .parse(
                |n| {
                    u64::try_from(n.0)
                        .ok()
                        .filter(|n| (1..=500).contains(n))
                        .ok_or(LIMIT)
                },
                LIMIT,
            );
        let offset = offset
            .unwrap_or(Input::Given(Bounded(0, PhantomData)))
            .parse(|n| u64::try_from(n.0).map_err(|_| OFFSET), OFFSET);
        let (limit, offset) = both(("limit", limit), ("offset", offset))?;
        Ok(Page { limit, offset })
    }
}

/// An integer query parameter whose OpenAPI schema declares its bounds (as
/// [`Text`](super::Text) does its rule), while the handler answers a value out of bounds with the
/// contract's message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bounded<R>(pub i64, pub PhantomData<R>);

/// The bounds a [`Bounded`] declares.
pub trait Bounds: Send + Sync + 'static {
    const NAME: &'static str;
    const MINIMUM: i64;
    const MAXIMUM: Option<i64>;
}

impl<R: Bounds> Type for Bounded<R> {
    const IS_REQUIRED: bool = true;
    type RawValueType = Self;
    type RawElementValueType = Self;

    fn name() -> Cow<'static, str> {
        R::NAME.into()
    }

    fn schema_ref() -> MetaSchemaRef {
        MetaSchemaRef::Inline(Box::new(MetaSchema {
            minimum: Some(R::MINIMUM as f64),
            maximum: R::MAXIMUM.map(|m| m as f64),
            ..MetaSchema::new_with_format("integer", "int64")
        }))
    }

    fn as_raw_value(&self) -> Option<&Self> {
        Some(self)
    }

    fn raw_element_iter<'a>(&'a self) -> Box<dyn Iterator<Item = &'a Self> + 'a> {
        Box::new(std::iter::once(self))
    }
}

impl<R: Bounds> ParseFromParameter for Bounded<R> {
    fn parse_from_parameter(value: &str) -> ParseResult<Self> {
        value
            .trim()
            .parse::<i64>()
            .map(|n| Bounded(n, PhantomData))
            .map_err(ParseError::custom)
    }
}

/// `limit`: 1 to 500.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LimitBounds;
impl Bounds for LimitBounds {
    const NAME: &'static str = "limit";
    const MINIMUM: i64 = 1;
    const MAXIMUM: Option<i64> = Some(500);
}

/// `offset`: 0 or more.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OffsetBounds;
impl Bounds for OffsetBounds {
    const NAME: &'static str = "offset";
    const MINIMUM: i64 = 0;
    const MAXIMUM: Option<i64> = None;
}

/// A listing's `limit` parameter.
pub type Limit = Option<Input<Bounded<LimitBounds>>>;
/// A listing's `offset` parameter.
pub type Offset = Option<Input<Bounded<OffsetBounds>>>;
