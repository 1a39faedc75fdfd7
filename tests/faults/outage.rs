//! The Temporal server stopped and started again on its data while buyers keep ordering and
//! paying. Every answer is checked against what the database and the workflows hold afterwards:
//! a 201 to an order is an order that holds its ticket; a refusal or a 503 to an order holds
//! nothing; a 201 to a payment is the payment that request made; a refusal charged nothing.

use std::{
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use entities::{
    order::{self, Status},
    payment, ticket,
};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::Value;
use uuid::Uuid;

use crate::{
    assert_consistent, bounded, check_clean_within,
    system::{Http, System, TemporalServer},
};

/// Buyers ordering and paying at once.
const BUYERS: usize = 6;
/// How long they keep starting new requests.
const TRAFFIC: Duration = Duration::from_secs(22);
/// When the Temporal server is stopped, after the traffic began, and for how long.
const STOP_AT: Duration = Duration::from_secs(5);
const AWAY_FOR: Duration = Duration::from_secs(8);

/// One request and its answer.
#[derive(Debug, Clone)]
enum Asked {
    Order {
        ticket: Uuid,
        status: u16,
        order: Option<Uuid>,
        order_status: Option<String>,
    },
    Payment {
        order: Uuid,
        key: String,
        status: u16,
        body: Value,
    },
}

/// One buyer: a new ticket, an order for it, and a payment for each order made, until `until`.
async fn buyer(system: Http, until: Instant, answers: Arc<Mutex<Vec<Asked>>>) {
    let buyer = system.buyer().await;
    while Instant::now() < until {
        let ticket = system.listed_ticket().await;
        let (status, body) = system
            .order_with_key(&buyer, ticket, &Uuid::new_v4().to_string())
            .await;
        let order = body["id"].as_str().and_then(|id| id.parse::<Uuid>().ok());
        answers.lock().unwrap().push(Asked::Order {
            ticket,
            status,
            order: order.filter(|_| status == 201),
            order_status: body["status"].as_str().map(str::to_owned),
        });
        let Some(order) = order.filter(|_| status == 201) else {
            tokio::time::sleep(Duration::from_millis(300)).await;
            continue;
        };
        let key = Uuid::new_v4().to_string();
        let (status, body) = system.pay_with_key(&buyer, order, "tok_visa", &key).await;
        answers.lock().unwrap().push(Asked::Payment {
            order,
            key,
            status,
            body,
        });
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_temporal_outage_under_traffic_leaves_every_answer_true() {
    bounded(async {
        let mut temporal = TemporalServer::start_on_file();
        let mut system = System::start(&temporal, 120).await;
        system.start_worker(system.db().url.clone()).await;
        let answers = Arc::new(Mutex::new(Vec::new()));
        let began = Instant::now();
        let buyers: Vec<_> = (0..BUYERS)
            .map(|_| tokio::spawn(buyer(system.handle(), began + TRAFFIC, answers.clone())))
            .collect();

        tokio::time::sleep(STOP_AT).await;
        temporal.stop();
        tokio::time::sleep(AWAY_FOR).await;
        temporal.restart();
        system.keep_worker_alive().await;
        for buyer in buyers {
            buyer.await.unwrap();
        }
        // Recovered: Temporal is back and every request has its answer.
        check_clean_within(&system, Duration::from_secs(10)).await;

        let db = &system.db().connection;
        let answers = answers.lock().unwrap().clone();
        let (mut orders_made, mut paid) = (0, 0);
        for asked in &answers {
            match asked {
                Asked::Order {
                    ticket,
                    status,
                    order,
                    order_status,
                } => {
                    let held_by = ticket::Entity::find_by_id(*ticket)
                        .one(db)
                        .await
                        .unwrap()
                        .unwrap()
                        .order_id;
                    if *status == 201 {
                        orders_made += 1;
                        let order = order.unwrap();
                        assert_eq!(
                            order_status.as_deref(),
                            Some("created"),
                            "an order answered 201 is open: {asked:?}"
                        );
                        let row = order::Entity::find_by_id(order).one(db).await.unwrap();
                        let row = row.unwrap_or_else(|| panic!("no row for {asked:?}"));
                        assert_ne!(
                            row.status,
                            Status::Cancelled,
                            "nothing cancels orders here: {asked:?}"
                        );
                        assert_eq!(held_by, Some(order), "the order holds its ticket");
                    } else {
                        assert!(
                            *status == 503 || (400..500).contains(status),
                            "an order answered {status}"
                        );
                        let holder = match held_by {
                            Some(holder) => {
                                order::Entity::find_by_id(holder).one(db).await.unwrap()
                            }
                            None => None,
                        };
                        assert!(
                            holder.is_none(),
                            "an order answered {status} holds its ticket: {holder:?}"
                        );
                    }
                }
                Asked::Payment {
                    order,
                    key,
                    status,
                    body,
                } => {
                    let recorded = payment::Entity::find()
                        .filter(payment::Column::OrderId.eq(*order))
                        .one(db)
                        .await
                        .unwrap();
                    let mine = recorded
                        .as_ref()
                        .filter(|p| p.request_id.as_deref() == Some(&format!("payment:{key}")));
                    match status {
                        201 => {
                            paid += 1;
                            let mine = mine.unwrap_or_else(|| {
                                panic!("a payment answered 201 was not recorded: {asked:?}")
                            });
                            assert_eq!(body["id"], Value::from(mine.id.to_string()));
                        }
                        400..=499 => assert!(
                            mine.is_none(),
                            "a payment refused ({status} {body}) was recorded: {recorded:?}"
                        ),
                        // No answer: the order may be paid or not; `check` below says the
                        // database and the workflow agree on which.
                        _ => assert!(*status >= 500, "a payment answered {status}"),
                    }
                }
            }
        }
        eprintln!(
            "{} answers: {orders_made} orders made, {paid} paid",
            answers.len()
        );
        assert!(
            orders_made > BUYERS && paid > BUYERS,
            "traffic ran before and after the outage"
        );

        // Orders still open end as any order does; then every order is checked.
        let open: Vec<_> = order::Entity::find()
            .filter(order::Column::Status.is_in([Status::Created, Status::AwaitingPayment]))
            .all(db)
            .await
            .unwrap();
        let client = system.temporal_client().await;
        for order in &open {
            let _ = client
                .get_workflow_handle::<workflows::OrderWorkflow>(workflows::workflow_id(order.id))
                .cancel(Default::default())
                .await;
        }
        let ids: Vec<Uuid> = open.iter().map(|o| o.id).collect();
        system.wait_until_settled(&ids).await;
        assert_consistent(&system).await;
    })
    .await;
}
