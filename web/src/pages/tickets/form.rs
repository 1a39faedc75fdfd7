//! A seller's form: list a ticket (`/tickets/new`) or edit one, with what was wrong said next
//! to its field.

use std::sync::Arc;

use api_types::TicketJson;
use maud::html;
use poem::{
    Request, Response, handler,
    http::{Method, StatusCode},
    web::{Data, Path},
};
use serde_json::json;

use crate::{
    flash::{self, Flash},
    layout::{FormErrors, csrf_field, page},
    pages::Form,
    pages::error_for,
    price_text::price_errors,
    redirects::redirect,
    site::Web,
    visit::Visit,
};

pub(super) fn ticket_form(
    visit: &Visit,
    currency: &str,
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
            (errors.input("price", &format!("Price ({})", currency.to_ascii_uppercase()), "text", values.1,
                html! { p.muted { "For example 19.99" } }))
            button type="submit" { (button) }
        }
    }
}

#[handler]
pub async fn new_page(req: &Request, web: Data<&Arc<Web>>) -> Response {
    let visit = Visit::of(&web, req).await;
    if let Some(to_sign_in) = visit.sign_in_first() {
        return to_sign_in;
    }
    let flash = visit.flash.clone().unwrap_or_default();
    visit.respond(
        StatusCode::OK,
        page(
            &visit,
            "Sell a ticket",
            html! {
                h1 { "Sell a ticket" }
                div.card {
                    (ticket_form(&visit, &web.config.currency, "ticket", "/tickets/new", "Sell",
                        (flash.value("title", ""), flash.value("price", "")),
                        &FormErrors(flash.errors.clone())))
                }
            },
        ),
    )
}

fn field<'a>(form: &'a Form, name: &str) -> &'a str {
    form.0.get(name).map(String::as_str).unwrap_or_default()
}

#[handler]
pub async fn create(req: &Request, web: Data<&Arc<Web>>, form: Form) -> Response {
    let visit = match crate::pages::signed_in_post(&web, req, &form.0).await {
        Ok(visit) => visit,
        Err(refused) => return *refused,
    };
    let (title, price) = (field(&form, "title"), field(&form, "price"));
    // The API takes a price string exactly as its pattern says; what a person types around it is
    // no part of it.
    let reply = web
        .backend
        .post(
            req,
            "/api/tickets",
            &json!({"title": title, "price": price.trim()}),
        )
        .await;
    if reply.ok() {
        let Some(ticket) = reply.json::<TicketJson>() else {
            return error_for(&visit, StatusCode::INTERNAL_SERVER_ERROR);
        };
        return redirect(&format!("/tickets/{}", ticket.id), &[]);
    }
    if !flash::goes_back(reply.status) {
        return error_for(&visit, reply.status);
    }
    Flash::new(price_errors(price, reply.errors()))
        .keep("title", title)
        .keep("price", price)
        .redirect("/tickets/new", &[])
}

/// What the seller's listing says of the ticket `id`, if it is theirs.

#[handler]
pub async fn edit(
    req: &Request,
    web: Data<&Arc<Web>>,
    Path(id): Path<String>,
    form: Form,
) -> Response {
    let visit = match crate::pages::signed_in_post(&web, req, &form.0).await {
        Ok(visit) => visit,
        Err(refused) => return *refused,
    };
    let Some(path) = crate::backend::api_path("tickets", &id) else {
        return error_for(&visit, StatusCode::NOT_FOUND);
    };
    let (title, price) = (field(&form, "title"), field(&form, "price"));
    let reply = web
        .backend
        .call(
            req,
            Method::PUT,
            &path,
            Some(json!({"title": title, "price": price.trim()}).to_string()),
        )
        .await;
    let back = format!("/tickets/{id}");
    if reply.ok() {
        return redirect(&back, &[]);
    }
    if !flash::goes_back(reply.status) || reply.status == StatusCode::NOT_FOUND {
        return error_for(&visit, reply.status);
    }
    Flash::new(price_errors(price, reply.errors()))
        .keep("title", title)
        .keep("price", price)
        .redirect(&back, &[])
}
