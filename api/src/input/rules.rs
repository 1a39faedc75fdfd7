//! The rules the [`Text`](super::Text) inputs declare.

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
