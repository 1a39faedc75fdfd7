//! One ticket's page (with purchase, or edit and taking it off sale for its seller, or why
//! neither), its purchase, and its seller taking it off sale.

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
    let withdrawn = ticket.withdrawn_at.is_some();
    let state = seller_state(listing.as_ref(), taken, withdrawn);
    // A visitor who holds it (bought, given, or listed it: not as this listing's seller) is told
    // so, not offered it. A listing sold on sells the first listing's holding.
    let held_id = ticket.resale_of.unwrap_or(ticket.id);
    let holds = !is_seller
        && visit.user.is_some()
        && crate::pages::holdings::held(req, &web)
            .await
            .iter()
            .any(|h| h.ticket_id == held_id);
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
                        (sale_state(state, listing.as_ref()))
                        @if state == ListingState::ForSale {
                            form #withdraw method="post" action=(format!("/tickets/{id}/withdraw")) {
                                (csrf_field(&visit))
                                p #withdraw-note .muted {
                                    "Taking it off sale keeps the ticket yours: it stays in My Tickets, to use, sell on or give away."
                                }
                                button type="submit" { "Take off sale" }
                            }
                        }
                    } @else if holds {
                        p #you-hold role="status" {
                            "You hold this ticket. "
                            a href=(format!("/holdings#ticket-{held_id}")) { "See it in My Tickets" }
                        }
                    } @else if withdrawn {
                        p #not-for-sale role="status" { "Not for sale: its seller took it off sale." }
                        p { a href="/" { "See the tickets for sale" } }
                    } @else if taken {
                        p #not-for-sale role="status" {
                            "Not for sale right now: a buyer has reserved or bought this ticket. "
                            a href="/" { "See the tickets for sale" }
                        }
                    }
                }
                @if is_seller && withdrawn {
                    (errors.summary(&[]))
                } @else if is_seller {
                    h2 { "Edit" }
                    @if taken {
                        (errors.summary(&[]))
                        p { "A ticket a buyer has reserved or bought cannot be edited." }
                    } @else {
                        div.card {
                            (ticket_form(&visit, &web.config.currency, "edit", &format!("/tickets/{id}/edit"), "Save", typed, &errors))
                        }
                    }
                } @else if visit.user.is_some() {
                    (errors.summary(&[]))
                    @if !taken && !holds && !withdrawn {
                        form #purchase method="post" action=(format!("/tickets/{id}/purchase")) {
                            (csrf_field(&visit))
                            button type="submit" { "Purchase" }
                        }
                    }
                } @else if !taken && !withdrawn {
                    p { a href=(format!("/auth/signin?next=/tickets/{id}")) { "Sign in" } " to purchase this ticket." }
                }
            },
        ),
    )
}

/// The state of a seller's ticket: taken off sale as the ticket says, or else as their listings
/// say (reserved or for sale as the ticket says when they do not).
fn seller_state(listing: Option<&ListingJson>, taken: bool, withdrawn: bool) -> ListingState {
    let fallback = match taken {
        true => ListingState::Reserved,
        false => ListingState::ForSale,
    };
    match withdrawn {
        true => ListingState::Withdrawn,
        false => listing.map_or(fallback, |l| l.state),
    }
}

/// What a seller reads of their ticket: for sale, reserved until when, or sold when and for how
/// much (as on their listings); or that they took it off sale and still hold it.
fn sale_state(state: ListingState, listing: Option<&ListingJson>) -> maud::Markup {
    html! {
        p #sale-state data-state=(word_of(&state)) {
            @if state == ListingState::Withdrawn {
                "You took this ticket off sale. You still hold it: see "
                a href="/holdings" { "My Tickets" }
            } @else {
                (crate::pages::listings::words_for(state, listing)) ". "
                @if state == ListingState::Reserved { "It is for sale again if the buyer does not pay. " }
                a href="/listings" { "My listings" }
            }
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

/// A seller takes their ticket off sale (`DELETE /api/tickets/:id`): they still hold it.
#[handler]
pub async fn withdraw(
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
    let Some(path) = crate::backend::api_path("tickets", &id) else {
        return error_for(&visit, StatusCode::NOT_FOUND);
    };
    let reply = web.backend.delete(req, &path).await;
    let back = format!("/tickets/{id}");
    if reply.ok() {
        return redirect(&back, &[]);
    }
    if !flash::goes_back(reply.status) {
        return error_for(&visit, reply.status);
    }
    Flash::new(reply.errors()).redirect(&back, &[])
}

#[cfg(test)]
mod tests {
    use api_types::ListingState;

    use super::{sale_state, seller_state};

    #[test]
    fn a_seller_reads_the_state_of_their_ticket() {
        assert_eq!(seller_state(None, false, false), ListingState::ForSale);
        assert_eq!(seller_state(None, true, false), ListingState::Reserved);
        assert_eq!(seller_state(None, false, true), ListingState::Withdrawn);
        let html = sale_state(ListingState::Withdrawn, None).into_string();
        assert!(html.contains(r#"data-state="withdrawn""#), "{html}");
        assert!(
            html.contains(r#"You still hold it: see <a href="/holdings">My Tickets</a>"#),
            "{html}"
        );
    }
}
