//! The activities, run through the SDK's `ActivityEnvironment` against a real database: each is
//! idempotent under retry, and business refusals come back as values while faults are errors
//! (retryable, or not when no retry can help).

mod stripe;

use std::sync::Arc;

use activities::{
    ChargeOutcome, ChargeRequest, GatewayError, OrderActivities, PaymentGateway,
    gateway::SandboxGateway,
    order::{
        CancelInput, CancelReason, ChargeInput, CompleteInput, ReserveInput, ReserveOutcome, Status,
    },
};
use entities::{event, order, payment, ticket, user};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use support::TestDatabase;
use temporalio_sdk::{
    activities::ActivityError,
    testing::{ActivityEnvironment, ActivityEnvironmentError},
};
use uuid::Uuid;

struct Setup {
    db: TestDatabase,
    env: ActivityEnvironment,
    sandbox: SandboxGateway,
    seller: Uuid,
    buyer: Uuid,
    ticket: Uuid,
}

async fn insert_user(db: &TestDatabase) -> Uuid {
    let id = Uuid::new_v4();
    let email = format!("{}@example.com", id.simple());
    let row = user::Model {
        id,
        email: email.clone(),
        email_key: email,
        password_hash: "not used here".into(),
        session_version: 0,
        created_at: entities::now(),
    };
    user::ActiveModel::from(row)
        .insert(&db.connection)
        .await
        .unwrap();
    id
}

async fn setup_with(gateway: Arc<dyn PaymentGateway>) -> (TestDatabase, ActivityEnvironment) {
    let db = TestDatabase::create().await;
    let env = ActivityEnvironment::builder()
        .register_activities(OrderActivities::new(
            db.connection.clone(),
            gateway,
            "usd".into(),
            telemetry::Metrics::new(),
        ))
        .build();
    (db, env)
}

async fn setup() -> Setup {
    let sandbox = SandboxGateway::new();
    let (db, env) = setup_with(Arc::new(sandbox.clone())).await;
    let seller = insert_user(&db).await;
    let buyer = insert_user(&db).await;
    let now = entities::now();
    let ticket = ticket::Model {
        id: Uuid::new_v4(),
        title: "Ballet".into(),
        price_cents: 2550,
        user_id: seller,
        version: 0,
        order_id: None,
        resale_of: None,
        withdrawn_at: None,
        created_at: now,
        updated_at: now,
    };
    ticket::ActiveModel::from(ticket.clone())
        .insert(&db.connection)
        .await
        .unwrap();
    Setup {
        db,
        env,
        sandbox,
        seller,
        buyer,
        ticket: ticket.id,
    }
}

fn reserve_input(s: &Setup, order_id: Uuid) -> ReserveInput {
    ReserveInput {
        order_id,
        ticket_id: s.ticket,
        buyer_id: s.buyer,
        expires_at: entities::now() + chrono::Duration::minutes(15),
        reserve_by: None,
    }
}

async fn ticket_row(s: &Setup) -> ticket::Model {
    ticket::Entity::find_by_id(s.ticket)
        .one(&s.db.connection)
        .await
        .unwrap()
        .unwrap()
}

async fn reserved(s: &Setup) -> Uuid {
    let order_id = Uuid::new_v4();
    let outcome = s
        .env
        .run(OrderActivities::reserve, reserve_input(s, order_id))
        .await
        .unwrap();
    assert!(
        matches!(outcome, ReserveOutcome::Reserved(_)),
        "{outcome:?}"
    );
    order_id
}

async fn events_of(s: &Setup, id: Uuid) -> u64 {
    event::Entity::find()
        .filter(event::Column::AggregateId.eq(id))
        .count(&s.db.connection)
        .await
        .unwrap()
}

#[tokio::test]
async fn reserve_holds_the_ticket_and_a_retry_answers_the_same() {
    let s = setup().await;
    let order_id = Uuid::new_v4();
    let input = reserve_input(&s, order_id);
    let first = s
        .env
        .run(OrderActivities::reserve, input.clone())
        .await
        .unwrap();
    let ReserveOutcome::Reserved(reservation) = &first else {
        panic!("{first:?}");
    };
    assert_eq!(reservation.price_cents, 2550);
    assert_eq!(reservation.title, "Ballet");

    // Retried (say, after a crash before the answer reached the workflow): same answer, no
    // second write.
    let again = s.env.run(OrderActivities::reserve, input).await.unwrap();
    assert_eq!(again, first);
    let ticket = ticket_row(&s).await;
    assert_eq!(ticket.order_id, Some(order_id));
    assert_eq!(ticket.version, 1, "reserved once");
    assert_eq!(events_of(&s, order_id).await, 1, "one order:created");
}

#[tokio::test]
async fn reserve_refuses_a_missing_own_or_taken_ticket_as_values() {
    let s = setup().await;
    let missing = ReserveInput {
        ticket_id: Uuid::new_v4(),
        ..reserve_input(&s, Uuid::new_v4())
    };
    assert_eq!(
        s.env.run(OrderActivities::reserve, missing).await.unwrap(),
        ReserveOutcome::TicketNotFound
    );
    let own = ReserveInput {
        buyer_id: s.seller,
        ..reserve_input(&s, Uuid::new_v4())
    };
    assert_eq!(
        s.env.run(OrderActivities::reserve, own).await.unwrap(),
        ReserveOutcome::OwnTicket
    );
    reserved(&s).await;
    assert_eq!(
        s.env
            .run(OrderActivities::reserve, reserve_input(&s, Uuid::new_v4()))
            .await
            .unwrap(),
        ReserveOutcome::TicketTaken
    );
    let orders = order::Entity::find().count(&s.db.connection).await.unwrap();
    assert_eq!(orders, 1, "refusals write no order");
}

#[tokio::test]
async fn cancel_frees_the_ticket_once_and_only_while_this_order_holds_it() {
    let s = setup().await;
    let order_id = reserved(&s).await;
    let input = CancelInput {
        order_id,
        reason: CancelReason::Expired,
    };
    assert_eq!(
        s.env
            .run(OrderActivities::cancel, input.clone())
            .await
            .unwrap(),
        Status::Cancelled
    );
    let freed = ticket_row(&s).await;
    assert_eq!(freed.order_id, None);
    let events_after_first = events_of(&s, order_id).await;

    // A retry changes nothing.
    assert_eq!(
        s.env.run(OrderActivities::cancel, input).await.unwrap(),
        Status::Cancelled
    );
    assert_eq!(ticket_row(&s).await, freed);
    assert_eq!(events_of(&s, order_id).await, events_after_first);

    // A later order holds the ticket now: cancelling the old one again must not free it.
    let next = reserved(&s).await;
    s.env
        .run(
            OrderActivities::cancel,
            CancelInput {
                order_id,
                reason: CancelReason::Cancelled,
            },
        )
        .await
        .unwrap();
    assert_eq!(ticket_row(&s).await.order_id, Some(next));
}

#[tokio::test]
async fn complete_records_one_payment_however_often_it_runs() {
    let s = setup().await;
    let order_id = reserved(&s).await;
    let input = CompleteInput {
        order_id,
        charge_id: "ch_1".into(),
        amount_cents: 2550,
        request_id: None,
    };
    let first = s
        .env
        .run(OrderActivities::complete, input.clone())
        .await
        .unwrap();
    let again = s.env.run(OrderActivities::complete, input).await.unwrap();
    assert_eq!(first, again);
    let payments = payment::Entity::find()
        .filter(payment::Column::OrderId.eq(order_id))
        .count(&s.db.connection)
        .await
        .unwrap();
    assert_eq!(payments, 1);
    let completed = order::Entity::find_by_id(order_id)
        .one(&s.db.connection)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(completed.status, Status::Complete);

    // A paid order is never cancelled.
    assert_eq!(
        s.env
            .run(
                OrderActivities::cancel,
                CancelInput {
                    order_id,
                    reason: CancelReason::Expired
                }
            )
            .await
            .unwrap(),
        Status::Complete
    );
    assert_eq!(ticket_row(&s).await.order_id, Some(order_id), "sold");
}

#[tokio::test]
async fn charge_answers_business_outcomes_and_charges_a_key_once() {
    let s = setup().await;
    let order_id = reserved(&s).await;
    let charge = |token: &str, key: &str| ChargeInput {
        order_id,
        idempotency_key: key.into(),
        amount_cents: 2550,
        token: token.into(),
    };
    let run = |token: &'static str, key: &'static str| {
        s.env.run(OrderActivities::charge, charge(token, key))
    };
    let declined = run("tok_chargeDeclined", "k1").await.unwrap();
    assert!(
        matches!(declined, ChargeOutcome::Declined { .. }),
        "{declined:?}"
    );
    let invalid = run("tok_invalid", "k2").await.unwrap();
    assert!(
        matches!(invalid, ChargeOutcome::Invalid { .. }),
        "{invalid:?}"
    );
    let first = run("tok_visa", "k3").await.unwrap();
    let retried = run("tok_visa", "k3").await.unwrap();
    assert!(matches!(first, ChargeOutcome::Charged { .. }), "{first:?}");
    assert_eq!(first, retried);
    assert_eq!(s.sandbox.charges().len(), 1, "charged once");
    assert_eq!(s.sandbox.charges()[0].2, 2550);
}

#[tokio::test]
async fn reserve_refuses_after_its_deadline_and_reserves_nothing() {
    let s = setup().await;
    let late = ReserveInput {
        reserve_by: Some(entities::now() - chrono::Duration::seconds(1)),
        ..reserve_input(&s, Uuid::new_v4())
    };
    let outcome = s.env.run(OrderActivities::reserve, late).await.unwrap();
    assert_eq!(outcome, ReserveOutcome::TooLate);
    assert_eq!(
        ticket_row(&s).await.order_id,
        None,
        "the ticket is still free"
    );
    assert_eq!(
        order::Entity::find().count(&s.db.connection).await.unwrap(),
        0
    );
    // In time, it reserves.
    let in_time = ReserveInput {
        reserve_by: Some(entities::now() + chrono::Duration::seconds(30)),
        ..reserve_input(&s, Uuid::new_v4())
    };
    let outcome = s.env.run(OrderActivities::reserve, in_time).await.unwrap();
    assert!(
        matches!(outcome, ReserveOutcome::Reserved(_)),
        "{outcome:?}"
    );
}

/// A gateway that always fails in one way.
struct Failing(fn() -> GatewayError);

#[async_trait::async_trait]
impl PaymentGateway for Failing {
    async fn charge(&self, _: &ChargeRequest) -> Result<ChargeOutcome, GatewayError> {
        Err((self.0)())
    }

    fn name(&self) -> &'static str {
        "failing"
    }
}

async fn charge_error(error: fn() -> GatewayError) -> ActivityError {
    let (_db, env) = setup_with(Arc::new(Failing(error))).await;
    let input = ChargeInput {
        order_id: Uuid::new_v4(),
        idempotency_key: "k".into(),
        amount_cents: 100,
        token: "tok_visa".into(),
    };
    match env.run(OrderActivities::charge, input).await {
        Err(ActivityEnvironmentError::Activity(error)) => error,
        other => panic!("expected an activity error, got {other:?}"),
    }
}

fn is_non_retryable(error: &ActivityError) -> bool {
    matches!(error, ActivityError::Application(failure) if failure.is_non_retryable())
}

#[tokio::test]
async fn provider_faults_are_retried_but_refused_credentials_are_not() {
    let transient = charge_error(|| GatewayError::Transient("timed out".into())).await;
    assert!(!is_non_retryable(&transient), "{transient:?}");
    let permanent = charge_error(|| GatewayError::Permanent("401".into())).await;
    assert!(is_non_retryable(&permanent), "{permanent:?}");
}
