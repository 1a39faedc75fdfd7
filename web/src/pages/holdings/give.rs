//! Giving a held ticket away: the form on My Tickets, its post, and the notice that it was given.

use std::sync::Arc;

use api_types::{TransferJson, TransferRequest};
use maud::{Markup, html};
use poem::{
    Request, Response, handler,
    http::StatusCode,
    web::{Data, Path},
};
use uuid::Uuid;

use super::Input;
use crate::{
    flash,
    layout::FormErrors,
    pages::{Form, error_for},
    redirects::redirect,
    site::Web,
};

/// The form to give the held ticket `id` to another account, with what was `typed` and its
/// `errors`.
pub(super) fn form(id: Uuid, csrf: &Markup, typed: &str, errors: &FormErrors) -> Markup {
    let hint = format!("give-hint-{id}");
    html! {
        form.give id=(format!("give-{id}")) method="post" action=(format!("/holdings/{id}/transfer")) novalidate {
            h3 { "Give it away" }
            (csrf)
            p.muted id=(hint) {
                "The email of their account here. They get a new code; yours stops working."
            }
            (Input {
                id: format!("email-{id}"),
                name: "email",
                label: "Their email",
                kind: "email",
                inputmode: None,
                value: typed,
                described_by: hint.clone(),
            }.render(&errors.field("email")))
            button type="submit" { "Give ticket" }
        }
    }
}

/// Whom the ticket `ticket` (an id as the address has it) was last given to by the visitor.
pub(super) fn given_to<'a>(transfers: &'a [TransferJson], ticket: &str) -> Option<&'a str> {
    let ticket: Uuid = ticket.parse().ok()?;
    transfers
        .iter()
        .find(|t| t.given && t.ticket_id == ticket)
        .map(|t| t.to.as_str())
}

#[handler]
pub async fn transfer(
    req: &Request,
    web: Data<&Arc<Web>>,
    Path(id): Path<String>,
    form: Form,
) -> Response {
    let visit = match super::signed_in(&web, req, &form.0).await {
        Ok(visit) => visit,
        Err(refused) => return *refused,
    };
    let Some(path) = super::held_path(&id, "transfer") else {
        return error_for(&visit, StatusCode::NOT_FOUND);
    };
    let email = super::typed(&form, "email");
    let reply = web
        .backend
        .post(
            req,
            &path,
            &TransferRequest {
                email: email.trim().to_owned(),
            },
        )
        .await;
    if reply.ok() {
        return redirect(&format!("/holdings?given={id}"), &[]);
    }
    if !flash::goes_back(reply.status) {
        return error_for(&visit, reply.status);
    }
    super::back(&id, "email", email, super::refusal(&reply))
}

#[cfg(test)]
mod tests {
    use api_types::{Timestamp, TransferJson};
    use chrono::Utc;
    use uuid::Uuid;

    use super::given_to;

    fn transfer(ticket: Uuid, to: &str, given: bool) -> TransferJson {
        TransferJson {
            id: Uuid::new_v4(),
            ticket_id: ticket,
            title: "Show".to_owned(),
            from: "me@example.com".to_owned(),
            to: to.to_owned(),
            given,
            transferred_at: Timestamp(Utc::now()),
        }
    }

    #[test]
    fn the_notice_names_whom_the_ticket_was_last_given_to() {
        let ticket = Uuid::new_v4();
        let transfers = [
            transfer(Uuid::new_v4(), "other@example.com", true),
            transfer(ticket, "back@example.com", false),
            transfer(ticket, "latest@example.com", true),
            transfer(ticket, "earlier@example.com", true),
        ];
        let id = ticket.to_string();
        assert_eq!(given_to(&transfers, &id), Some("latest@example.com"));
        assert_eq!(given_to(&transfers, &Uuid::new_v4().to_string()), None);
        assert_eq!(given_to(&transfers, "not-an-id"), None);
    }
}
