//! `/orders` (my orders, with dates) and `/orders/:id` (countdown and payment while open, what
//! happened once it ended, a receipt once paid).

use std::{collections::HashMap, sync::Arc};

use api_types::{CancelReason, OrderJson, word_of};
use entities::order::Status;
use maud::{Markup, html};
use poem::{
    Request, Response, handler,
    http::{Method, StatusCode},
    web::{Data, Path},
};
use serde_json::json;

use crate::{
    flash::{self, Flash},
    format::{money, time},
    layout::{FormErrors, csrf_field, page, status_words},
    pages::Form,
    pages::{answer, error_for},
    redirects::redirect,
    site::Web,
    visit::Visit,
};

/// When the order got where it is, in words: "Ordered …", "Paid …", "Expired …".
fn when(order: &OrderJson) -> Markup {
    let (words, at) = match order.status.0 {
        Status::Complete => (
            "Paid",
            order
                .payment
                .as_ref()
                .map_or(order.updated_at, |payment| payment.paid_at),
        ),
        Status::Cancelled => (
            status_words(order.status.0, order.cancel_reason),
            order.updated_at,
        ),
        Status::Created | Status::AwaitingPayment => ("Ordered", order.created_at),
    };
    html! { (words) " " (time(at)) }
}

/// The price of an order's ticket, as the order captured it.
fn price(order: &OrderJson) -> String {
    money(order.ticket.price_cents, &order.ticket.currency)
}

#[handler]
pub async fn list(req: &Request, web: Data<&Arc<Web>>) -> Response {
    let visit = Visit::of(&web, req).await;
    if let Some(to_sign_in) = visit.sign_in_first() {
        return to_sign_in;
    }
    let reply = web.backend.get(req, "/api/orders?limit=500").await;
    let orders: Vec<OrderJson> = match answer(&visit, &reply) {
        Ok(orders) => orders,
        Err(page) => return *page,
    };
    visit.respond(
        StatusCode::OK,
        page(
            &visit,
            "My Orders",
            html! {
                h1 { "My Orders" }
                @if orders.is_empty() {
                    p.muted { "No orders yet. " a href="/" { "Find a ticket" } }
                } @else {
                    table #orders .stack {
                        thead { tr {
                            th scope="col" { "Ordered" }
                            th scope="col" { "Ticket" }
                            th scope="col" { "Status" }
                            th scope="col" { "Price" }
                        } }
                        tbody {
                            // Newest first.
                            @for order in orders.iter().rev() {
                                @let id = order.id;
                                @let status = order.status.0;
                                tr data-order-id=(id) {
                                    td data-label="Ordered" { (time(order.created_at)) }
                                    td { a href=(format!("/orders/{id}")) { (order.ticket.title) } }
                                    td.status data-label="Status" data-status=(status.as_str()) data-reason=[order.cancel_reason.as_ref().map(word_of)] {
                                        (status_words(status, order.cancel_reason))
                                        @if !status.is_open() {
                                            br; small.muted { (when(order)) }
                                        }
                                    }
                                    td.price data-label="Price" { (price(order)) }
                                }
                            }
                        }
                    }
                }
            },
        ),
    )
}

/// What happened to a cancelled order, in a sentence.
fn outcome(reason: Option<CancelReason>) -> &'static str {
    match reason {
        Some(CancelReason::Expired) => {
            "This order expired before it was paid; the ticket is back on sale."
        }
        Some(CancelReason::Declined) => {
            "The card was declined, so this order is cancelled; the ticket is back on sale."
        }
        Some(CancelReason::Buyer) => "You cancelled this order; the ticket is back on sale.",
        Some(CancelReason::Operator) => "Support cancelled this order; the ticket is back on sale.",
        None => "This order is cancelled; the ticket is back on sale.",
    }
}

/// The receipt of a paid order.
fn receipt(order: &OrderJson) -> Markup {
    let payment = order.payment.as_ref();
    let amount = payment.map_or_else(|| price(order), |p| money(p.price_cents, &p.currency));
    html! {
        section #receipt aria-labelledby="receipt-title" {
            h2 #receipt-title { "Receipt" }
            dl {
                dt { "Order" } dd #receipt-order { code { (order.id) } }
                dt { "Ticket" } dd #receipt-ticket { (order.ticket.title) }
                dt { "Amount" } dd #receipt-amount { (amount) }
                dt { "Paid" } dd #receipt-date { (time(payment.map_or(order.updated_at, |p| p.paid_at))) }
                @if let Some(payment) = payment {
                    dt { "Payment reference" } dd #receipt-reference { code { (payment.charge_id) } }
                }
            }
            p #receipt-next {
                "The ticket is yours. "
                a #see-holding href=(format!("/holdings#ticket-{}", order.ticket.id)) { "See it in My Tickets" }
                " · " a href="/orders" { "See my orders" }
            }
        }
    }
}

#[handler]
pub async fn show(req: &Request, web: Data<&Arc<Web>>, Path(id): Path<String>) -> Response {
    let visit = Visit::of(&web, req).await;
    if let Some(to_sign_in) = visit.sign_in_first() {
        return to_sign_in;
    }
    let Some(path) = crate::backend::api_path("orders", &id) else {
        return error_for(&visit, StatusCode::NOT_FOUND);
    };
    let reply = web.backend.get(req, &path).await;
    let order: OrderJson = match answer(&visit, &reply) {
        Ok(order) => order,
        Err(page) => return *page,
    };
    let order = &order;
    let state = order.status.0;
    let reason = order.cancel_reason;
    let open = state.is_open();
    // With the event bus, the page follows the order (`live::order`, through app.js).
    let live = (web.config.live.is_some() && open).then(|| format!("/orders/{id}/live"));
    let errors = FormErrors(
        visit
            .flash
            .as_ref()
            .map(|f| f.errors.clone())
            .unwrap_or_default(),
    );
    let ticket = &order.ticket;
    visit.respond(
        StatusCode::OK,
        page(
            &visit,
            "Order",
            html! {
                h1 { "Order" }
                div #order .card data-live=[live] data-status=(state.as_str()) data-open=[open.then_some("true")] {
                    p { "Ticket: " a #ticket-title href=(format!("/tickets/{}", ticket.id)) { (ticket.title) } }
                    p { "Price: " span #price .price { (price(order)) } }
                    p { "Status: " strong #status .status data-status=(state.as_str()) data-reason=[reason.as_ref().map(word_of)] aria-live="polite" { (status_words(state, reason)) }
                        @if !open { " " span.muted #status-when { "(" (when(order)) ")" } } }
                    @if open {
                        p { "Time left to pay: "
                            span #countdown data-expires-at=(api_types::iso8601(order.expires_at.0)) aria-live="polite" {
                                "until " (time(order.expires_at))
                            } }
                    }
                }
                (errors.summary(&[]))
                @if state == Status::Created {
                    h2 { "Pay" }
                    form #pay method="post" action=(format!("/orders/{id}/pay")) {
                        (csrf_field(&visit))
                        @if web.config.stripe {
                            div.field {
                                label for="token" { "Card token" }
                                input #token name="token" type="text" required;
                                p.muted { "A card token from the card processor (e.g. tok_visa)." }
                            }
                        } @else {
                            fieldset {
                                legend { "Test card" }
                                label { input type="radio" name="token" value="tok_visa" checked; "Visa ending 4242 (succeeds)" }
                                label { input type="radio" name="token" value="tok_chargeDeclined"; "Card ending 0002 (declined)" }
                            }
                        }
                        button #pay-button type="submit" { "Pay " (price(order)) }
                    }
                    form #cancel method="post" action=(format!("/orders/{id}/cancel")) {
                        (csrf_field(&visit))
                        button.secondary type="submit" { "Cancel order" }
                    }
                } @else if state == Status::AwaitingPayment {
                    p #outcome { "The payment is being made; this page says how it went in a moment." }
                } @else if state == Status::Complete {
                    (receipt(order))
                } @else if state == Status::Cancelled {
                    p #outcome { (outcome(reason)) " " a href="/" { "See the tickets" } }
                }
            },
        ),
    )
}

#[handler]
pub async fn pay(
    req: &Request,
    web: Data<&Arc<Web>>,
    Path(id): Path<String>,
    form: Form,
) -> Response {
    let token = form.0.get("token").cloned().unwrap_or_default();
    let body = json!({"orderId": id, "token": token}).to_string();
    let call = (Method::POST, Some("/api/payments".to_owned()), Some(body));
    order_action(req, &web, &id, &form.0, call).await
}

#[handler]
pub async fn cancel(
    req: &Request,
    web: Data<&Arc<Web>>,
    Path(id): Path<String>,
    form: Form,
) -> Response {
    let call = (
        Method::DELETE,
        crate::backend::api_path("orders", &id),
        None,
    );
    order_action(req, &web, &id, &form.0, call).await
}

/// A signed-in buyer's form about order `id`: makes the API `call` (no path: no such order),
/// then goes back to the order's page (post/redirect/get), with the API's errors when it refused.
async fn order_action(
    req: &Request,
    web: &Web,
    id: &str,
    form: &HashMap<String, String>,
    (method, path, body): (Method, Option<String>, Option<String>),
) -> Response {
    let visit = match crate::pages::signed_in_post(web, req, form).await {
        Ok(visit) => visit,
        Err(refused) => return *refused,
    };
    let Some(path) = path else {
        return error_for(&visit, StatusCode::NOT_FOUND);
    };
    let reply = web.backend.call(req, method, &path, body).await;
    let back = format!("/orders/{id}");
    if reply.ok() {
        return redirect(&back, &[]);
    }
    // Someone else's order, or none: nothing to go back to.
    let not_theirs = [StatusCode::NOT_FOUND, StatusCode::UNAUTHORIZED].contains(&reply.status);
    if !flash::goes_back(reply.status) || not_theirs {
        return error_for(&visit, reply.status);
    }
    Flash::new(reply.errors()).redirect(&back, &[])
}
