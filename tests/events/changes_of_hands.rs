//! Tickets changing hands on the bus: a transfer and a completed resale each reach NATS once as
//! `holding:changed` of the original ticket (its versions growing), and a withdrawal reaches it
//! as `ticket:withdrawn`.

use std::time::Duration;

use serde_json::{Value, json};
use support::{id_of, listed_and_ordered, order_ticket, spawn_app};

use super::{Seen, assert_match_the_asyncapi_document, delete_stream, outbox_len, read_all, relay};

#[tokio::test]
async fn a_transfer_a_resale_and_a_withdrawal_each_reach_the_bus_once() {
    let app = spawn_app().await;
    let settings = super::settings();
    relay(&app, &settings);

    // Bought, given to a friend, sold on by the friend, bought by a third user.
    let deal = listed_and_ordered(&app, "Opera", json!(25)).await;
    let paid = app.pay(&deal.buyer, &deal.order_id(), "tok_visa").await;
    assert_eq!(paid.status(), 201);
    let ticket = deal.ticket_id();
    let friend = app.new_user().await;
    let given = app
        .post(
            &format!("/api/holdings/{ticket}/transfer"),
            Some(&deal.buyer.token),
            &json!({ "email": friend.email }),
        )
        .await;
    assert_eq!(given.status(), 200, "{}", given.text().await.unwrap());
    let listed = app
        .post(
            &format!("/api/holdings/{ticket}/sell"),
            Some(&friend.token),
            &json!({ "price": 20 }),
        )
        .await;
    assert_eq!(listed.status(), 201);
    let listing = id_of(&listed.json::<Value>().await.unwrap());
    let third = app.new_user().await;
    let order = order_ticket(&app, &third, &listing).await;
    let paid = app.pay(&third, &id_of(&order), "tok_visa").await;
    assert_eq!(paid.status(), 201);

    // A listing taken off sale.
    let seller = app.new_user().await;
    let withdrawn = id_of(&app.create_ticket(&seller, "Ballet", json!(30)).await);
    let response = app
        .delete(&format!("/api/tickets/{withdrawn}"), Some(&seller.token))
        .await;
    assert_eq!(response.status(), 200);
    let withdrawn_at = response.json::<Value>().await.unwrap()["withdrawnAt"].clone();

    // The workflows write their last events a moment after the HTTP answers.
    tokio::time::sleep(Duration::from_secs(1)).await;
    let written = outbox_len(&app).await;
    let seen = read_all(&settings, written).await;
    assert_eq!(seen.len(), written, "{seen:#?}");
    let ids: Vec<i64> = seen.iter().map(|s| s.id.parse().unwrap()).collect();
    let mut once = ids.clone();
    once.sort();
    once.dedup();
    assert_eq!(ids, once, "once each, in order");

    // The original ticket's changes of hands: the sale, the transfer, the resale.
    let changes: Vec<&Seen> = seen
        .iter()
        .filter(|e| e.kind == "holding:changed" && e.record == ticket)
        .collect();
    assert_eq!(changes.len(), 3, "{changes:#?}");
    let by = |holder: &str, how: &str| {
        changes
            .iter()
            .filter(|e| e.data["holderId"] == holder && e.data["acquiredBy"] == how)
            .count()
    };
    assert_eq!(by(&deal.buyer.id, "sale"), 1, "{changes:#?}");
    assert_eq!(by(&friend.id, "transfer"), 1, "{changes:#?}");
    assert_eq!(by(&third.id, "sale"), 1, "{changes:#?}");
    assert_eq!(
        changes[1].data["holderId"],
        friend.id.as_str(),
        "{changes:#?}"
    );
    assert_eq!(
        changes[2].data["holderId"],
        third.id.as_str(),
        "{changes:#?}"
    );
    assert_eq!(changes[2].data["ticketId"], ticket.as_str(), "{changes:#?}");
    for pair in changes.windows(2) {
        let (before, after) = (&pair[0].data, &pair[1].data);
        assert!(
            after["version"].as_i64() > before["version"].as_i64(),
            "versions grow: {changes:#?}"
        );
        assert!(
            after["generation"].as_i64() > before["generation"].as_i64(),
            "generations grow: {changes:#?}"
        );
    }
    // No change of hands is told under the resale listing's id.
    assert!(
        !seen
            .iter()
            .any(|e| e.kind == "holding:changed" && e.record == listing),
        "{seen:#?}"
    );
    let created: Vec<&Seen> = seen
        .iter()
        .filter(|e| e.kind == "ticket:created" && e.record == listing)
        .collect();
    assert_eq!(created.len(), 1, "the resale listing: {seen:#?}");

    // The withdrawal.
    let withdrawals: Vec<&Seen> = seen
        .iter()
        .filter(|e| e.kind == "ticket:withdrawn")
        .collect();
    assert_eq!(withdrawals.len(), 1, "{withdrawals:#?}");
    assert_eq!(withdrawals[0].record, withdrawn);
    // The same moment as the answer said (which shows it to the millisecond).
    let moment = |value: &Value| {
        use chrono::SubsecRound;
        let text = value.as_str().unwrap_or_else(|| panic!("a time: {value}"));
        chrono::DateTime::parse_from_rfc3339(text)
            .unwrap_or_else(|e| panic!("{text}: {e}"))
            .trunc_subsecs(3)
    };
    assert_eq!(
        moment(&withdrawals[0].data["withdrawnAt"]),
        moment(&withdrawn_at),
        "{withdrawals:#?}"
    );
    assert_eq!(
        withdrawals[0].subject,
        format!("{}.ticket.withdrawn", settings.bus.stream.subject_prefix)
    );

    assert_match_the_asyncapi_document(&seen);
    delete_stream(&settings).await;
}
