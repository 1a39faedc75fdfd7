//! What goes on the bus for one outbox row: its subject, its CloudEvents 1.0 attributes in the
//! NATS protocol binding's binary mode (`ce-*` headers, the data as the body), and its data in the
//! shape the original system's events had, so that a listener written for it needs only a new
//! subscription.

use async_nats::HeaderMap;
use entities::{Money, event};
use serde_json::{Value, json};

/// Every subject starts with this unless configured otherwise; the stream takes `ticketing.>`.
pub const SUBJECT_PREFIX: &str = "ticketing";
/// `ce-source` of every event.
pub const SOURCE: &str = "/ticketing";

/// The subject of an event kind under `prefix`: `ticket:created` is `ticketing.ticket.created`.
pub fn subject(prefix: &str, kind: &str) -> String {
    format!("{prefix}.{}", kind.replace(':', "."))
}

/// An outbox row as a message: subject, headers, body.
#[derive(Debug, Clone)]
pub struct Message {
    pub subject: String,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

impl Message {
    /// The message of `row`, on a subject under `prefix`.
    pub fn of(prefix: &str, row: &event::Model) -> Message {
        let mut headers = HeaderMap::new();
        let id = row.id.to_string();
        // JetStream drops a second message with the same id within its de-duplication window.
        headers.insert("Nats-Msg-Id", id.as_str());
        headers.insert("ce-specversion", "1.0");
        headers.insert("ce-id", id.as_str());
        headers.insert("ce-type", row.kind.as_str());
        headers.insert("ce-source", SOURCE);
        headers.insert(
            "ce-time",
            row.created_at
                .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
                .as_str(),
        );
        headers.insert("ce-subject", row.aggregate_id.to_string().as_str());
        headers.insert("content-type", "application/json");
        Message {
            subject: subject(prefix, &row.kind),
            headers,
            body: data(row).to_string().into_bytes(),
        }
    }
}

fn price(cents: &Value) -> Value {
    cents.as_i64().map_or(Value::Null, |cents| {
        Value::Number(Money::from_cents(cents).to_json_number())
    })
}

/// A time as the API writes it (ISO-8601 UTC with milliseconds); anything else as it is.
fn millis(time: &Value) -> Value {
    time.as_str()
        .and_then(|text| chrono::DateTime::parse_from_rfc3339(text).ok())
        .map_or(time.clone(), |time| {
            Value::String(
                time.with_timezone(&chrono::Utc)
                    .to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            )
        })
}

/// The event's data, as the original events carried it.
pub fn data(row: &event::Model) -> Value {
    let p = &row.payload;
    match row.kind.as_str() {
        event::kind::TICKET_CREATED | event::kind::TICKET_UPDATED => json!({
            "id": p["id"],
            "version": p["version"],
            "title": p["title"],
            "price": price(&p["priceCents"]),
            "userId": p["userId"],
            "orderId": p["orderId"],
        }),
        event::kind::TICKET_WITHDRAWN => json!({
            "id": p["id"],
            "version": p["version"],
            "title": p["title"],
            "price": price(&p["priceCents"]),
            "userId": p["userId"],
            "orderId": p["orderId"],
            "withdrawnAt": millis(&p["withdrawnAt"]),
        }),
        event::kind::ORDER_CREATED => json!({
            "id": p["id"],
            "version": p["version"],
            "status": p["status"],
            "userId": p["userId"],
            "expiresAt": millis(&p["expiresAt"]),
            "ticket": { "id": p["ticketId"], "price": price(&p["priceCents"]) },
        }),
        event::kind::ORDER_CANCELLED => json!({
            "id": p["id"],
            "version": p["version"],
            "ticket": { "id": p["ticketId"] },
        }),
        event::kind::EXPIRATION_COMPLETE => json!({ "orderId": p["orderId"] }),
        event::kind::PAYMENT_CREATED => json!({
            "id": p["id"],
            "orderId": p["orderId"],
            "stripeId": p["chargeId"],
        }),
        // A kind this code does not know yet goes out as it was written.
        _ => p.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(kind: &str, payload: Value) -> event::Model {
        event::Model {
            id: 7,
            kind: kind.into(),
            aggregate_id: uuid::Uuid::nil(),
            version: 1,
            payload,
            created_at: chrono::DateTime::from_timestamp(1_800_000_000, 0).unwrap(),
            published_at: None,
        }
    }

    #[test]
    fn messages_carry_cloudevents_headers_and_the_original_shapes() {
        let ticket = row(
            event::kind::TICKET_UPDATED,
            json!({"id": "t", "title": "Concert", "priceCents": 1999, "userId": "u",
                   "version": 1, "orderId": "o"}),
        );
        let message = Message::of(SUBJECT_PREFIX, &ticket);
        assert_eq!(message.subject, "ticketing.ticket.updated");
        let header = |name: &str| message.headers.get(name).map(|v| v.as_str().to_owned());
        assert_eq!(header("ce-id").as_deref(), Some("7"));
        assert_eq!(header("Nats-Msg-Id").as_deref(), Some("7"));
        assert_eq!(header("ce-type").as_deref(), Some("ticket:updated"));
        assert_eq!(header("ce-specversion").as_deref(), Some("1.0"));
        assert_eq!(
            header("ce-time").as_deref(),
            Some("2027-01-15T08:00:00.000Z")
        );
        let body: Value = serde_json::from_slice(&message.body).unwrap();
        assert_eq!(
            body,
            json!({"id": "t", "version": 1, "title": "Concert", "price": 19.99, "userId": "u",
                   "orderId": "o"})
        );
        let payment = row(
            event::kind::PAYMENT_CREATED,
            json!({"id": "p", "orderId": "o", "chargeId": "ch_1", "amountCents": 1999}),
        );
        assert_eq!(
            data(&payment),
            json!({"id": "p", "orderId": "o", "stripeId": "ch_1"})
        );
        let order = row(
            event::kind::ORDER_CREATED,
            json!({"id": "o", "version": 0, "status": "created", "userId": "u",
                   "expiresAt": "2026-12-02T12:26:25.213494414Z", "ticketId": "t",
                   "priceCents": 4200}),
        );
        assert_eq!(
            data(&order)["expiresAt"],
            "2026-12-02T12:26:25.213Z",
            "times as the API writes them"
        );
        assert_eq!(data(&order)["ticket"], json!({"id": "t", "price": 42}));
    }
}
