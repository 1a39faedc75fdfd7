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

/// A form's errors with the price's own first: how to write it (when it is not written as a
/// price), in place of the API's words on the price; the API's other errors after.
pub fn price_errors(
    price: &str,
    api: Vec<(Option<String>, String)>,
) -> Vec<(Option<String>, String)> {
    match price_problem(price) {
        Some(message) => api
            .into_iter()
            .filter(|(field, _)| field.as_deref() != Some("price"))
            .chain(std::iter::once((
                Some("price".to_owned()),
                message.to_owned(),
            )))
            .collect(),
        None => api,
    }
}

#[cfg(test)]
mod tests {
    use super::{price_errors, price_problem};

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

    #[test]
    fn a_price_typed_wrong_says_how_to_write_it_before_the_api() {
        let cap = (
            Some("price".to_owned()),
            "Price must be at most 25.00 USD".to_owned(),
        );
        assert_eq!(price_errors("30", vec![cap.clone()]), vec![cap]);
        let errors = price_errors(
            "$30",
            vec![
                (Some("price".to_owned()), "Invalid".to_owned()),
                (None, "Conflict".to_owned()),
            ],
        );
        assert_eq!(errors.len(), 2);
        assert_eq!(errors[0], (None, "Conflict".to_owned()));
        assert!(errors[1].1.contains("currency sign"));
    }
}
