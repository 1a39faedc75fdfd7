//! [`DecimalText`]: a price as sent, kept as its decimal text.

use std::borrow::Cow;

use entities::{Money, domain::Invalid};
use poem_openapi::{
    registry::{MetaSchema, MetaSchemaRef},
    types::{ToJSON, Type},
};
use serde_json::Value;

use super::FromJsonStrictly;

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
