//! `/listings`: a seller's own tickets, newest first, each with what became of it (for sale,
//! reserved until when, sold when and for how much).

use std::{collections::HashMap, sync::Arc};

use maud::{Markup, html};
use poem::{
    Request, Response, handler,
    http::StatusCode,
    web::{Data, Query},
};
use serde_json::Value;

use crate::{
    Visit, Web,
    format::{money_of, time},
    layout::{page, pager},
    pages::{PAGE_SIZE, error_for},
};

/// A listing's state in words, with its times and amount.
pub fn state_words(listing: &Value) -> Markup {
    html! {
        @match listing["state"].as_str().unwrap_or_default() {
            "sold" => {
                "Sold"
                @if let Some(at) = listing["soldAt"].as_str() { " on " (time(at)) }
                @if listing["soldFor"].is_object() { " for " (money_of(&listing["soldFor"])) }
            }
            "reserved" => {
                "Reserved"
                @if let Some(until) = listing["reservedUntil"].as_str() { " until " (time(until)) }
                @else { " while the buyer pays" }
            }
            _ => { "For sale" }
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
    if !reply.ok() {
        return error_for(&visit, reply.status);
    }
    let listings = reply.body.as_array().cloned().unwrap_or_default();
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
                                @let ticket = &listing["ticket"];
                                @let id = ticket["id"].as_str().unwrap_or_default();
                                tr data-ticket-id=(id) {
                                    td { a href=(format!("/tickets/{id}")) { (ticket["title"].as_str().unwrap_or_default()) } }
                                    td.price data-label="Price" { (money_of(ticket)) }
                                    td.state data-label="State" data-state=(listing["state"].as_str().unwrap_or_default()) { (state_words(listing)) }
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
