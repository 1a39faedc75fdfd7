//! The built-in gateway: no network, the card processor's (Stripe's) test tokens, an in-memory
//! record.
//!
//! Only the tokens below are known; like Stripe, any other token (`tok_nonsense`, `visa`, an
//! empty one) is refused as "No such token", which the API answers as an invalid card (400,
//! nothing charged, the order open to pay again).
//!
//! | token | outcome | message |
//! |---|---|---|
//! | `tok_visa`, `tok_visa_debit`, `tok_mastercard`, `tok_mastercard_debit`, `tok_mastercard_prepaid`, `tok_amex`, `tok_discover`, `tok_diners`, `tok_jcb`, `tok_unionpay` | charged | |
//! | `tok_bypassPending`, `tok_domesticPricing`, `tok_riskLevelElevated` | charged | |
//! | `tok_chargeDeclined`, `tok_chargeCustomerFail` | declined | Your card was declined. |
//! | `tok_chargeDeclinedInsufficientFunds` | declined | Your card has insufficient funds. |
//! | `tok_chargeDeclinedFraudulent`, `tok_chargeDeclinedLostCard`, `tok_chargeDeclinedStolenCard`, `tok_riskLevelHighest` | declined | Your card was declined. |
//! | `tok_chargeDeclinedExpiredCard` | declined | Your card has expired. |
//! | `tok_chargeDeclinedIncorrectCvc` | declined | Your card's security code is incorrect. |
//! | `tok_chargeDeclinedProcessingError` | declined | An error occurred while processing your card. Try again in a little bit. |
//! | `tok_chargeDeclinedVelocityLimitExceeded` | declined | Your card was declined for making repeated attempts too frequently or exceeding its amount limit. |
//! | `tok_invalid` | invalid | Invalid card token: tok_invalid |
//! | anything else | invalid | No such token: '<token>' |
//!
//! (The tests' fake Stripe, `tests/support/fake_stripe.rs`, has tokens of its own, such as
//! `tok_slow`, for the Stripe gateway; they mean nothing here.)

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use super::{ChargeOutcome, ChargeRequest, GatewayError, PaymentGateway};

/// What a known test token does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TestCard {
    /// Charged.
    Succeeds,
    /// Declined with the processor's message.
    Declined(&'static str),
    /// Refused as invalid with this message.
    Invalid(&'static str),
}

/// The processor's generic decline.
const DECLINED: &str = "Your card was declined.";

/// Every token the sandbox knows, as the card processor's test mode answers it (see the module's
/// table).
const TEST_TOKENS: &[(&str, TestCard)] = &[
    // Cards that are charged, by brand.
    ("tok_visa", TestCard::Succeeds),
    ("tok_visa_debit", TestCard::Succeeds),
    ("tok_mastercard", TestCard::Succeeds),
    ("tok_mastercard_debit", TestCard::Succeeds),
    ("tok_mastercard_prepaid", TestCard::Succeeds),
    ("tok_amex", TestCard::Succeeds),
    ("tok_discover", TestCard::Succeeds),
    ("tok_diners", TestCard::Succeeds),
    ("tok_jcb", TestCard::Succeeds),
    ("tok_unionpay", TestCard::Succeeds),
    // Charged, with a behaviour that does not matter here.
    ("tok_bypassPending", TestCard::Succeeds),
    ("tok_domesticPricing", TestCard::Succeeds),
    ("tok_riskLevelElevated", TestCard::Succeeds),
    // Declined.
    ("tok_chargeDeclined", TestCard::Declined(DECLINED)),
    ("tok_chargeCustomerFail", TestCard::Declined(DECLINED)),
    (
        "tok_chargeDeclinedInsufficientFunds",
        TestCard::Declined("Your card has insufficient funds."),
    ),
    ("tok_chargeDeclinedFraudulent", TestCard::Declined(DECLINED)),
    ("tok_chargeDeclinedLostCard", TestCard::Declined(DECLINED)),
    ("tok_chargeDeclinedStolenCard", TestCard::Declined(DECLINED)),
    ("tok_riskLevelHighest", TestCard::Declined(DECLINED)),
    (
        "tok_chargeDeclinedExpiredCard",
        TestCard::Declined("Your card has expired."),
    ),
    (
        "tok_chargeDeclinedIncorrectCvc",
        TestCard::Declined("Your card's security code is incorrect."),
    ),
    (
        "tok_chargeDeclinedProcessingError",
        TestCard::Declined(
            "An error occurred while processing your card. Try again in a little bit.",
        ),
    ),
    (
        "tok_chargeDeclinedVelocityLimitExceeded",
        TestCard::Declined(
            "Your card was declined for making repeated attempts too frequently or exceeding \
             its amount limit.",
        ),
    ),
    // Refused as invalid.
    (
        "tok_invalid",
        TestCard::Invalid("Invalid card token: tok_invalid"),
    ),
];

/// One successful charge, kept so that a retry with the same key replays it.
#[derive(Debug, Clone)]
struct Charge {
    key: String,
    charge_id: String,
    amount_cents: i64,
    currency: String,
}

/// An offline gateway that follows the card processor's test tokens (the module's table): a
/// token that is charged gets the id `ch_sandbox_<key without dashes>`; an unknown one is refused
/// as "No such token".
///
/// Idempotent: once a key has been charged, every later request with that key returns the same
/// charge and records nothing new (a different amount or currency under the same key is refused as
/// invalid, as the real provider does). Failed attempts are not remembered, so a buyer may retry the
/// same order with another card; a repeated failed request fails again the same way, since the
/// outcome only depends on the token. Clones share the record.
#[derive(Debug, Clone, Default)]
pub struct SandboxGateway {
    /// Successful charges in the order they were made; a handful in dev and tests, so a `Vec` it is.
    charges: Arc<Mutex<Vec<Charge>>>,
}

impl SandboxGateway {
    /// A sandbox with no charges yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// The distinct successful charges as `(idempotency key, charge id, amount in cents)`, oldest
    /// first: one per key, however many times it was retried.
    pub fn charges(&self) -> Vec<(String, String, i64)> {
        self.record()
            .iter()
            .map(|c| (c.key.clone(), c.charge_id.clone(), c.amount_cents))
            .collect()
    }

    /// The record, even if a thread panicked while holding it (every write leaves it consistent).
    fn record(&self) -> MutexGuard<'_, Vec<Charge>> {
        self.charges.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The outcome of a first attempt, from the token alone.
fn outcome_for_token(request: &ChargeRequest) -> ChargeOutcome {
    let known = TEST_TOKENS
        .iter()
        .find(|(token, _)| *token == request.token)
        .map(|&(_, card)| card);
    match known {
        Some(TestCard::Succeeds) => ChargeOutcome::Charged {
            charge_id: format!("ch_sandbox_{}", request.idempotency_key.replace('-', "")),
        },
        Some(TestCard::Declined(message)) => ChargeOutcome::Declined {
            message: message.to_owned(),
        },
        Some(TestCard::Invalid(message)) => ChargeOutcome::Invalid {
            message: message.to_owned(),
        },
        None => ChargeOutcome::Invalid {
            message: format!("No such token: '{}'", request.token),
        },
    }
}

#[async_trait::async_trait]
impl PaymentGateway for SandboxGateway {
    async fn charge(&self, request: &ChargeRequest) -> Result<ChargeOutcome, GatewayError> {
        // One lock for the look-up and the insert: two concurrent retries record one charge.
        let mut record = self.record();
        if let Some(done) = record.iter().find(|c| c.key == request.idempotency_key) {
            if done.amount_cents != request.amount_cents || done.currency != request.currency {
                return Ok(ChargeOutcome::Invalid {
                    message: "Keys for idempotent requests can only be used with the same amount \
                              and currency they were first used with."
                        .to_owned(),
                });
            }
            return Ok(ChargeOutcome::Charged {
                charge_id: done.charge_id.clone(),
            });
        }
        let outcome = outcome_for_token(request);
        if let ChargeOutcome::Charged { charge_id } = &outcome {
            record.push(Charge {
                key: request.idempotency_key.clone(),
                charge_id: charge_id.clone(),
                amount_cents: request.amount_cents,
                currency: request.currency.clone(),
            });
        }
        Ok(outcome)
    }

    fn name(&self) -> &'static str {
        "sandbox"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A request for order `key` paid with `token`, 12.50 USD.
    fn request(key: &str, token: &str) -> ChargeRequest {
        ChargeRequest {
            idempotency_key: key.to_owned(),
            amount_cents: 1250,
            currency: "usd".to_owned(),
            token: token.to_owned(),
            description: "Ticket: Concert".to_owned(),
        }
    }

    #[tokio::test]
    async fn follows_the_test_tokens() {
        let sandbox = SandboxGateway::new();
        let key = "0b6f5a3e-1c2d-4e5f-8a9b-0c1d2e3f4a5b";
        let cases = [
            (
                "tok_visa",
                ChargeOutcome::Charged {
                    charge_id: "ch_sandbox_0b6f5a3e1c2d4e5f8a9b0c1d2e3f4a5b".to_owned(),
                },
            ),
            (
                "tok_chargeDeclined",
                ChargeOutcome::Declined {
                    message: "Your card was declined.".to_owned(),
                },
            ),
            (
                "tok_invalid",
                ChargeOutcome::Invalid {
                    message: "Invalid card token: tok_invalid".to_owned(),
                },
            ),
            (
                "visa",
                ChargeOutcome::Invalid {
                    message: "No such token: 'visa'".to_owned(),
                },
            ),
            (
                "",
                ChargeOutcome::Invalid {
                    message: "No such token: ''".to_owned(),
                },
            ),
        ];
        for (token, expected) in cases {
            // A fresh key per token for the failures, so no earlier charge is replayed.
            let key = if token == "tok_visa" {
                key.to_owned()
            } else {
                format!("k-{token}")
            };
            let outcome = sandbox.charge(&request(&key, token)).await;
            assert_eq!(outcome.ok(), Some(expected), "token {token:?}");
        }
        assert_eq!(sandbox.name(), "sandbox");
    }

    #[tokio::test]
    async fn every_card_brand_is_charged() {
        let sandbox = SandboxGateway::new();
        let brands = [
            "tok_visa",
            "tok_visa_debit",
            "tok_mastercard",
            "tok_mastercard_debit",
            "tok_mastercard_prepaid",
            "tok_amex",
            "tok_discover",
            "tok_diners",
            "tok_jcb",
            "tok_unionpay",
        ];
        for token in brands {
            let outcome = sandbox.charge(&request(token, token)).await;
            assert!(
                matches!(outcome, Ok(ChargeOutcome::Charged { .. })),
                "{token}: {outcome:?}"
            );
        }
        assert_eq!(sandbox.charges().len(), brands.len());
    }

    #[tokio::test]
    async fn the_decline_tokens_are_declined_with_the_processors_message() {
        let sandbox = SandboxGateway::new();
        let cases = [
            ("tok_chargeDeclined", "Your card was declined."),
            (
                "tok_chargeDeclinedInsufficientFunds",
                "Your card has insufficient funds.",
            ),
            ("tok_chargeDeclinedFraudulent", "Your card was declined."),
            ("tok_chargeDeclinedLostCard", "Your card was declined."),
            ("tok_chargeDeclinedStolenCard", "Your card was declined."),
            ("tok_chargeDeclinedExpiredCard", "Your card has expired."),
            (
                "tok_chargeDeclinedIncorrectCvc",
                "Your card's security code is incorrect.",
            ),
            (
                "tok_chargeDeclinedProcessingError",
                "An error occurred while processing your card. Try again in a little bit.",
            ),
        ];
        for (token, message) in cases {
            let outcome = sandbox.charge(&request(token, token)).await.ok();
            assert_eq!(
                outcome,
                Some(ChargeOutcome::Declined {
                    message: message.to_owned()
                }),
                "{token}"
            );
        }
        assert!(sandbox.charges().is_empty(), "nothing was charged");
    }

    #[tokio::test]
    async fn an_unknown_token_is_no_such_token_even_with_the_tok_prefix() {
        let sandbox = SandboxGateway::new();
        for token in ["tok_", "tok_nonsense", "tok_Visa", "tok_visa ", "tok_slow"] {
            let outcome = sandbox.charge(&request(token, token)).await.ok();
            assert_eq!(
                outcome,
                Some(ChargeOutcome::Invalid {
                    message: format!("No such token: '{token}'")
                }),
                "{token:?}"
            );
        }
        assert!(sandbox.charges().is_empty(), "nothing was charged");
    }

    #[test]
    fn every_token_is_listed_once_and_in_the_modules_table() {
        let table = include_str!("sandbox.rs");
        let mut seen = std::collections::HashSet::new();
        for (token, _) in TEST_TOKENS {
            assert!(seen.insert(*token), "{token} is listed twice");
            assert!(
                table.contains(&format!("//! | `{token}`"))
                    || table.contains(&format!(", `{token}`")),
                "{token} is missing from the module's documentation"
            );
        }
    }

    #[tokio::test]
    async fn the_same_key_charges_once_across_retries_and_clones() {
        let sandbox = SandboxGateway::default();
        let clone = sandbox.clone();
        let first = sandbox.charge(&request("order-1", "tok_visa")).await.ok();
        let retry = clone.charge(&request("order-1", "tok_visa")).await.ok();
        assert_eq!(first, retry);
        // Even another token under a charged key replays the charge instead of charging again.
        let other = sandbox
            .charge(&request("order-1", "tok_mastercard"))
            .await
            .ok();
        assert_eq!(first, other);
        sandbox.charge(&request("order-2", "tok_visa")).await.ok();

        let expected = vec![
            ("order-1".to_owned(), "ch_sandbox_order1".to_owned(), 1250),
            ("order-2".to_owned(), "ch_sandbox_order2".to_owned(), 1250),
        ];
        assert_eq!(sandbox.charges(), expected);
        assert_eq!(clone.charges(), expected, "clones share the record");
    }

    #[tokio::test]
    async fn concurrent_retries_record_one_charge() {
        let sandbox = SandboxGateway::new();
        let tasks: Vec<_> = (0..16)
            .map(|_| {
                let sandbox = sandbox.clone();
                tokio::spawn(
                    async move { sandbox.charge(&request("order-1", "tok_visa")).await.ok() },
                )
            })
            .collect();
        for task in tasks {
            let outcome = task.await.ok().flatten();
            assert_eq!(
                outcome,
                Some(ChargeOutcome::Charged {
                    charge_id: "ch_sandbox_order1".to_owned()
                })
            );
        }
        assert_eq!(sandbox.charges().len(), 1);
    }

    #[tokio::test]
    async fn failures_are_repeatable_and_not_recorded() {
        let sandbox = SandboxGateway::new();
        for _ in 0..2 {
            let outcome = sandbox
                .charge(&request("order-1", "tok_chargeDeclined"))
                .await
                .ok();
            assert!(matches!(outcome, Some(ChargeOutcome::Declined { .. })));
        }
        assert!(sandbox.charges().is_empty());
        // The buyer may then pay the same order with another card.
        let outcome = sandbox.charge(&request("order-1", "tok_visa")).await.ok();
        assert!(matches!(outcome, Some(ChargeOutcome::Charged { .. })));
        assert_eq!(sandbox.charges().len(), 1);
    }

    #[tokio::test]
    async fn a_charged_key_with_another_amount_is_invalid() {
        let sandbox = SandboxGateway::new();
        sandbox.charge(&request("order-1", "tok_visa")).await.ok();
        let mut changed = request("order-1", "tok_visa");
        changed.amount_cents = 999;
        let outcome = sandbox.charge(&changed).await.ok();
        assert!(
            matches!(outcome, Some(ChargeOutcome::Invalid { .. })),
            "{outcome:?}"
        );
        assert_eq!(
            sandbox.charges(),
            vec![("order-1".to_owned(), "ch_sandbox_order1".to_owned(), 1250)]
        );
    }
}
