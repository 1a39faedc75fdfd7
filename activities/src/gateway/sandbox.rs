//! The built-in gateway: no network, the card processor's test tokens, an in-memory record.

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use super::{ChargeOutcome, ChargeRequest, GatewayError, PaymentGateway};

/// The test token that is always declined.
const DECLINED_TOKEN: &str = "tok_chargeDeclined";
/// The test token that is always refused as invalid.
const INVALID_TOKEN: &str = "tok_invalid";

/// One successful charge, kept so that a retry with the same key replays it.
#[derive(Debug, Clone)]
struct Charge {
    key: String,
    charge_id: String,
    amount_cents: i64,
    currency: String,
}

/// An offline gateway that follows the card processor's test tokens.
///
/// - `tok_chargeDeclined` is declined ("Your card was declined.");
/// - `tok_invalid` is refused as invalid;
/// - any other token starting with `tok_` is charged, with the id `ch_sandbox_<key without dashes>`;
/// - anything else (including an empty token) is refused as "No such token".
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
    match request.token.as_str() {
        DECLINED_TOKEN => ChargeOutcome::Declined {
            message: "Your card was declined.".to_owned(),
        },
        INVALID_TOKEN => ChargeOutcome::Invalid {
            message: format!("Invalid card token: {INVALID_TOKEN}"),
        },
        token if token.starts_with("tok_") => ChargeOutcome::Charged {
            charge_id: format!("ch_sandbox_{}", request.idempotency_key.replace('-', "")),
        },
        token => ChargeOutcome::Invalid {
            message: format!("No such token: '{token}'"),
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
    async fn any_other_tok_token_is_charged() {
        let sandbox = SandboxGateway::new();
        for token in ["tok_mastercard", "tok_amex", "tok_"] {
            let outcome = sandbox.charge(&request(token, token)).await;
            assert!(
                matches!(outcome, Ok(ChargeOutcome::Charged { .. })),
                "{token}: {outcome:?}"
            );
        }
        assert_eq!(sandbox.charges().len(), 3);
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
