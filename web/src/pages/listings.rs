//! `/listings`: a seller's own tickets, newest first, each with what became of it (for sale,
//! reserved until when, sold when and for how much, or taken off sale).

use std::{collections::HashMap, sync::Arc};

use api_types::{ListingJson, ListingState, word_of};
use maud::{Markup, html};
use poem::{
    Request, Response, handler,
    http::StatusCode,
    web::{Data, Query},
};

use crate::{
    format::{money, time},
    layout::{page, pager},
    pages::{PAGE_SIZE, answer},
    site::Web,
    visit::Visit,
};

/// A listing's state in words, with its times and amount.
pub fn state_words(listing: &ListingJson) -> Markup {
    words_for(listing.state, Some(listing))
}

/// A state in words, with the times and amount of its `listing` when there is one.
pub fn words_for(state: ListingState, listing: Option<&ListingJson>) -> Markup {
    html! {
        @match state {
            ListingState::Sold => {
                "Sold"
                @if let Some(at) = listing.and_then(|l| l.sold_at) { " on " (time(at)) }
                @if let Some(amount) = listing.and_then(|l| l.sold_for.as_ref()) { " for " (money(amount.price_cents, &amount.currency)) }
            }
            ListingState::Reserved => {
                "Reserved"
                @if let Some(until) = listing.and_then(|l| l.reserved_until) { " until " (time(until)) }
                @else { " while the buyer pays" }
            }
            ListingState::ForSale => { "For sale" }
            ListingState::Withdrawn => { "Taken off sale" }
        }
    }
}

#[handler]
pub async fn list(
    req: &Request,
    web: Data<&Arc<Web>>,
    Query(params): Query<HashMap<String, String>>,
) -> Response {
    let visit = Visit::of(&web, req).await;
    if let Some(to_sign_in) = visit.sign_in_first() {
        return to_sign_in;
    }
    let page_number: u64 = params
        .get("page")
        .and_then(|p| p.parse().ok())
        .filter(|p| *p >= 1)
        .unwrap_or(1);
    let path = format!(
        "/api/listings?limit={PAGE_SIZE}&offset={}",
        (page_number - 1) * PAGE_SIZE
    );
    let reply = web.backend.get(req, &path).await;
    let listings: Vec<ListingJson> = match answer(&visit, &reply) {
        Ok(listings) => listings,
        Err(page) => return *page,
    };
    let total = reply.total.unwrap_or(listings.len() as u64);
    let pages = total.div_ceil(PAGE_SIZE).max(1);
    visit.respond(
        StatusCode::OK,
        page(
            &visit,
            "My Listings",
            html! {
                h1 { "My Listings" }
                @if total == 0 {
                    p.muted { "You have not listed a ticket yet. " a href="/tickets/new" { "Sell a ticket" } }
                } @else {
                    p #count .muted {
                        (total) " listed"
                        @if pages > 1 { " · page " (page_number) " of " (pages) }
                    }
                    table #listings .stack {
                        thead { tr {
                            th scope="col" { "Ticket" }
                            th scope="col" { "Price" }
                            th scope="col" { "State" }
                        } }
                        tbody {
                            @for listing in &listings {
                                @let ticket = &listing.ticket;
                                @let id = ticket.id;
                                tr data-ticket-id=(id) {
                                    td { a href=(format!("/tickets/{id}")) { (ticket.title) } }
                                    td.price data-label="Price" { (money(ticket.price_cents, &ticket.currency)) }
                                    td.state data-label="State" data-state=(word_of(&listing.state)) { (state_words(listing)) }
                                }
                            }
                        }
                    }
                    (pager(page_number, pages, |n| if n == 1 { "/listings".to_owned() } else { format!("/listings?page={n}") }))
                }
            },
        ),
    )
}
