//! The tickets the visitor gave away or was given, the latest first, below their tickets.

use api_types::TransferJson;
use maud::{Markup, html};
use poem::Request;

use crate::{format::time, site::Web};

/// The visitor's transfers, or none when the API does not say (the page goes on without them).
pub(super) async fn of(req: &Request, web: &Web) -> Vec<TransferJson> {
    let reply = web.backend.get(req, "/api/holdings/transfers").await;
    if !reply.ok() {
        return Vec::new();
    }
    reply.json().unwrap_or_default()
}

/// The transfers' section; nothing when there are none.
pub(super) fn section(transfers: &[TransferJson]) -> Markup {
    html! {
        @if !transfers.is_empty() {
            section #transfers aria-labelledby="transfers-heading" {
                h2 #transfers-heading { "Transfers" }
                ul.transfers {
                    @for t in transfers {
                        li.transfer data-transfer-id=(t.id) data-ticket-id=(t.ticket_id) data-given=(t.given) {
                            span.who {
                                @if t.given { "Given to " (t.to) } @else { "Received from " (t.from) }
                            }
                            " · "
                            span.title { (t.title) }
                            " · "
                            (time(t.transferred_at))
                        }
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use api_types::{Timestamp, TransferJson};
    use chrono::Utc;
    use uuid::Uuid;

    use super::section;

    #[test]
    fn transfers_say_who_gave_and_who_received() {
        assert_eq!(section(&[]).into_string(), "");
        let given = TransferJson {
            id: Uuid::new_v4(),
            ticket_id: Uuid::new_v4(),
            title: "Rock & Roll".to_owned(),
            from: "me@example.com".to_owned(),
            to: "friend@example.com".to_owned(),
            given: true,
            transferred_at: Timestamp(Utc::now()),
        };
        let received = TransferJson {
            given: false,
            from: "aunt@example.com".to_owned(),
            to: "me@example.com".to_owned(),
            ..given.clone()
        };
        let html = section(&[given, received]).into_string();
        assert!(html.starts_with(r#"<section id="transfers""#), "{html}");
        assert!(html.contains("Given to friend@example.com"), "{html}");
        assert!(html.contains("Received from aunt@example.com"), "{html}");
        assert!(html.contains("Rock &amp; Roll"), "{html}");
        assert!(html.contains("<time datetime="), "{html}");
    }
}
