//! The resale price cap: a ticket sold here may be sold on for at most a set percentage
//! (`RESALE_PRICE_CAP_PERCENT`, 100 by default) of the price of its last sale here. A ticket never
//! sold here (listed by someone who bought it elsewhere) is not capped.

use crate::domain::Money;

/// The cap, as a whole percentage of the last sale's price.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ResalePriceCap {
    percent: u32,
}

impl ResalePriceCap {
    /// The percentage when none is set: no resale above what was paid.
    pub const DEFAULT_PERCENT: u32 = 100;
    /// The range a percentage may be set in.
    pub const PERCENT_RANGE: std::ops::RangeInclusive<u32> = 1..=1000;

    /// `None` outside [`Self::PERCENT_RANGE`].
    pub fn percent(percent: u32) -> Option<Self> {
        Self::PERCENT_RANGE
            .contains(&percent)
            .then_some(ResalePriceCap { percent })
    }

    pub fn as_percent(self) -> u32 {
        self.percent
    }

    /// The highest resale price, in cents, of a ticket last sold here for `sale_cents`; rounded
    /// down to the cent, and never above the highest price a ticket may have.
    pub fn of(self, sale_cents: i64) -> i64 {
        let cap = i128::from(sale_cents) * i128::from(self.percent) / 100;
        cap.clamp(0, i128::from(Money::MAX.cents())) as i64
    }

    /// The refusal of a price above the cap: what the cap is and what it is taken of.
    pub fn exceeded(self, sale_cents: i64, currency: &str) -> String {
        format!(
            "Price must be at most {}: a ticket bought here may be sold on for at most {}% of the {} it last sold for",
            shown(self.of(sale_cents), currency),
            self.percent,
            shown(sale_cents, currency),
        )
    }
}

impl Default for ResalePriceCap {
    fn default() -> Self {
        ResalePriceCap {
            percent: Self::DEFAULT_PERCENT,
        }
    }
}

/// An amount as a message shows it: `25.00 USD`.
fn shown(cents: i64, currency: &str) -> String {
    format!(
        "{}.{:02} {}",
        cents / 100,
        cents % 100,
        currency.to_ascii_uppercase()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cap_is_a_percentage_rounded_down_to_the_cent() {
        let cap = ResalePriceCap::default();
        assert_eq!(cap.of(2500), 2500);
        let cap = ResalePriceCap::percent(110).unwrap();
        assert_eq!(cap.of(2500), 2750);
        assert_eq!(cap.of(999), 1098); // 1098.9 rounds down
        let cap = ResalePriceCap::percent(1).unwrap();
        assert_eq!(cap.of(99), 0);
        assert_eq!(
            ResalePriceCap::percent(1000)
                .unwrap()
                .of(Money::MAX.cents()),
            Money::MAX.cents()
        );
    }

    #[test]
    fn a_percentage_outside_its_range_is_refused() {
        assert_eq!(ResalePriceCap::percent(0), None);
        assert_eq!(ResalePriceCap::percent(1001), None);
        assert_eq!(
            ResalePriceCap::percent(100).map(|c| c.as_percent()),
            Some(100)
        );
    }

    #[test]
    fn the_refusal_says_the_cap_and_what_it_is_taken_of() {
        let message = ResalePriceCap::percent(120).unwrap().exceeded(2550, "usd");
        assert!(message.contains("at most 30.60 USD"), "{message}");
        assert!(message.contains("120% of the 25.50 USD"), "{message}");
    }
}
