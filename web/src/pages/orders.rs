//! `/orders` (my orders) and `/orders/:id` (countdown, payment, final status).

use std::{collections::HashMap, sync::Arc};

use maud::html;
use poem::{
    Request, Response, handler,
    http::{Method, StatusCode},
    web::{Data, Path},
};
use serde_json::json;

use crate::{
    Form, Visit, Web,
    layout::{FormErrors, csrf_field, money, page, status_words},
    pages::error_for,
    redirect,
};

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
                    table #orders {
                        thead { tr { th scope="col" { "Ticket" } th scope="col" { "Status" } th scope="col" { "Price" } } }
                        tbody {
                            @for order in orders.iter().rev() {
                                @let id = order["id"].as_str().unwrap_or_default();
                                @let status = order["status"].as_str().unwrap_or_default();
                                @let reason = order["cancelReason"].as_str();
                                tr data-order-id=(id) {
                                    td { a href=(format!("/orders/{id}")) { (order["ticket"]["title"].as_str().unwrap_or_default()) } }
                                    td.status data-status=(status) { (status_words(status, reason)) }
                                    td { (money(&order["ticket"]["price"])) }
                                }
                            }
                        }
                    }
                }
            },
        ),
    )
}

/// The order page, with the errors of a failed payment or cancellation.
async fn order_page(
    req: &Request,
    web: &Web,
    visit: &Visit,
    id: &str,
    errors: &FormErrors,
    status: StatusCode,
) -> Response {
    let Some(path) = crate::api_path("orders", id) else {
        return error_for(visit, StatusCode::NOT_FOUND);
    };
    let reply = web.backend.get(req, &path).await;
    if !reply.ok() {
        return error_for(visit, reply.status);
    }
    let order = &reply.body;
    let open = matches!(
        order["status"].as_str(),
        Some("created" | "awaiting:payment")
    );
    let state = order["status"].as_str().unwrap_or_default();
    let reason = order["cancelReason"].as_str();
    // With the event bus, the page follows the order (`live::order`, through app.js).
    let live = (web.config.live.is_some() && open).then(|| format!("/orders/{id}/live"));
    let expires_at = order["expiresAt"].as_str().unwrap_or_default();
    let title = order["ticket"]["title"].as_str().unwrap_or_default();
    visit.respond(
        status,
        page(
            visit,
            "Order",
            html! {
                h1 { "Order" }
                div #order .card data-live=[live] data-status=(state) {
                    p { "Ticket: " a #ticket-title href=(format!("/tickets/{}", order["ticket"]["id"].as_str().unwrap_or_default())) { (title) } }
                    p { "Price: " span #price .price { (money(&order["ticket"]["price"])) } }
                    p { "Status: " strong #status .status data-status=(state) aria-live="polite" { (status_words(state, reason)) } }
                    @if open {
                        p { "Time left to pay: "
                            span #countdown data-expires-at=(expires_at) aria-live="polite" { "until " (expires_at) } }
                    }
                }
                (errors.summary(&[]))
                @if state == "created" {
                    h2 { "Pay" }
                    form #pay method="post" action=(format!("/orders/{id}/pay")) {
                        (csrf_field(visit))
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
                        button #pay-button type="submit" { "Pay " (money(&order["ticket"]["price"])) }
                    }
                    form method="post" action=(format!("/orders/{id}/cancel")) {
                        (csrf_field(visit))
                        button.secondary type="submit" { "Cancel order" }
                    }
                } @else if state == "complete" {
                    p { "Paid. The ticket is yours. " a href="/orders" { "See my orders" } }
                } @else if state == "cancelled" {
                    p #outcome {
                        (match reason {
                            Some("expired") => "This order expired before it was paid; the ticket is back on sale. ",
                            Some("declined") => "The card was declined, so this order is cancelled; the ticket is back on sale. ",
                            Some("operator") => "Support cancelled this order; the ticket is back on sale. ",
                            _ => "This order is cancelled; the ticket is back on sale. ",
                        })
                        a href="/" { "See the tickets" }
                    }
                }
            },
        ),
    )
}

#[handler]
pub async fn show(req: &Request, web: Data<&Arc<Web>>, Path(id): Path<String>) -> Response {
    let visit = Visit::of(&web, req).await;
    if let Some(to_sign_in) = visit.sign_in_first() {
        return to_sign_in;
    }
    order_page(
        req,
        &web,
        &visit,
        &id,
        &FormErrors::default(),
        StatusCode::OK,
    )
    .await
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
/// then shows the order, with the API's errors when it refused.
async fn order_action(
    req: &Request,
    web: &Web,
    id: &str,
    form: &HashMap<String, String>,
    (method, path, body): (Method, Option<String>, Option<serde_json::Value>),
) -> Response {
    let visit = match crate::signed_in_post(web, req, form).await {
        Ok(visit) => visit,
        Err(refused) => return *refused,
    };
    let Some(path) = path else {
        return error_for(&visit, StatusCode::NOT_FOUND);
    };
    let reply = web.backend.call(req, method, &path, body).await;
    if reply.ok() {
        return redirect(&format!("/orders/{id}"), &[]);
    }
    let errors = FormErrors(reply.errors());
    order_page(req, web, &visit, id, &errors, reply.status).await
}
