//! The AsyncAPI 3 document of the events (`ticketing asyncapi`): one channel per subject, each
//! message with its CloudEvents headers and its data's schema. The events tests hold every message
//! the relay sends against it.

use entities::event::kind;
use serde_json::{Value, json};

use crate::message::{SOURCE, SUBJECT_PREFIX, subject};

fn string(description: &str) -> Value {
    json!({ "type": "string", "description": description })
}

fn uuid(description: &str) -> Value {
    json!({ "type": "string", "format": "uuid", "description": description })
}

fn object(properties: Value, required: &[&str]) -> Value {
    json!({ "type": "object", "properties": properties, "required": required })
}

fn price() -> Value {
    json!({ "type": "number", "description": "In major units, at most 2 decimals (19.99)" })
}

fn version() -> Value {
    json!({ "type": "integer", "description": "The record's version after the change" })
}

/// The data of each kind, as the relay sends it.
pub fn data_schemas() -> Vec<(&'static str, &'static str, Value)> {
    let ticket = object(
        json!({
            "id": uuid("The ticket"),
            "version": version(),
            "title": string("The title"),
            "price": price(),
            "userId": uuid("The seller"),
            "orderId": { "type": ["string", "null"], "format": "uuid",
                         "description": "The order holding the ticket, if any" },
        }),
        &["id", "version", "title", "price", "userId", "orderId"],
    );
    vec![
        (
            kind::TICKET_CREATED,
            "A seller listed a ticket",
            ticket.clone(),
        ),
        (
            kind::TICKET_UPDATED,
            "A ticket changed: edited, reserved by an order, or freed",
            ticket,
        ),
        (
            kind::TICKET_WITHDRAWN,
            "A seller took a ticket off sale: buyers no longer see it, its holder keeps it",
            object(
                json!({
                    "id": uuid("The ticket"),
                    "version": version(),
                    "title": string("The title"),
                    "price": price(),
                    "userId": uuid("The seller"),
                    "orderId": { "type": "null", "description": "Always null: a reserved ticket cannot be withdrawn" },
                    "withdrawnAt": { "type": "string", "format": "date-time" },
                }),
                &[
                    "id",
                    "version",
                    "title",
                    "price",
                    "userId",
                    "orderId",
                    "withdrawnAt",
                ],
            ),
        ),
        (
            kind::ORDER_CREATED,
            "A buyer's order reserved a ticket until expiresAt",
            object(
                json!({
                    "id": uuid("The order"),
                    "version": version(),
                    "status": string("created"),
                    "userId": uuid("The buyer"),
                    "expiresAt": { "type": "string", "format": "date-time" },
                    "ticket": object(
                        json!({ "id": uuid("The ticket"), "price": price() }),
                        &["id", "price"],
                    ),
                }),
                &["id", "version", "status", "userId", "expiresAt", "ticket"],
            ),
        ),
        (
            kind::ORDER_CANCELLED,
            "An order was cancelled (by its buyer, on expiry, on a declined card, or by an operator)",
            object(
                json!({
                    "id": uuid("The order"),
                    "version": version(),
                    "ticket": object(json!({ "id": uuid("The ticket") }), &["id"]),
                }),
                &["id", "version", "ticket"],
            ),
        ),
        (
            kind::EXPIRATION_COMPLETE,
            "An order's window closed unpaid",
            object(json!({ "orderId": uuid("The order") }), &["orderId"]),
        ),
        (
            kind::PAYMENT_CREATED,
            "An order was charged and is complete",
            object(
                json!({
                    "id": uuid("The payment"),
                    "orderId": uuid("The order"),
                    "stripeId": string("The payment provider's id of the charge"),
                }),
                &["id", "orderId", "stripeId"],
            ),
        ),
        (
            kind::HOLDING_CHANGED,
            "A ticket changed hands (a sale completed, or its holder gave it away): its new holder, whose code is the only valid one",
            object(
                json!({
                    "ticketId": uuid("The ticket"),
                    "holderId": uuid("Who holds it now"),
                    "generation": { "type": "integer", "minimum": 1,
                                    "description": "Grows by one at every change of hands" },
                    "paidCents": { "type": ["integer", "null"],
                                   "description": "What the holder paid, in cents" },
                    "orderId": { "type": ["string", "null"], "format": "uuid",
                                 "description": "The order that made this holding (a sale)" },
                    "acquiredBy": { "type": "string", "enum": ["listing", "sale", "transfer"],
                                    "description": "How the holder came to hold it: bought here (sale) or given (transfer)" },
                    "version": version(),
                }),
                &[
                    "ticketId",
                    "holderId",
                    "generation",
                    "paidCents",
                    "orderId",
                    "acquiredBy",
                    "version",
                ],
            ),
        ),
        (
            kind::CHECKIN_ADMITTED,
            "A ticket was checked in at the door (its code's first scan)",
            object(
                json!({
                    "ticketId": uuid("The ticket"),
                    "generation": { "type": "integer", "minimum": 1,
                                    "description": "The holding whose code was scanned" },
                    "checkedInAt": { "type": "string", "format": "date-time" },
                }),
                &["ticketId", "generation", "checkedInAt"],
            ),
        ),
    ]
}

fn headers() -> Value {
    object(
        json!({
            "ce-specversion": { "type": "string", "const": "1.0" },
            "ce-id": string("The event's id in the outbox (consumers de-duplicate by it)"),
            "ce-type": string("The kind (`order:created`, ...)"),
            "ce-source": { "type": "string", "const": SOURCE },
            "ce-time": { "type": "string", "format": "date-time" },
            "ce-subject": uuid("The record the event is about"),
            "content-type": { "type": "string", "const": "application/json" },
            "Nats-Msg-Id": string("The event's id again, for JetStream's de-duplication"),
        }),
        &[
            "ce-specversion",
            "ce-id",
            "ce-type",
            "ce-source",
            "ce-time",
            "ce-subject",
            "content-type",
        ],
    )
}

/// The document, for the default subject prefix.
pub fn document() -> Value {
    let mut channels = serde_json::Map::new();
    let mut operations = serde_json::Map::new();
    let mut messages = serde_json::Map::new();
    for (kind, summary, data) in data_schemas() {
        let name = kind.replace(':', "_");
        messages.insert(
            name.clone(),
            json!({
                "name": kind,
                "summary": summary,
                "contentType": "application/json",
                "headers": headers(),
                "payload": data,
            }),
        );
        channels.insert(
            name.clone(),
            json!({
                "address": subject(SUBJECT_PREFIX, kind),
                "messages": { name.clone(): { "$ref": format!("#/components/messages/{name}") } },
            }),
        );
        operations.insert(
            format!("receive_{name}"),
            json!({
                "action": "receive",
                "channel": { "$ref": format!("#/channels/{name}") },
            }),
        );
    }
    json!({
        "asyncapi": "3.0.0",
        "info": {
            "title": "ticketing events",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Every domain event, relayed from the outbox to NATS JetStream (stream TICKETING, subjects ticketing.>) as CloudEvents 1.0 in binary mode. At-least-once delivery in the outbox's order; de-duplicate by ce-id.",
        },
        "defaultContentType": "application/json",
        "servers": {
            "nats": { "host": "127.0.0.1:4222", "protocol": "nats",
                      "description": "NATS_URL; JetStream enabled" },
        },
        "channels": channels,
        "operations": operations,
        "components": { "messages": messages },
    })
}
