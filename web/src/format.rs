//! How the pages write money and times: `$1,000,000.00` (the currency's sign, thousands
//! separated), and times in a readable UTC form that app.js turns into the visitor's local time.

use api_types::{Currency, Timestamp, iso8601};
use maud::{Markup, html};

/// An amount in cents in `currency` (ISO 4217, lower case): `$1,234.50`, `€19.99`, `12.00 CHF`.
pub fn money_cents(cents: i64, currency: &str) -> String {
    let sign = if cents < 0 { "-" } else { "" };
    let cents = cents.unsigned_abs();
    let whole = (cents / 100).to_string();
    let mut grouped = String::new();
    for (i, digit) in whole.chars().enumerate() {
        if i > 0 && (whole.len() - i).is_multiple_of(3) {
            grouped.push(',');
        }
        grouped.push(digit);
    }
    let amount = format!("{grouped}.{:02}", cents % 100);
    match currency {
        "usd" => format!("{sign}${amount}"),
        "eur" => format!("{sign}€{amount}"),
        "gbp" => format!("{sign}£{amount}"),
        other => format!("{sign}{amount} {}", other.to_ascii_uppercase()),
    }
}

/// An amount of the API: its cents in its currency.
pub fn money(cents: i64, currency: &Currency) -> String {
    money_cents(cents, &currency.0)
}

/// A time of the API in a `<time>` element: `2 Dec 2026, 14:05 UTC` as written, the visitor's
/// local time once app.js has run.
pub fn time(at: Timestamp) -> Markup {
    html! { time datetime=(iso8601(at.0)) { (at.0.format("%-d %b %Y, %H:%M UTC")) } }
}

#[cfg(test)]
mod tests {
    use super::money_cents;

    #[test]
    fn money_has_its_currency_and_thousands() {
        assert_eq!(money_cents(100_000_000, "usd"), "$1,000,000.00");
        assert_eq!(money_cents(1999, "usd"), "$19.99");
        assert_eq!(money_cents(50, "eur"), "€0.50");
        assert_eq!(money_cents(123_456, "chf"), "1,234.56 CHF");
        assert_eq!(money_cents(100_000, "gbp"), "£1,000.00");
    }
}
