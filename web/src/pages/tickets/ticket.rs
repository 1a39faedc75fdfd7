//! One ticket's page (with purchase, or edit for its seller, or why neither), and its purchase.

use std::sync::Arc;

use api_types::{ListingJson, ListingState, OrderJson, TicketJson, word_of};
use maud::html;
use poem::{
    Request, Response, handler,
    http::StatusCode,
    web::{Data, Path},
};
use serde_json::json;

use super::form::ticket_form;
use crate::{
    csrf,
    flash::{self, Flash},
    format::money,
    layout::{FormErrors, csrf_field, page},
    pages::Form,
    pages::{answer, error_for},
    redirects::redirect,
    site::Web,
    visit::Visit,
};

async fn listing_of(req: &Request, web: &Web, id: uuid::Uuid) -> Option<ListingJson> {
    let reply = web.backend.get(req, "/api/listings?limit=500").await;
    reply
        .json::<Vec<ListingJson>>()?
        .into_iter()
        .find(|l| l.ticket.id == id)
}

#[handler]
pub async fn show(req: &Request, web: Data<&Arc<Web>>, Path(id): Path<String>) -> Response {
    let visit = Visit::of(&web, req).await;
    let Some(path) = crate::backend::api_path("tickets", &id) else {
        return error_for(&visit, StatusCode::NOT_FOUND);
    };
    let reply = web.backend.get(req, &path).await;
    let ticket: TicketJson = match answer(&visit, &reply) {
        Ok(ticket) => ticket,
        Err(page) => return *page,
    };
    let title = ticket.title.as_str();
    let taken = ticket.order_id.is_some();
    let is_seller = visit.user.as_ref().is_some_and(|u| ticket.user_id == u.id);
    let listing = match is_seller {
        true => listing_of(req, &web, ticket.id).await,
        false => None,
    };
    // A buyer who holds it (bought it here: not their own listing) is told so, not offered it.
    let holds = !is_seller
        && visit.user.is_some()
        && crate::pages::holdings::held(req, &web)
            .await
            .iter()
            .any(|h| h.ticket_id == ticket.id && h.paid_cents.0.is_some());
    let flash = visit.flash.clone().unwrap_or_default();
    let errors = FormErrors(flash.errors.clone());
    // The price as the API writes it (`19.99`, `20`), for the edit form.
    let price_text = serde_json::to_string(&ticket.price).unwrap_or_default();
    let typed = (
        flash.value("title", title),
        flash.value("price", &price_text),
    );
    visit.respond(
        StatusCode::OK,
        page(
            &visit,
            title,
            html! {
                h1 { (title) }
                div.card {
                    p { "Price: " span #price .price { (money(ticket.price_cents, &ticket.currency)) } }
                    @if is_seller {
                        (sale_state(listing.as_ref(), taken))
                    } @else if holds {
                        p #you-hold role="status" {
                            "You hold this ticket. "
                            a href=(format!("/holdings#ticket-{}", ticket.id)) { "See it in My Tickets" }
                        }
                    } @else if taken {
                        p #not-for-sale role="status" {
                            "Not for sale right now: a buyer has reserved or bought this ticket. "
                            a href="/" { "See the tickets for sale" }
                        }
                    }
                }
                @if is_seller {
                    h2 { "Edit" }
                    @if taken {
                        p { "A ticket a buyer has reserved or bought cannot be edited." }
                    } @else {
                        div.card {
                            (ticket_form(&visit, &web.config.currency, "edit", &format!("/tickets/{id}/edit"), "Save", typed, &errors))
                        }
                    }
                } @else if visit.user.is_some() {
                    (errors.summary(&[]))
                    @if !taken && !holds {
                        form #purchase method="post" action=(format!("/tickets/{id}/purchase")) {
                            (csrf_field(&visit))
                            button type="submit" { "Purchase" }
                        }
                    }
                } @else if !taken {
                    p { a href=(format!("/auth/signin?next=/tickets/{id}")) { "Sign in" } " to purchase this ticket." }
                }
            },
        ),
    )
}

/// What a seller reads of their ticket: for sale, reserved until when, or sold when and for how
/// much (as on their listings).
fn sale_state(listing: Option<&ListingJson>, taken: bool) -> maud::Markup {
    let fallback = if taken {
        ListingState::Reserved
    } else {
        ListingState::ForSale
    };
    let state = listing.map_or(fallback, |l| l.state);
    html! {
        p #sale-state data-state=(word_of(&state)) {
            (crate::pages::listings::words_for(state, listing)) ". "
            @if state == ListingState::Reserved { "It is for sale again if the buyer does not pay. " }
            a href="/listings" { "My listings" }
        }
    }
}

#[handler]
pub async fn purchase(
    req: &Request,
    web: Data<&Arc<Web>>,
    Path(id): Path<String>,
    form: Form,
) -> Response {
    let visit = Visit::of(&web, req).await;
    if visit.user.is_none() {
        return redirect(&format!("/auth/signin?next=/tickets/{id}"), &[]);
    }
    if !csrf::valid(req, &form.0) {
        return error_for(&visit, StatusCode::FORBIDDEN);
    }
    let reply = web
        .backend
        .post(req, "/api/orders", &json!({"ticketId": id}))
        .await;
    if reply.ok() {
        let Some(order) = reply.json::<OrderJson>() else {
            return error_for(&visit, StatusCode::INTERNAL_SERVER_ERROR);
        };
        return redirect(&format!("/orders/{}", order.id), &[]);
    }
    if !flash::goes_back(reply.status) {
        return error_for(&visit, reply.status);
    }
    Flash::new(reply.errors()).redirect(&format!("/tickets/{id}"), &[])
}
