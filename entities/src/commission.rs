//! The platform's commission on a sale, taken from the seller's side: the buyer pays the listed
//! price, the platform keeps `PLATFORM_FEE_BPS` basis points of it plus `PLATFORM_FEE_CENTS`, and
//! the seller is owed the rest. One rule, written here once:
//!
//! - the percentage part is rounded to the nearest cent, a half cent up (a 20-cent sale at 2.5 %
//!   keeps 1 cent; a 19-cent one keeps 0);
//! - the fee is never more than the price: a sale never leaves its seller owing;
//! - fee + what the seller is owed = the price, always (the ledger's charge balances).
//!
//! (The start of issue 33: the ledger, payouts and refunds are built on it.)

use crate::domain::Money;

/// Basis points in a whole: 10,000 bps = 100 %.
const WHOLE_BPS: i64 = 10_000;

/// A commission: a share of the price and a fixed amount.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Commission {
    bps: u32,
    fixed_cents: i64,
}

/// A sale's price, split between the platform and the seller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Split {
    /// What the platform keeps.
    pub fee_cents: i64,
    /// What the seller is owed.
    pub seller_cents: i64,
}

impl Commission {
    /// No commission: the seller is owed the whole price.
    pub const NONE: Commission = Commission {
        bps: 0,
        fixed_cents: 0,
    };

    /// `bps` of the price (at most 10,000: 100 %) plus `fixed_cents` (0 to the highest price a
    /// ticket may have); `None` outside those.
    pub fn new(bps: u32, fixed_cents: i64) -> Option<Commission> {
        (i64::from(bps) <= WHOLE_BPS && (0..=Money::MAX.cents()).contains(&fixed_cents))
            .then_some(Commission { bps, fixed_cents })
    }

    /// How a sale at `price` is split.
    pub fn split(self, price: Money) -> Split {
        let price = price.cents();
        // i128: no product of a price and a share can overflow.
        let share = (i128::from(price) * i128::from(self.bps) + i128::from(WHOLE_BPS) / 2)
            / i128::from(WHOLE_BPS);
        let fee = (share as i64).saturating_add(self.fixed_cents).min(price);
        Split {
            fee_cents: fee,
            seller_cents: price - fee,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(bps: u32, fixed: i64, price_cents: i64) -> (i64, i64) {
        let s = Commission::new(bps, fixed)
            .unwrap()
            .split(Money::from_cents(price_cents));
        (s.fee_cents, s.seller_cents)
    }

    #[test]
    fn a_half_cent_goes_up_and_less_goes_down() {
        // 2.5 %: 20 cents -> 0.5 cent -> 1; 19 cents -> 0.475 -> 0; 60 cents -> 1.5 -> 2.
        assert_eq!(split(250, 0, 20), (1, 19));
        assert_eq!(split(250, 0, 19), (0, 19));
        assert_eq!(split(250, 0, 60), (2, 58));
        // 10 % of 25.00 plus 0.30.
        assert_eq!(split(1000, 30, 2500), (280, 2220));
    }

    #[test]
    fn the_fee_never_exceeds_the_price() {
        assert_eq!(split(0, 50, 30), (30, 0));
        assert_eq!(split(10_000, 0, 2500), (2500, 0));
        assert_eq!(
            split(10_000, Money::MAX.cents(), Money::MAX.cents()),
            (Money::MAX.cents(), 0)
        );
        assert_eq!(split(0, 0, 1), (0, 1));
    }

    #[test]
    fn fee_and_seller_always_make_the_price() {
        for (bps, fixed) in [(0, 0), (1, 0), (250, 30), (999, 1), (5000, 0), (10_000, 7)] {
            for price in (1..=5_000).chain([Money::MAX.cents() - 1, Money::MAX.cents()]) {
                let (fee, seller) = split(bps, fixed, price);
                assert_eq!(fee + seller, price, "{bps} bps + {fixed} on {price}");
                assert!(fee >= 0 && seller >= 0, "{bps} bps + {fixed} on {price}");
            }
        }
    }

    #[test]
    fn a_share_above_the_whole_or_a_negative_fixed_amount_is_refused() {
        assert_eq!(Commission::new(10_001, 0), None);
        assert_eq!(Commission::new(0, -1), None);
        assert_eq!(Commission::new(0, Money::MAX.cents() + 1), None);
        assert_eq!(
            Commission::NONE.split(Money::from_cents(1234)),
            Split {
                fee_cents: 0,
                seller_cents: 1234
            }
        );
    }
}
