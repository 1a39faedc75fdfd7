//! Domain newtypes: each is valid by construction.

use std::fmt;

/// Why a domain value was refused; the message is the one the API shows.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Invalid(pub &'static str);

/// An email address as the user typed it (trimmed), compared case-insensitively through [`Email::key`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email(String);

impl Email {
    pub const INVALID: Invalid = Invalid("Email must be valid");

    /// A practical check: one `@`, a non-empty local part of at most 64 bytes, a domain of dot-separated
    /// labels (letters, digits, hyphens; no label starts or ends with a hyphen) with at least one dot,
    /// no white space or control characters, at most 254 bytes in all.
    pub fn parse(input: &str) -> Result<Self, Invalid> {
        let email = input.trim();
        let (local, domain) = email.split_once('@').ok_or(Self::INVALID)?;
        let local_ok = !local.is_empty()
            && local.len() <= 64
            && !local.starts_with('.')
            && !local.ends_with('.')
            && !local.contains("..")
            && local
                .chars()
                .all(|c| !c.is_whitespace() && !c.is_control() && !"@<>()[]\\,;:\"".contains(c));
        let labels: Vec<&str> = domain.split('.').collect();
        let domain_ok = labels.len() >= 2
            && labels.iter().all(|label| {
                !label.is_empty()
                    && label.len() <= 63
                    && !label.starts_with('-')
                    && !label.ends_with('-')
                    && label.chars().all(|c| c.is_alphanumeric() || c == '-')
            })
            && labels
                .last()
                .is_some_and(|tld| tld.chars().all(char::is_alphabetic));
        if local_ok && domain_ok && email.len() <= 254 {
            Ok(Email(email.to_owned()))
        } else {
            Err(Self::INVALID)
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The case-insensitive key unique in the users table.
    pub fn key(&self) -> String {
        self.0.to_lowercase()
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// An amount of money in integer cents of the configured currency; never a float.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Money(i64);

impl Money {
    /// The highest price a ticket may have: 1,000,000 in major units.
    pub const MAX: Money = Money(1_000_000 * 100);
    pub const NOT_POSITIVE: Invalid = Invalid("Price must be greater than 0");

    /// Parses a price in major units written in decimal (`"19.99"`, `"10"`, `"1e2"`): greater than
    /// zero, at most two decimals, at most [`Money::MAX`]. No floating point is involved.
    pub fn parse_price(text: &str) -> Result<Self, Invalid> {
        const NOT_POSITIVE: Invalid = Money::NOT_POSITIVE;
        const TOO_PRECISE: Invalid = Invalid("Price must have at most 2 decimal places");
        const TOO_HIGH: Invalid = Invalid("Price must be at most 1000000");

        let decimal = Decimal::parse(text.trim()).ok_or(NOT_POSITIVE)?;
        if decimal.negative || decimal.digits.bytes().all(|d| d == b'0') {
            return Err(NOT_POSITIVE);
        }
        // The value is digits × 10^exponent; cents are value × 100.
        let cents_exponent = decimal.exponent + 2;
        let digits = decimal.digits.trim_start_matches('0');
        let cents = if cents_exponent >= 0 {
            // Too many digits can only mean too high.
            if digits.len() as i64 + cents_exponent > 12 {
                return Err(TOO_HIGH);
            }
            let mut cents: i64 = digits.parse().map_err(|_| TOO_HIGH)?;
            for _ in 0..cents_exponent {
                cents *= 10;
            }
            cents
        } else {
            let drop = (-cents_exponent) as usize;
            let kept_len = digits.len().saturating_sub(drop);
            let (kept, dropped) = digits.split_at(kept_len);
            if dropped.bytes().any(|d| d != b'0') || drop > digits.len() + 64 {
                return Err(TOO_PRECISE);
            }
            if kept.len() > 12 {
                return Err(TOO_HIGH);
            }
            if kept.is_empty() {
                0
            } else {
                kept.parse().map_err(|_| TOO_HIGH)?
            }
        };
        if cents == 0 {
            return Err(NOT_POSITIVE);
        }
        if cents > Self::MAX.0 {
            return Err(TOO_HIGH);
        }
        Ok(Money(cents))
    }

    pub const fn from_cents(cents: i64) -> Self {
        Money(cents)
    }

    pub const fn cents(self) -> i64 {
        self.0
    }

    /// The amount in major units as a JSON number (`1999` cents is `19.99`). The conversion only
    /// formats the amount: `f64` holds every amount up to 2^53 cents exactly enough to print it back.
    pub fn to_json_number(self) -> serde_json::Number {
        if self.0 % 100 == 0 {
            return serde_json::Number::from(self.0 / 100);
        }
        let value: f64 = self.to_string().parse().expect("a formatted amount parses");
        serde_json::Number::from_f64(value).expect("a finite amount")
    }
}

impl fmt::Display for Money {
    /// `19.99`, `10`, `0.5`: major units, no trailing zeros.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.0 < 0 { "-" } else { "" };
        let abs = self.0.unsigned_abs();
        let (major, minor) = (abs / 100, abs % 100);
        match minor {
            0 => write!(f, "{sign}{major}"),
            m if m % 10 == 0 => write!(f, "{sign}{major}.{}", m / 10),
            m => write!(f, "{sign}{major}.{m:02}"),
        }
    }
}

/// A decimal number as text: sign, all its digits, and the power of ten of the last digit.
struct Decimal<'a> {
    negative: bool,
    digits: std::borrow::Cow<'a, str>,
    exponent: i64,
}

impl<'a> Decimal<'a> {
    /// Accepts `[+-]digits[.digits][(e|E)[+-]digits]` (at least one digit before the exponent).
    fn parse(text: &'a str) -> Option<Self> {
        let (negative, rest) = match text.as_bytes().first()? {
            b'-' => (true, &text[1..]),
            b'+' => (false, &text[1..]),
            _ => (false, text),
        };
        let (mantissa, exponent) = match rest.find(['e', 'E']) {
            Some(i) => {
                let exp_text = &rest[i + 1..];
                let exp_digits = exp_text.strip_prefix(['+', '-']).unwrap_or(exp_text);
                if exp_digits.is_empty()
                    || exp_digits.len() > 6
                    || !exp_digits.bytes().all(|b| b.is_ascii_digit())
                {
                    return None;
                }
                (&rest[..i], exp_text.parse::<i64>().ok()?)
            }
            None => (rest, 0),
        };
        let (int, frac) = mantissa.split_once('.').unwrap_or((mantissa, ""));
        if int.is_empty() && frac.is_empty() {
            return None;
        }
        if !int.bytes().chain(frac.bytes()).all(|b| b.is_ascii_digit()) {
            return None;
        }
        let digits = if frac.is_empty() {
            std::borrow::Cow::Borrowed(int)
        } else {
            std::borrow::Cow::Owned(format!("{int}{frac}"))
        };
        Some(Decimal {
            negative,
            digits,
            exponent: exponent - frac.len() as i64,
        })
    }
}

/// A ticket's title: trimmed, not blank, at most 200 characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TicketTitle(String);

impl TicketTitle {
    pub const MAX_CHARS: usize = 200;
    pub const REQUIRED: Invalid = Invalid("Title is required");
    pub const CONTROL_CHARACTERS: Invalid =
        Invalid("Title must not contain control characters (such as NUL, tabs or line breaks)");

    pub fn parse(input: &str) -> Result<Self, Invalid> {
        let title = input.trim();
        if title.is_empty() {
            Err(Self::REQUIRED)
        } else if title.chars().count() > Self::MAX_CHARS {
            Err(Invalid("Title must be at most 200 characters"))
        } else if title.chars().any(char::is_control) {
            // NUL cannot be stored by PostgreSQL, and no control character belongs in a title.
            Err(Self::CONTROL_CHARACTERS)
        } else {
            Ok(TicketTitle(title.to_owned()))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prices_parse_to_exact_cents() {
        for (text, cents) in [
            ("19.99", 1999),
            ("10", 1000),
            ("0.1", 10),
            ("0.01", 1),
            ("1e2", 10000),
            ("1.5E1", 1500),
            ("1000000", 100_000_000),
            ("1000000.00", 100_000_000),
            ("  7.50 ", 750),
            ("+3", 300),
            ("12.3400", 1234),
            ("1234e-2", 1234),
            (".5", 50),
            ("5.", 500),
        ] {
            assert_eq!(Money::parse_price(text), Ok(Money(cents)), "{text}");
        }
    }

    #[test]
    fn bad_prices_are_refused_with_the_rule_they_break() {
        let positive = Err(Invalid("Price must be greater than 0"));
        let precise = Err(Invalid("Price must have at most 2 decimal places"));
        let high = Err(Invalid("Price must be at most 1000000"));
        for (text, expected) in [
            ("0", &positive),
            ("-1", &positive),
            ("0.00", &positive),
            ("abc", &positive),
            ("", &positive),
            (".", &positive),
            ("1e", &positive),
            ("NaN", &positive),
            ("inf", &positive),
            ("1,5", &positive),
            ("10.001", &precise),
            ("0.001", &precise),
            ("1e-3", &precise),
            ("1000000.01", &high),
            ("1e7", &high),
            ("99999999999999999999999", &high),
            ("1e999999", &high),
        ] {
            assert_eq!(&Money::parse_price(text), expected, "{text}");
        }
    }

    #[test]
    fn titles_refuse_control_characters() {
        assert_eq!(
            TicketTitle::parse("  Concert  ").unwrap().as_str(),
            "Concert"
        );
        for bad in ["a\u{0}b", "a\tb", "a\nb", "a\u{7f}b", "a\u{85}b"] {
            assert_eq!(
                TicketTitle::parse(bad).unwrap_err(),
                TicketTitle::CONTROL_CHARACTERS,
                "{bad:?}"
            );
        }
    }

    #[test]
    fn money_prints_in_major_units() {
        assert_eq!(Money(1999).to_string(), "19.99");
        assert_eq!(Money(1000).to_string(), "10");
        assert_eq!(Money(10).to_string(), "0.1");
        assert_eq!(Money(1).to_string(), "0.01");
        assert_eq!(Money(1999).to_json_number().to_string(), "19.99");
        assert_eq!(Money(1000).to_json_number().to_string(), "10");
    }

    #[test]
    fn emails() {
        for ok in ["a@b.co", "First.Last+tag@Example.COM", " x@y.org "] {
            assert!(Email::parse(ok).is_ok(), "{ok}");
        }
        for bad in [
            "", "a", "a@", "@b.co", "a@b", "a b@c.de", "a@b..c", "a@-b.co", "a@@b.co", "a@b.c1",
        ] {
            assert_eq!(Email::parse(bad), Err(Email::INVALID), "{bad}");
        }
        assert_eq!(Email::parse("A@B.co").unwrap().key(), "a@b.co");
    }

    #[test]
    fn titles() {
        assert_eq!(
            TicketTitle::parse("  Concert ").unwrap().as_str(),
            "Concert"
        );
        assert_eq!(TicketTitle::parse("   "), Err(Invalid("Title is required")));
        assert!(TicketTitle::parse(&"é".repeat(200)).is_ok());
        assert_eq!(
            TicketTitle::parse(&"x".repeat(201)),
            Err(Invalid("Title must be at most 200 characters"))
        );
    }
}
