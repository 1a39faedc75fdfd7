//! Lenient request inputs: a body field, query parameter or path segment that never fails the
//! parse of the request it sits in. A missing value or one of the wrong type becomes a value the
//! handler sees, so every field's own rule can report it (with the field's name), all at once.
//!
//! The OpenAPI document still shows the declared type.

use std::borrow::Cow;

use entities::{Money, domain::Invalid};
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

/// A decimal amount as sent, kept as its decimal text so that no floating point ever touches
/// money: a JSON number (as serde_json writes it back: `19.99`, `100.0`, `1e20`), or a string,
/// which must be written as [`PRICE_PATTERN`] says (`"19.99"`, `"10"`, `"0.5"`; not `"+5"`,
/// `"1e2"`, `" 5"` or `"5."`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DecimalText {
    /// A JSON number.
    Number(String),
    /// A JSON string, as sent.
    Text(String),
}

/// The strings a price may be written as: greater than 0, at most 1000000, at most two decimals,
/// digits and one optional decimal point only. [`DecimalText::price`] accepts exactly these.
pub const PRICE_PATTERN: &str =
    r"^0*(?:[1-9][0-9]{0,5}(?:\.[0-9]{1,2})?|1000000(?:\.00?)?|\.(?:0[1-9]|[1-9][0-9]?))$";

/// The refusal of a price string the other rules would take but [`PRICE_PATTERN`] does not (a
/// sign, an exponent, white space, a point without decimals).
pub const PRICE_NOT_PLAIN: Invalid =
    Invalid("Price must be written as digits with an optional decimal point, like 19.99");

impl DecimalText {
    /// The amount: a JSON number by the price rules; a string only if it matches
    /// [`PRICE_PATTERN`]. A string that does not is refused with the rule it breaks (greater
    /// than 0, two decimals, at most 1000000), or else with [`PRICE_NOT_PLAIN`].
    pub fn price(&self) -> Result<Money, Invalid> {
        match self {
            DecimalText::Number(number) => Money::parse_price(number),
            DecimalText::Text(text) if matches_price_pattern(text) => Money::parse_price(text),
            DecimalText::Text(text) => {
                Err(Money::parse_price(text).err().unwrap_or(PRICE_NOT_PLAIN))
            }
        }
    }

    fn as_str(&self) -> &str {
        match self {
            DecimalText::Number(text) | DecimalText::Text(text) => text,
        }
    }
}

/// Whether `text` matches [`PRICE_PATTERN`], by hand (no regex engine here): leading zeros, then
/// 1 to 6 digits with up to 2 decimals, or 1000000 with only zero decimals, or no whole part and
/// 1 or 2 decimals that are not all zero.
fn matches_price_pattern(text: &str) -> bool {
    let digits = |part: &str| part.bytes().all(|b| b.is_ascii_digit());
    let rest = text.trim_start_matches('0');
    let (whole, decimals) = match rest.split_once('.') {
        Some((whole, decimals)) => (whole, Some(decimals)),
        None => (rest, None),
    };
    if !digits(whole) || !decimals.is_none_or(|d| digits(d) && (1..=2).contains(&d.len())) {
        return false;
    }
    match (whole.len(), decimals) {
        (0, None) => false,
        (0, Some(decimals)) => decimals.bytes().any(|b| b != b'0'),
        (1..=6, _) => true,
        _ => whole == "1000000" && decimals.is_none_or(|d| d.bytes().all(|b| b == b'0')),
    }
}

impl Type for DecimalText {
    const IS_REQUIRED: bool = true;
    type RawValueType = Self;
    type RawElementValueType = Self;

    fn name() -> Cow<'static, str> {
        "decimal".into()
    }

    fn schema_ref() -> MetaSchemaRef {
        MetaSchemaRef::Inline(Box::new(MetaSchema {
            description: Some(
                "A price in major units, greater than 0, at most 1000000, with at most 2 \
                 decimals: a JSON number or a numeric string",
            ),
            any_of: vec![
                MetaSchemaRef::Inline(Box::new(MetaSchema {
                    minimum: Some(0.01),
                    maximum: Some(1_000_000.0),
                    multiple_of: Some(0.01),
                    ..MetaSchema::new("number")
                })),
                MetaSchemaRef::Inline(Box::new(MetaSchema {
                    // Greater than 0, at most 1000000, at most two decimals.
                    pattern: Some(PRICE_PATTERN.into()),
                    ..MetaSchema::new("string")
                })),
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
            Value::Number(number) => Some(DecimalText::Number(number.to_string())),
            Value::String(text) => Some(DecimalText::Text(text)),
            _ => None,
        }
    }
}

impl ToJSON for DecimalText {
    fn to_json(&self) -> Option<Value> {
        Some(Value::String(self.as_str().to_owned()))
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
    pub fn parse(limit: Limit, offset: Offset) -> Result<Self, ApiError> {
        const LIMIT: Invalid = Invalid("limit must be an integer between 1 and 500");
        const OFFSET: Invalid = Invalid("offset must be a non-negative integer");
        let limit = limit
            .unwrap_or(Input::Given(Bounded(100, std::marker::PhantomData)))
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
            .unwrap_or(Input::Given(Bounded(0, std::marker::PhantomData)))
            .parse(|n| u64::try_from(n.0).map_err(|_| OFFSET), OFFSET);
        let (limit, offset) = both(("limit", limit), ("offset", offset))?;
        Ok(Page { limit, offset })
    }
}

/// A text input whose OpenAPI schema declares the rule the handler enforces (a format, lengths, a
/// pattern) without poem-openapi enforcing it: a value that breaks the rule still reaches the
/// handler, which answers with the contract's message for the field. Generated clients see the
/// rule; the server's answers stay the contract's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Text<R>(pub String, pub std::marker::PhantomData<R>);

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
            Value::String(text) => Some(Text(text, std::marker::PhantomData)),
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
            return Err(poem_openapi::types::ParseError::custom(
                "must not contain control characters",
            ));
        }
        Ok(Text(value.to_owned(), std::marker::PhantomData))
    }
}

impl<R: TextRule> ToJSON for Text<R> {
    fn to_json(&self) -> Option<Value> {
        Some(Value::String(self.0.clone()))
    }
}

/// The rules the inputs declare.
pub mod rules {
    use poem_openapi::registry::MetaSchema;

    use super::TextRule;

    /// White space as Rust's `str::trim` removes it (Unicode's White_Space), spelled out: the
    /// `\s` of one regex engine is not another's.
    const SPACE: &str = r"\t\n\x0b\x0c\r \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000";
    /// Control characters, as Rust's `char::is_control` finds them.
    const CONTROL: &str = r"\x00-\x1f\x7f-\x9f";

    /// What the server accepts of a title or a password: trimmed of white space at both ends, it
    /// has `min` to `max` characters and no control character.
    fn trimmed(min: usize, max: usize) -> String {
        assert!(min >= 1 && max >= min);
        let edge = format!("[^{SPACE}{CONTROL}]");
        let inner = format!("[^{CONTROL}]");
        let middle = match min {
            1 => format!("(?:{inner}{{0,{}}}{edge})?", max - 2),
            _ => format!("{inner}{{{},{}}}{edge}", min - 2, max - 2),
        };
        format!("^[{SPACE}]*{edge}{middle}[{SPACE}]*$")
    }

    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct Uuid;
    impl TextRule for Uuid {
        const NAME: &'static str = "uuid_text";
        fn schema() -> MetaSchema {
            MetaSchema::new_with_format("string", "uuid")
        }
    }

    /// An email address.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct Email;
    impl TextRule for Email {
        const NAME: &'static str = "email_text";
        fn schema() -> MetaSchema {
            MetaSchema {
                max_length: Some(254),
                ..MetaSchema::new_with_format("string", "email")
            }
        }
    }

    /// A new password: 4 to 128 characters (after trimming), no control characters.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct NewPassword;
    impl TextRule for NewPassword {
        const NAME: &'static str = "new_password_text";
        fn schema() -> MetaSchema {
            MetaSchema {
                pattern: Some(trimmed(4, 128)),
                format: Some("password"),
                ..MetaSchema::new("string")
            }
        }
    }

    /// A password to check: not blank.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct Password;
    impl TextRule for Password {
        const NAME: &'static str = "password_text";
        fn schema() -> MetaSchema {
            MetaSchema {
                pattern: Some(format!("[^{SPACE}]")),
                format: Some("password"),
                ..MetaSchema::new("string")
            }
        }
    }

    /// A ticket's title: 1 to 200 characters, not blank, no control characters.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct Title;
    impl TextRule for Title {
        const NAME: &'static str = "title_text";
        fn schema() -> MetaSchema {
            MetaSchema {
                pattern: Some(trimmed(1, entities::TicketTitle::MAX_CHARS)),
                ..MetaSchema::new("string")
            }
        }
    }

    /// A price bound of a search: an amount in major units with at most two decimals.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct PriceBound;
    impl TextRule for PriceBound {
        const NAME: &'static str = "price_bound_text";
        fn schema() -> MetaSchema {
            MetaSchema {
                // Empty is no bound, as an HTML form sends an empty field.
                pattern: Some(r"^([0-9]{1,7}(\.[0-9]{1,2})?)?$".into()),
                example: Some(serde_json::json!("19.99")),
                ..MetaSchema::new("string")
            }
        }
    }

    /// A search of titles: at most 200 characters, no control characters.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct Search;
    impl TextRule for Search {
        const NAME: &'static str = "search_text";
        fn schema() -> MetaSchema {
            MetaSchema {
                max_length: Some(200),
                pattern: Some(format!("^[^{CONTROL}]*$")),
                ..MetaSchema::new("string")
            }
        }
    }

    /// A card token from the payment form: not blank, no control characters.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct CardToken;
    impl TextRule for CardToken {
        const NAME: &'static str = "card_token_text";
        fn schema() -> MetaSchema {
            MetaSchema {
                pattern: Some(format!("^[^{CONTROL}]*[^{SPACE}{CONTROL}][^{CONTROL}]*$")),
                ..MetaSchema::new("string")
            }
        }
    }
}

/// An integer query parameter whose OpenAPI schema declares its bounds (as [`Text`] does its
/// rule), while the handler answers a value out of bounds with the contract's message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bounded<R>(pub i64, pub std::marker::PhantomData<R>);

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
            .map(|n| Bounded(n, std::marker::PhantomData))
            .map_err(poem_openapi::types::ParseError::custom)
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

#[cfg(test)]
mod tests {
    use super::{DecimalText, PRICE_NOT_PLAIN, matches_price_pattern};
    use entities::Money;

    /// What [`super::PRICE_PATTERN`] matches, case by case (the end-to-end tests hold the server
    /// to the same list).
    #[test]
    fn the_hand_written_matcher_is_the_documented_pattern() {
        let matching = [
            "1",
            "10",
            "19.99",
            "0.1",
            "0.01",
            ".5",
            ".05",
            "0.50",
            "00012.5",
            "999999.99",
            "1000000",
            "1000000.0",
            "1000000.00",
            "0001000000",
        ];
        let not_matching = [
            "",
            "0",
            "0.0",
            "0.00",
            ".",
            "5.",
            ".0",
            "+5",
            "-5",
            "1e2",
            "1E2",
            " 5",
            "5 ",
            "1.999",
            "1000000.01",
            "1000000.1",
            "1000001",
            "10000000",
            "1,000",
            "0x10",
            "٣",
            "1.2.3",
            "NaN",
            "Infinity",
            "\u{0}5",
        ];
        for text in matching {
            assert!(matches_price_pattern(text), "{text:?} matches");
            assert!(
                DecimalText::Text(text.to_owned()).price().is_ok(),
                "{text:?} is a price"
            );
        }
        for text in not_matching {
            assert!(!matches_price_pattern(text), "{text:?} does not match");
            assert!(
                DecimalText::Text(text.to_owned()).price().is_err(),
                "{text:?} is refused"
            );
        }
    }

    #[test]
    fn a_refused_price_string_names_the_rule_it_breaks() {
        let refusal = |text: &str| DecimalText::Text(text.to_owned()).price().unwrap_err();
        assert_eq!(refusal("0"), Money::NOT_POSITIVE);
        assert_eq!(refusal("abc"), Money::NOT_POSITIVE);
        assert_eq!(
            refusal("1.999").0,
            "Price must have at most 2 decimal places"
        );
        assert_eq!(refusal("1000001").0, "Price must be at most 1000000");
        for plain_would_do in ["+5", "1e2", " 5", "5 ", "5."] {
            assert_eq!(
                refusal(plain_would_do),
                PRICE_NOT_PLAIN,
                "{plain_would_do:?}"
            );
        }
    }

    #[test]
    fn json_numbers_keep_their_rules() {
        let number = |text: &str| DecimalText::Number(text.to_owned()).price();
        assert_eq!(number("19.99").map(Money::cents), Ok(1999));
        assert_eq!(number("100.0").map(Money::cents), Ok(10_000));
        assert_eq!(number("1e2").map(Money::cents), Ok(10_000));
        assert!(number("1e20").is_err());
    }
}
