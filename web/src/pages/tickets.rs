//! `/` (tickets for sale), `/tickets/new`, `/tickets/:id` (with purchase or edit).

use std::sync::Arc;

use maud::html;
use poem::{
    Request, Response, handler,
    http::{Method, StatusCode},
    web::{Data, Path},
};
use serde_json::{Value, json};

use crate::{
    Form, Visit, Web, csrf,
    layout::{FormErrors, csrf_field, money, page},
    pages::error_for,
    redirect,
};

/// What the listing shows: the tickets for sale, as the API lists them.
pub const FOR_SALE: &str = "/api/tickets?limit=500";

#[handler]
pub async fn home(req: &Request, web: Data<&Arc<Web>>) -> Response {
    let visit = Visit::of(&web, req).await;
    let reply = web.backend.get(req, FOR_SALE).await;
    if !reply.ok() {
        return error_for(&visit, reply.status);
    }
    // The API lists oldest first; the newest listings come first here.
    let mut tickets: Vec<Value> = reply.body.as_array().cloned().unwrap_or_default();
    tickets.reverse();
    // With the event bus, the list follows changes (`live::tickets`, through app.js).
    let live = web.config.live.is_some().then_some("/live/tickets");
    visit.respond(
        StatusCode::OK,
        page(
            &visit,
            "Tickets",
            html! {
                h1 { "Tickets for sale" }
                p #no-tickets .muted hidden[!tickets.is_empty()] { "No tickets for sale right now." }
                ul #tickets data-live=[live] aria-live="polite" {
                    @for ticket in &tickets {
                        @let id = ticket["id"].as_str().unwrap_or_default();
                        li data-ticket-id=(id) data-version=(ticket["version"]) {
                            a href=(format!("/tickets/{id}")) {
                                (ticket["title"].as_str().unwrap_or_default())
                            }
                            span.price { (money(&ticket["price"])) }
                        }
                    }
                }
            },
        ),
    )
}

fn ticket_form(
    visit: &Visit,
    id: &str,
    action: &str,
    button: &str,
    values: (&str, &str),
    errors: &FormErrors,
) -> maud::Markup {
    html! {
        (errors.summary(&["title", "price"]))
        form #(id) method="post" action=(action) novalidate {
            (csrf_field(visit))
            (errors.input("title", "Title", "text", values.0, html! {}))
            (errors.input("price", "Price (USD)", "text", values.1,
                html! { p.muted { "For example 19.99" } }))
            button type="submit" { (button) }
        }
    }
}

fn new_ticket_page(
    visit: &Visit,
    values: (&str, &str),
    errors: &FormErrors,
    status: StatusCode,
) -> Response {
    visit.respond(
        status,
        page(
            visit,
            "Sell a ticket",
            html! {
                h1 { "Sell a ticket" }
                div.card { (ticket_form(visit, "ticket", "/tickets/new", "Sell", values, errors)) }
            },
        ),
    )
}

#[handler]
pub async fn new_page(req: &Request, web: Data<&Arc<Web>>) -> Response {
    let visit = Visit::of(&web, req).await;
    if let Some(to_sign_in) = visit.sign_in_first() {
        return to_sign_in;
    }
    new_ticket_page(&visit, ("", ""), &FormErrors::default(), StatusCode::OK)
}

fn field<'a>(form: &'a Form, name: &str) -> &'a str {
    form.0.get(name).map(String::as_str).unwrap_or_default()
}

#[handler]
pub async fn create(req: &Request, web: Data<&Arc<Web>>, form: Form) -> Response {
    let visit = match crate::signed_in_post(&web, req, &form.0).await {
        Ok(visit) => visit,
        Err(refused) => return *refused,
    };
    let (title, price) = (field(&form, "title"), field(&form, "price"));
    let reply = web
        .backend
        .post(req, "/api/tickets", json!({"title": title, "price": price}))
        .await;
    if reply.ok() {
        let id = reply.body["id"].as_str().unwrap_or_default();
        return redirect(&format!("/tickets/{id}"), &[]);
    }
    new_ticket_page(
        &visit,
        (title, price),
        &FormErrors(reply.errors()),
        reply.status,
    )
}

/// The ticket page, with what the form submitted and its errors when it failed.
async fn ticket_page(
    req: &Request,
    web: &Web,
    visit: &Visit,
    id: &str,
    errors: &FormErrors,
    edit_values: Option<(&str, &str)>,
    status: StatusCode,
) -> Response {
    let Some(path) = crate::api_path("tickets", id) else {
        return error_for(visit, StatusCode::NOT_FOUND);
    };
    let reply = web.backend.get(req, &path).await;
    if !reply.ok() {
        return error_for(visit, reply.status);
    }
    let ticket = &reply.body;
    let title = ticket["title"].as_str().unwrap_or_default();
    let reserved = ticket["orderId"].is_string();
    let is_seller = visit
        .user
        .as_ref()
        .is_some_and(|u| ticket["userId"] == u.id.as_str());
    let price_text = ticket["price"].to_string();
    let (edit_title, edit_price) = edit_values.unwrap_or((title, &price_text));
    visit.respond(
        status,
        page(
            visit,
            title,
            html! {
                h1 { (title) }
                div.card {
                    p { "Price: " span #price .price { (money(&ticket["price"])) } }
                    @if reserved { p.muted { "This ticket is reserved by a buyer right now." } }
                }
                @if is_seller {
                    h2 { "Edit" }
                    @if reserved {
                        p { "A reserved ticket cannot be edited." }
                    } @else {
                        div.card {
                            (ticket_form(visit, "edit", &format!("/tickets/{id}/edit"), "Save", (edit_title, edit_price), errors))
                        }
                    }
                } @else if visit.user.is_some() {
                    (errors.summary(&[]))
                    form #purchase method="post" action=(format!("/tickets/{id}/purchase")) {
                        (csrf_field(visit))
                        button type="submit" { "Purchase" }
                    }
                } @else {
                    p { a href=(format!("/auth/signin?next=/tickets/{id}")) { "Sign in" } " to purchase this ticket." }
                }
            },
        ),
    )
}

#[handler]
pub async fn show(req: &Request, web: Data<&Arc<Web>>, Path(id): Path<String>) -> Response {
    let visit = Visit::of(&web, req).await;
    ticket_page(
        req,
        &web,
        &visit,
        &id,
        &FormErrors::default(),
        None,
        StatusCode::OK,
    )
    .await
}

#[handler]
pub async fn edit(
    req: &Request,
    web: Data<&Arc<Web>>,
    Path(id): Path<String>,
    form: Form,
) -> Response {
    let visit = match crate::signed_in_post(&web, req, &form.0).await {
        Ok(visit) => visit,
        Err(refused) => return *refused,
    };
    let Some(path) = crate::api_path("tickets", &id) else {
        return error_for(&visit, StatusCode::NOT_FOUND);
    };
    let (title, price) = (field(&form, "title"), field(&form, "price"));
    let reply = web
        .backend
        .call(
            req,
            Method::PUT,
            &path,
            Some(json!({"title": title, "price": price})),
        )
        .await;
    if reply.ok() {
        return redirect(&format!("/tickets/{id}"), &[]);
    }
    let errors = FormErrors(reply.errors());
    ticket_page(
        req,
        &web,
        &visit,
        &id,
        &errors,
        Some((title, price)),
        reply.status,
    )
    .await
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
        .post(req, "/api/orders", json!({"ticketId": id}))
        .await;
    if reply.ok() {
        let order = reply.body["id"].as_str().unwrap_or_default();
        return redirect(&format!("/orders/{order}"), &[]);
    }
    let errors = FormErrors(reply.errors());
    ticket_page(req, &web, &visit, &id, &errors, None, reply.status).await
}
