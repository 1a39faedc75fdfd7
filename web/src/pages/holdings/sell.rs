//! Selling a held ticket on: the form on My Tickets, which says the resale price cap before the
//! holder asks a price, and its post.

use std::sync::Arc;

use api_types::{Currency, HoldingJson, TicketJson};
use maud::{Markup, html};
use poem::{
    Request, Response, handler,
    http::StatusCode,
    web::{Data, Path},
};
use serde_json::json;
use uuid::Uuid;

use super::Input;
use crate::{
    flash,
    format::money,
    layout::FormErrors,
    pages::{Form, error_for},
    price_text::price_errors,
    redirects::redirect,
    site::Web,
};

/// The highest price the ticket `id` may be sold on for (`cap`, in cents), or that it has none;
/// `data-cap-cents` carries the cap for scripts and tests (absent when there is none).
pub(super) fn cap_sentence(id: Uuid, cap: Option<i64>, currency: &Currency) -> Markup {
    html! {
        p.resale-cap id=(format!("cap-{id}")) data-cap-cents=[cap] {
            @match cap {
                Some(cents) => {
                    "You may ask at most " strong { (money(cents, currency)) }
                    ": a ticket bought here sells on for no more than its resale price cap."
                }
                None => "No price cap: this ticket was never sold here.",
            }
        }
    }
}

/// The form to sell the held ticket `h` on, with what was `typed` and its `errors`.
pub(super) fn form(h: &HoldingJson, csrf: &Markup, typed: &str, errors: &FormErrors) -> Markup {
    let id = h.ticket_id;
    let hint = format!("price-hint-{id}");
    html! {
        form.sell id=(format!("sell-{id}")) method="post" action=(format!("/holdings/{id}/sell")) novalidate {
            h3 { "Sell on" }
            (csrf)
            (cap_sentence(id, h.resale_cap_cents.0, &h.currency))
            p.muted id=(hint) {
                "In " (h.currency.0.to_ascii_uppercase()) ", for example 19.99. You keep the ticket until a buyer pays."
            }
            (Input {
                id: format!("price-{id}"),
                name: "price",
                label: "Price",
                kind: "text",
                inputmode: Some("decimal"),
                value: typed,
                described_by: format!("cap-{id} {hint}"),
            }.render(&errors.field("price")))
            button type="submit" { "List for sale" }
        }
    }
}

#[handler]
pub async fn sell_on(
    req: &Request,
    web: Data<&Arc<Web>>,
    Path(id): Path<String>,
    form: Form,
) -> Response {
    let visit = match super::signed_in(&web, req, &form.0).await {
        Ok(visit) => visit,
        Err(refused) => return *refused,
    };
    let Some(path) = super::held_path(&id, "sell") else {
        return error_for(&visit, StatusCode::NOT_FOUND);
    };
    let price = super::typed(&form, "price");
    // The API takes the price as its pattern says; spaces around it are no part of it.
    let reply = web
        .backend
        .post(req, &path, &json!({"price": price.trim()}))
        .await;
    if reply.ok() {
        let Some(listing) = reply.json::<TicketJson>() else {
            return error_for(&visit, StatusCode::INTERNAL_SERVER_ERROR);
        };
        return redirect(&format!("/tickets/{}", listing.id), &[]);
    }
    if !flash::goes_back(reply.status) {
        return error_for(&visit, reply.status);
    }
    super::back(
        &id,
        "price",
        price,
        price_errors(price, super::refusal(&reply)),
    )
}

#[cfg(test)]
mod tests {
    use api_types::Currency;
    use uuid::Uuid;

    use super::cap_sentence;

    #[test]
    fn the_cap_is_said_before_asking() {
        let id = Uuid::new_v4();
        let usd = Currency("usd".to_owned());
        let capped = cap_sentence(id, Some(2750), &usd).into_string();
        assert!(capped.contains(r#"data-cap-cents="2750""#), "{capped}");
        assert!(capped.contains(&format!(r#"id="cap-{id}""#)), "{capped}");
        assert!(
            capped.contains("You may ask at most <strong>$27.50</strong>"),
            "{capped}"
        );
        let free = cap_sentence(id, None, &usd).into_string();
        assert!(!free.contains("data-cap-cents"), "{free}");
        assert!(free.contains("No price cap: this ticket was never sold here."));
    }
}
