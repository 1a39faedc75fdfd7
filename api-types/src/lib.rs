//! The HTTP API's response bodies, as types (in the manner of crates.io's `crates_io_api_types`).
//!
//! The API (`api`) writes them and the pages (`web`) read them: a renamed field is a compile
//! error on both sides, never a silent blank on a page. Each type says how it looks in the
//! OpenAPI document (poem-openapi) and reads and writes the same JSON with serde; the tests below
//! hold the two to each other.
//!
//! - [`values`]: money, times, currencies and `null`-able fields as the API writes them;
//! - [`words`]: the order's and the workflow's statuses, spelt once (in `entities::order`);
//! - [`orders`], [`payments`], [`tickets`], [`listings`], [`holdings`], [`users`]: one module per
//!   resource;
//! - [`errors`]: the body of every error response.

pub mod errors;
pub mod holdings;
pub mod listings;
pub mod orders;
pub mod payments;
pub mod tickets;
pub mod users;
pub mod values;
pub mod words;

pub use errors::{ErrorBody, ErrorEntry};
pub use holdings::{
    Acquired, CheckinJson, CheckinRequest, CheckinResult, HoldingJson, TransferJson,
    TransferRequest,
};
pub use listings::{Amount, ListingJson, ListingState};
pub use orders::{CancelReason, OrderJson, OrderPaymentJson, OrderTicketJson, WorkflowStateJson};
pub use payments::PaymentJson;
pub use tickets::TicketJson;
pub use users::{CurrentUser, Empty, SessionUser, TokenJson, UserJson};
pub use values::{Currency, Nullable, Price, Timestamp, iso8601};
pub use words::{OrderStatus, WorkflowStatus, word_of};

#[cfg(test)]
mod tests {
    use chrono::{TimeZone, Utc};
    use entities::{
        Money,
        order::{Status, WorkflowPhase},
    };
    use poem_openapi::types::{ParseFromJSON, ToJSON};
    use serde::{Serialize, de::DeserializeOwned};
    use uuid::Uuid;

    use super::*;

    /// The document's JSON (poem-openapi) and serde's are the same, and each reads back.
    fn same_both_ways<T>(value: T)
    where
        T: ToJSON + ParseFromJSON + Serialize + DeserializeOwned + PartialEq + std::fmt::Debug,
    {
        let written = value.to_json().expect("a value");
        assert_eq!(serde_json::to_value(&value).unwrap(), written);
        assert_eq!(serde_json::from_value::<T>(written.clone()).unwrap(), value);
        assert_eq!(T::parse_from_json(Some(written)).ok(), Some(value));
    }

    fn at() -> Timestamp {
        Timestamp(Utc.with_ymd_and_hms(2026, 12, 7, 21, 0, 0).unwrap())
    }

    fn ticket() -> TicketJson {
        TicketJson {
            id: Uuid::new_v4(),
            title: "Lakers vs Celtics".into(),
            price: Price(Money::from_cents(1999)),
            price_cents: 1999,
            currency: Currency("usd".into()),
            user_id: Uuid::new_v4(),
            version: 3,
            order_id: None,
            resale_of: None,
            withdrawn_at: None,
        }
    }

    #[test]
    fn an_order_reads_as_it_was_written() {
        let order = OrderJson {
            id: Uuid::new_v4(),
            user_id: Uuid::new_v4(),
            status: OrderStatus(Status::AwaitingPayment),
            expires_at: at(),
            cancel_reason: None,
            version: 2,
            ticket: OrderTicketJson {
                id: Uuid::new_v4(),
                title: "Opera".into(),
                price: Price(Money::from_cents(2500)),
                price_cents: 2500,
                currency: Currency("eur".into()),
                version: 1,
            },
            created_at: at(),
            updated_at: at(),
            payment: Some(OrderPaymentJson {
                id: Uuid::new_v4(),
                charge_id: "ch_1".into(),
                price: Price(Money::from_cents(2500)),
                price_cents: 2500,
                currency: Currency("eur".into()),
                paid_at: at(),
            }),
        };
        same_both_ways(order.clone());
        let cancelled = OrderJson {
            status: OrderStatus(Status::Cancelled),
            cancel_reason: Some(CancelReason::Expired),
            payment: None,
            ..order
        };
        same_both_ways(cancelled);
    }

    #[test]
    fn every_status_and_phase_reads_as_it_was_written() {
        for status in Status::ALL {
            same_both_ways(OrderStatus(status));
        }
        for phase in WorkflowPhase::ALL {
            same_both_ways(WorkflowStatus(phase));
        }
        assert_eq!(
            serde_json::to_value(WorkflowStatus(WorkflowPhase::Order(
                Status::AwaitingPayment
            )))
            .unwrap(),
            serde_json::json!(Status::AwaitingPayment.as_str())
        );
    }

    #[test]
    fn holdings_and_transfers_read_as_they_were_written() {
        let held = HoldingJson {
            ticket_id: Uuid::new_v4(),
            title: "Opera".into(),
            paid_cents: Nullable(Some(2500)),
            currency: Currency("usd".into()),
            code: "ABC-2-DEF".into(),
            checked_in_at: Nullable(None),
            for_sale: false,
            listing_id: Some(Uuid::new_v4()),
            acquired_by: Acquired::Sale,
            resale_cap_cents: Nullable(Some(2500)),
        };
        same_both_ways(held.clone());
        same_both_ways(HoldingJson {
            paid_cents: Nullable(None),
            listing_id: None,
            acquired_by: Acquired::Transfer,
            checked_in_at: Nullable(Some(at())),
            resale_cap_cents: Nullable(None),
            ..held
        });
        same_both_ways(TransferJson {
            id: Uuid::new_v4(),
            ticket_id: Uuid::new_v4(),
            title: "Opera".into(),
            from: "a@b.co".into(),
            to: "c@d.co".into(),
            given: true,
            transferred_at: at(),
        });
    }

    #[test]
    fn tickets_listings_users_and_errors_read_as_they_were_written() {
        same_both_ways(ticket());
        same_both_ways(TicketJson {
            order_id: Some(Uuid::new_v4()),
            ..ticket()
        });
        same_both_ways(TicketJson {
            resale_of: Some(Uuid::new_v4()),
            withdrawn_at: Some(at()),
            ..ticket()
        });
        same_both_ways(ListingJson {
            ticket: ticket(),
            state: ListingState::Sold,
            order_id: Some(Uuid::new_v4()),
            reserved_until: None,
            sold_at: Some(at()),
            sold_for: Some(Amount {
                price: Price(Money::from_cents(100_000_000)),
                price_cents: 100_000_000,
                currency: Currency("usd".into()),
            }),
        });
        same_both_ways(CurrentUser {
            current_user: Nullable(None),
        });
        same_both_ways(CurrentUser {
            current_user: Nullable(Some(SessionUser {
                id: Uuid::new_v4(),
                email: "a@b.c".into(),
                iat: 1,
            })),
        });
        same_both_ways(ErrorBody {
            errors: vec![
                ErrorEntry {
                    message: "Title is required".into(),
                    field: Some("title".into()),
                },
                ErrorEntry {
                    message: "Not Found".into(),
                    field: None,
                },
            ],
        });
    }
}
