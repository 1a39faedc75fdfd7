//! The Stripe gateway against the fake processor over real HTTP: the form and headers it sends,
//! idempotent retries, how it maps every kind of answer, and that the secret key never leaks.

use std::{
    collections::HashMap,
    time::{Duration, Instant},
};

use activities::{
    ChargeOutcome, ChargeRequest, GatewayError, PaymentGateway, gateway::StripeGateway,
};
use support::fake_stripe::{FakeStripe, SECRET_KEY};

const KEY: &str = "0b6f5a3e-1c2d-4e5f-8a9b-0c1d2e3f4a5b";

/// A refusal no retry can change (our credentials, an answer we cannot use).
#[track_caller]
fn assert_permanent(result: &Result<ChargeOutcome, GatewayError>) {
    assert!(
        matches!(result, Err(GatewayError::Permanent(_))),
        "{result:?}"
    );
}

/// A fault worth retrying (the provider unreachable, slow, busy).
#[track_caller]
fn assert_transient(result: &Result<ChargeOutcome, GatewayError>) {
    assert!(
        matches!(result, Err(GatewayError::Transient(_))),
        "{result:?}"
    );
}

/// A request for order [`KEY`] paid with `token`, 12.50 USD.
fn request(token: &str) -> ChargeRequest {
    ChargeRequest {
        idempotency_key: KEY.to_owned(),
        amount_cents: 1250,
        currency: "usd".to_owned(),
        token: token.to_owned(),
        description: "Ticket: Concert".to_owned(),
    }
}

/// Charges and asserts that no message carries the secret key.
async fn charge(
    gateway: &StripeGateway,
    request: &ChargeRequest,
) -> Result<ChargeOutcome, GatewayError> {
    let result = gateway.charge(request).await;
    let text = match &result {
        Ok(outcome) => format!("{outcome:?}"),
        Err(error) => format!("{error} {error:?}"),
    };
    assert!(!text.contains(SECRET_KEY), "the secret key leaked: {text}");
    result
}

#[tokio::test]
async fn sends_the_form_and_the_headers() {
    let fake = FakeStripe::start().await;
    let base = fake.base.clone();
    let gateway = StripeGateway::new(SECRET_KEY.into(), format!("{base}/"));
    let outcome = charge(&gateway, &request("tok_visa")).await.ok();
    assert_eq!(
        outcome,
        Some(ChargeOutcome::Charged {
            charge_id: "ch_1".to_owned()
        })
    );

    let requests = fake.requests();
    assert_eq!(requests.len(), 1);
    let sent = &requests[0];
    assert_eq!(
        sent.authorization.as_deref(),
        Some(format!("Bearer {SECRET_KEY}").as_str())
    );
    assert_eq!(sent.idempotency_key.as_deref(), Some(KEY));
    assert_eq!(
        sent.content_type.as_deref(),
        Some("application/x-www-form-urlencoded")
    );
    let expected: HashMap<String, String> = [
        ("amount", "1250"),
        ("currency", "usd"),
        ("source", "tok_visa"),
        ("description", "Ticket: Concert"),
        ("metadata[order_id]", KEY),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect();
    assert_eq!(sent.form, expected);
}

#[tokio::test]
async fn a_repeated_key_returns_the_same_charge() {
    let fake = FakeStripe::start().await;
    let base = fake.base.clone();
    let gateway = StripeGateway::new(SECRET_KEY.into(), base);
    let first = charge(&gateway, &request("tok_visa")).await.ok();
    let retry = charge(&gateway.clone(), &request("tok_visa")).await.ok();
    assert_eq!(
        first,
        Some(ChargeOutcome::Charged {
            charge_id: "ch_1".to_owned()
        })
    );
    assert_eq!(retry, first);

    let mut other = request("tok_visa");
    other.idempotency_key = "another-order".to_owned();
    let second = charge(&gateway, &other).await.ok();
    assert_eq!(
        second,
        Some(ChargeOutcome::Charged {
            charge_id: "ch_2".to_owned()
        })
    );
    assert_eq!(fake.charges().len(), 2);
}

#[tokio::test]
async fn maps_declines_and_invalid_requests() {
    let fake = FakeStripe::start().await;
    let base = fake.base.clone();
    let gateway = StripeGateway::new(SECRET_KEY.into(), base);
    let cases = [
        (
            "tok_chargeDeclined",
            ChargeOutcome::Declined {
                message: "Your card was declined.".to_owned(),
            },
        ),
        (
            "tok_cvc_400",
            ChargeOutcome::Declined {
                message: "Your card's security code is incorrect.".to_owned(),
            },
        ),
        (
            "tok_invalid",
            ChargeOutcome::Invalid {
                message: "Invalid token id: tok_invalid".to_owned(),
            },
        ),
        (
            "tok_missing",
            ChargeOutcome::Invalid {
                message: "No such token: 'tok_missing'".to_owned(),
            },
        ),
    ];
    for (token, expected) in cases {
        let outcome = charge(&gateway, &request(token)).await.ok();
        assert_eq!(outcome, Some(expected), "token {token}");
    }
}

#[tokio::test]
async fn retryable_answers_are_transient() {
    let fake = FakeStripe::start().await;
    let base = fake.base.clone();
    let gateway = StripeGateway::new(SECRET_KEY.into(), base);
    for token in ["tok_rate_limited", "tok_conflict"] {
        let result = charge(&gateway, &request(token)).await;
        assert_transient(&result);
    }
    // 500 the first time; the retry with the same key then charges.
    let result = charge(&gateway, &request("tok_fail_once")).await;
    assert_transient(&result);
    let retry = charge(&gateway, &request("tok_fail_once")).await.ok();
    assert_eq!(
        retry,
        Some(ChargeOutcome::Charged {
            charge_id: "ch_1".to_owned()
        })
    );
}

#[tokio::test]
async fn a_refused_key_is_permanent_and_never_shown() {
    let fake = FakeStripe::start().await;
    let base = fake.base.clone();
    let wrong = "sk_test_wrong_key_42";
    let gateway = StripeGateway::new(wrong.into(), base);
    let result = gateway.charge(&request("tok_visa")).await;
    let Err(GatewayError::Permanent(message)) = result else {
        panic!("expected a permanent error, got {result:?}");
    };
    assert!(message.starts_with("401"), "{message}");
    assert!(message.contains("[redacted]"), "{message}");
    assert!(!message.contains(wrong), "the secret key leaked: {message}");
    assert!(!format!("{gateway:?}").contains(wrong));
    assert_eq!(gateway.name(), "stripe");
}

#[tokio::test]
async fn unusable_answers_are_permanent() {
    let fake = FakeStripe::start().await;
    let base = fake.base.clone();
    let no_id = StripeGateway::new(SECRET_KEY.into(), base.clone());
    let result = charge(&no_id, &request("tok_no_id")).await;
    assert_permanent(&result);
    // A wrong base URL: the server's own 404, not the provider's error format.
    let wrong_path = StripeGateway::new(SECRET_KEY.into(), format!("{base}/nope"));
    let result = charge(&wrong_path, &request("tok_visa")).await;
    assert_permanent(&result);
    // Not a URL at all.
    let not_a_url = StripeGateway::new(SECRET_KEY.into(), "api.stripe.com".to_owned());
    let result = charge(&not_a_url, &request("tok_visa")).await;
    assert_permanent(&result);
}

#[tokio::test]
async fn an_unreachable_provider_is_transient() {
    let closed = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = closed.local_addr().expect("address");
    drop(closed);
    let gateway = StripeGateway::new(SECRET_KEY.into(), format!("http://{addr}"));
    let result = charge(&gateway, &request("tok_visa")).await;
    assert_transient(&result);
}

#[tokio::test]
async fn a_hanging_provider_times_out_as_transient() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("address");
    tokio::spawn(async move {
        // Accepts and holds every connection without ever answering.
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            held.push(socket);
        }
    });
    let gateway = StripeGateway::new(SECRET_KEY.into(), format!("http://{addr}"))
        .with_timeout(Duration::from_millis(500));
    let started = Instant::now();
    let result = charge(&gateway, &request("tok_visa")).await;
    assert_transient(&result);
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "took {:?}",
        started.elapsed()
    );
}
