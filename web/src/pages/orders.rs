//! `/orders` (my orders, with dates) and `/orders/:id` (countdown and payment while open, what
//! happened once it ended, a receipt once paid).

use std::{collections::HashMap, sync::Arc};

use maud::{Markup, html};
use poem::{
    Request, Response, handler,
    http::{Method, StatusCode},
    web::{Data, Path},
};
use serde_json::{Value, json};

use crate::{
    Form, Visit, Web,
    flash::{self, Flash},
    format::{money_of, time},
    layout::{FormErrors, csrf_field, page, status_words},
    pages::error_for,
    redirect,
};

fn text<'a>(value: &'a Value, name: &str) -> &'a str {
    value[name].as_str().unwrap_or_default()
}

/// When the order got where it is, in words: "Ordered …", "Paid …", "Expired …".
fn when(order: &Value) -> Markup {
    let status = text(order, "status");
    let (words, at) = match status {
        "complete" => (
            "Paid",
            order["payment"]["paidAt"]
                .as_str()
                .unwrap_or(text(order, "updatedAt")),
        ),
        "cancelled" => (
            status_words(status, order["cancelReason"].as_str()),
            text(order, "updatedAt"),
        ),
        _ => ("Ordered", text(order, "createdAt")),
    };
    html! { (words) " " (time(at)) }
}

#[handler]
pub async fn list(req: &Request, web: Data<&Arc<Web>>) -> Response {
    let visit = Visit::of(&web, req).await;
    if let Some(to_sign_in) = visit.sign_in_first() {
        return to_sign_in;
    }
    let reply = web.backend.get(req, "/api/orders?limit=500").await;
    if !reply.ok() {
        return error_for(&visit, reply.status);
    }
    let orders = reply.body.as_array().cloned().unwrap_or_default();
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
                                @let id = text(order, "id");
                                @let status = text(order, "status");
                                tr data-order-id=(id) {
                                    td data-label="Ordered" { (time(text(order, "createdAt"))) }
                                    td { a href=(format!("/orders/{id}")) { (text(&order["ticket"], "title")) } }
                                    td.status data-label="Status" data-status=(status) data-reason=[order["cancelReason"].as_str()] {
                                        (status_words(status, order["cancelReason"].as_str()))
                                        @if matches!(status, "complete" | "cancelled") {
                                            br; small.muted { (when(order)) }
                                        }
                                    }
                                    td.price data-label="Price" { (money_of(&order["ticket"])) }
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
fn outcome(reason: Option<&str>) -> &'static str {
    match reason {
        Some("expired") => "This order expired before it was paid; the ticket is back on sale.",
        Some("declined") => {
            "The card was declined, so this order is cancelled; the ticket is back on sale."
        }
        Some("buyer") => "You cancelled this order; the ticket is back on sale.",
        Some("operator") => "Support cancelled this order; the ticket is back on sale.",
        _ => "This order is cancelled; the ticket is back on sale.",
    }
}

/// The receipt of a paid order.
fn receipt(order: &Value) -> Markup {
    let payment = &order["payment"];
    let amount = if payment.is_object() {
        money_of(payment)
    } else {
        money_of(&order["ticket"])
    };
    html! {
        section #receipt aria-labelledby="receipt-title" {
            h2 #receipt-title { "Receipt" }
            dl {
                dt { "Order" } dd #receipt-order { code { (text(order, "id")) } }
                dt { "Ticket" } dd #receipt-ticket { (text(&order["ticket"], "title")) }
                dt { "Amount" } dd #receipt-amount { (amount) }
                dt { "Paid" } dd #receipt-date { (time(payment["paidAt"].as_str().unwrap_or(text(order, "updatedAt")))) }
                @if let Some(reference) = payment["chargeId"].as_str() {
                    dt { "Payment reference" } dd #receipt-reference { code { (reference) } }
                }
            }
            p { "The ticket is yours. " a href="/orders" { "See my orders" } }
        }
    }
}

#[handler]
pub async fn show(req: &Request, web: Data<&Arc<Web>>, Path(id): Path<String>) -> Response {
    let visit = Visit::of(&web, req).await;
    if let Some(to_sign_in) = visit.sign_in_first() {
        return to_sign_in;
    }
    let Some(path) = crate::api_path("orders", &id) else {
        return error_for(&visit, StatusCode::NOT_FOUND);
    };
    let reply = web.backend.get(req, &path).await;
    if !reply.ok() {
        return error_for(&visit, reply.status);
    }
    let order = &reply.body;
    let state = text(order, "status");
    let reason = order["cancelReason"].as_str();
    let open = matches!(state, "created" | "awaiting:payment");
    // With the event bus, the page follows the order (`live::order`, through app.js).
    let live = (web.config.live.is_some() && open).then(|| format!("/orders/{id}/live"));
    let errors = FormErrors(
        visit
            .flash
            .as_ref()
            .map(|f| f.errors.clone())
            .unwrap_or_default(),
    );
    let ticket = &order["ticket"];
    visit.respond(
        StatusCode::OK,
        page(
            &visit,
            "Order",
            html! {
                h1 { "Order" }
                div #order .card data-live=[live] data-status=(state) data-open=[open.then_some("true")] {
                    p { "Ticket: " a #ticket-title href=(format!("/tickets/{}", text(ticket, "id"))) { (text(ticket, "title")) } }
                    p { "Price: " span #price .price { (money_of(ticket)) } }
                    p { "Status: " strong #status .status data-status=(state) data-reason=[reason] aria-live="polite" { (status_words(state, reason)) }
                        @if !open { " " span.muted #status-when { "(" (when(order)) ")" } } }
                    @if open {
                        p { "Time left to pay: "
                            span #countdown data-expires-at=(text(order, "expiresAt")) aria-live="polite" {
                                "until " (time(text(order, "expiresAt")))
                            } }
                    }
                }
                (errors.summary(&[]))
                @if state == "created" {
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
                        button #pay-button type="submit" { "Pay " (money_of(ticket)) }
                    }
                    form #cancel method="post" action=(format!("/orders/{id}/cancel")) {
                        (csrf_field(&visit))
                        button.secondary type="submit" { "Cancel order" }
                    }
                } @else if state == "awaiting:payment" {
                    p #outcome { "The payment is being made; this page says how it went in a moment." }
                } @else if state == "complete" {
                    (receipt(order))
                } @else if state == "cancelled" {
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
    let body = json!({"orderId": id, "token": token});
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
    let call = (Method::DELETE, crate::api_path("orders", &id), None);
    order_action(req, &web, &id, &form.0, call).await
}

/// A signed-in buyer's form about order `id`: makes the API `call` (no path: no such order),
/// then goes back to the order's page (post/redirect/get), with the API's errors when it refused.
async fn order_action(
    req: &Request,
    web: &Web,
    id: &str,
    form: &HashMap<String, String>,
    (method, path, body): (Method, Option<String>, Option<Value>),
) -> Response {
    let visit = match crate::signed_in_post(web, req, form).await {
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
