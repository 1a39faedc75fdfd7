//! A price as a person types it into a form (the ticket form, the sell-on form): what is wrong
//! with it, in words that say how to write it, before the API's own rules are asked.

/// What is wrong with a price as typed, in words that say how to write it, before the API's
/// rules (greater than 0, two decimals, at most 1,000,000) are asked.
pub fn price_problem(text: &str) -> Option<&'static str> {
    let text = text.trim();
    if text.is_empty() {
        Some("Enter a price, like 19.99")
    } else if text.chars().any(|c| "$€£¥".contains(c)) {
        Some("Enter the price without a currency sign, like 20")
    } else if text.contains(',') {
        Some("Enter the price without thousands separators, like 1000")
    } else if text.parse::<f64>().is_err() || text.contains(['e', 'E']) {
        Some("Enter a number like 19.99")
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::price_problem;

    #[test]
    fn a_price_typed_wrong_says_how_to_write_it() {
        assert_eq!(price_problem("19.99"), None);
        assert_eq!(
            price_problem("0"),
            None,
            "the API says it must be greater than 0"
        );
        assert!(price_problem("abc").unwrap().contains("like 19.99"));
        assert!(price_problem("$20").unwrap().contains("currency sign"));
        assert!(price_problem("€20").unwrap().contains("currency sign"));
        assert!(
            price_problem("1,000")
                .unwrap()
                .contains("thousands separators")
        );
        assert!(price_problem("  ").unwrap().contains("Enter a price"));
    }
}
