//! The page handlers.

pub mod auth;
pub mod door;
pub mod holdings;
pub mod listings;
pub mod live;
pub mod orders;
pub mod tickets;

use std::collections::HashMap;

use maud::{DOCTYPE, html};
use poem::{
    IntoResponse, Request, Response, handler,
    http::{StatusCode, header},
};
use serde::de::DeserializeOwned;

use crate::{backend::Reply, csrf, site::Web, visit::Visit};

/// A form as posted: its fields by name.
pub type Form = poem::web::Form<HashMap<String, String>>;

/// A form post that needs a signed-in visitor: the visit, or the response that turns it away (to
/// sign in first, or 403 for a form without our CSRF token).
pub async fn signed_in_post(
    web: &Web,
    req: &Request,
    form: &HashMap<String, String>,
) -> Result<Visit, Box<Response>> {
    let visit = Visit::of(web, req).await;
    if let Some(to_sign_in) = visit.sign_in_first() {
        return Err(Box::new(to_sign_in));
    }
    if !csrf::valid(req, form) {
        return Err(Box::new(error_for(&visit, StatusCode::FORBIDDEN)));
    }
    Ok(visit)
}

/// Rows on a page of a list: the tickets for sale, a seller's listings.
pub const PAGE_SIZE: u64 = 20;

#[handler]
pub fn css() -> Response {
    asset(
        include_str!("../../assets/app.css"),
        "text/css; charset=utf-8",
    )
}

/// The favicon: a ticket, drawn in SVG (a few hundred bytes, no image file to serve).
#[handler]
pub fn favicon() -> Response {
    asset(include_str!("../../assets/favicon.svg"), "image/svg+xml")
}

#[handler]
pub fn js() -> Response {
    asset(
        include_str!("../../assets/app.js"),
        "text/javascript; charset=utf-8",
    )
}

fn asset(body: &'static str, content_type: &str) -> Response {
    body.with_content_type(content_type)
        .with_header(header::CACHE_CONTROL, "public, max-age=300")
        .into_response()
}

/// What an error status means to a person.
fn explain(status: StatusCode) -> (&'static str, &'static str) {
    match status.as_u16() {
        404 => ("Page not found", "There is nothing at this address."),
        401 => ("Not yours", "This page belongs to someone else."),
        403 => (
            "Form expired",
            "This form has expired. Go back, reload the page and try again.",
        ),
        405 => ("Not allowed", "This page cannot be used that way."),
        413 => ("Too much", "What you sent is too large."),
        503 => (
            "Try again soon",
            "The service is busy or restarting. Please try again in a moment.",
        ),
        s if s < 500 => (
            "Something is wrong with the request",
            "Please go back and try again.",
        ),
        _ => (
            "Something went wrong",
            "Please try again; if it keeps happening, let us know.",
        ),
    }
}

/// A page for an error, when we know who is visiting.
pub fn error_for(visit: &Visit, status: StatusCode) -> Response {
    let (title, text) = explain(status);
    visit.respond(
        status,
        crate::layout::page(
            visit,
            title,
            html! { h1 { (title) } p { (text) } p { a href="/" { "Back to the tickets" } } },
        ),
    )
}

/// The API's answer as its type `T`, or the page for what went wrong: the API's error status, or
/// 500 when the answer is not a `T`.
pub fn answer<T: DeserializeOwned>(visit: &Visit, reply: &Reply) -> Result<T, Box<Response>> {
    if !reply.ok() {
        return Err(Box::new(error_for(visit, reply.status)));
    }
    reply
        .json()
        .ok_or_else(|| Box::new(error_for(visit, StatusCode::INTERNAL_SERVER_ERROR)))
}

/// A page for an error, without a visit (the request is gone).
pub fn error_page(status: StatusCode) -> Response {
    let (title, text) = explain(status);
    let markup = html! {
        (DOCTYPE)
        html lang="en" {
            head { (crate::layout::head_tags(title)) }
            body {
                header { nav aria-label="Main" { a.brand href="/" { "ticketing" } } }
                main #main { h1 { (title) } p { (text) } p { a href="/" { "Back to the tickets" } } }
            }
        }
    };
    Response::builder()
        .status(status)
        .content_type("text/html; charset=utf-8")
        .body(markup.into_string())
}
