//! `/holdings` (My Tickets): the tickets the visitor holds, each with the code to show at the
//! door, as text and as a QR code drawn on the server (inline SVG, no script); and what the
//! holder may do with one that is neither listed nor used: give it away or sell it on.
//!
//! - [`give`]: giving a held ticket to another account, and the notice that it was given;
//! - [`sell`]: selling a held ticket on, with the resale price cap said before asking;
//! - [`transfers`]: the tickets given and received.

mod give;
mod sell;
mod transfers;

use std::{collections::HashMap, sync::Arc};

use api_types::{Acquired, HoldingJson};
use maud::{Markup, PreEscaped, html};
use poem::{
    Request, Response, handler,
    http::StatusCode,
    web::{Data, Query},
};
use qrcode::{QrCode, render::svg};
use uuid::Uuid;

pub use give::transfer;
pub use sell::sell_on;

use crate::{
    backend::{Reply, api_path},
    csrf,
    flash::Flash,
    format::{money, time},
    layout::{FormErrors, csrf_field, page},
    pages::{Form, answer, error_for},
    redirects::redirect,
    site::Web,
    visit::Visit,
};

/// The flash value naming the ticket whose give or sell form failed.
const TICKET: &str = "ticket";
/// The fields of the give and sell forms.
const FIELDS: [&str; 2] = ["email", "price"];
/// What a 404 of a give or sell means here.
const NOT_HELD: &str = "You no longer hold this ticket.";

/// The tickets `req`'s visitor holds, or none when the API does not say (signed out, a failure).
pub async fn held(req: &Request, web: &Web) -> Vec<HoldingJson> {
    let reply = web.backend.get(req, "/api/holdings").await;
    if !reply.ok() {
        return Vec::new();
    }
    reply.json().unwrap_or_default()
}

/// The QR code of `code` as inline SVG, named for assistive technology after the ticket's
/// `title`; nothing when the code cannot be drawn.
pub fn qr_svg(code: &str, title: &str) -> Markup {
    let Ok(qr) = QrCode::new(code.as_bytes()) else {
        tracing::error!(
            length = code.len(),
            "a ticket's code does not fit a QR code"
        );
        return html! {};
    };
    let drawn = qr
        .render::<svg::Color>()
        .dark_color(svg::Color("#000"))
        .light_color(svg::Color("#fff"))
        .quiet_zone(true)
        .min_dimensions(200, 200)
        .build();
    // The renderer writes a standalone document: the XML declaration goes, the element stays.
    let element = drawn
        .split_once("?>")
        .map_or(drawn.as_str(), |(_, svg)| svg);
    let Some(rest) = element.strip_prefix("<svg ") else {
        return html! {};
    };
    let label = html! { "QR code of ticket " (title) }.into_string();
    PreEscaped(format!(
        r#"<svg class="qr" role="img" aria-label="{label}" {rest}"#
    ))
}

/// What a holder may do with a held ticket now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Trade {
    /// Listed by them (on sale, or reserved by a buyer): it cannot change hands otherwise.
    Listed { listing: Uuid, on_sale: bool },
    /// Checked in at the door: a used ticket cannot change hands.
    Used,
    /// Neither: it may be given away or sold on.
    Open,
}

impl Trade {
    fn of(h: &HoldingJson) -> Trade {
        match (h.listing_id, h.checked_in_at.0) {
            (Some(listing), _) => Trade::Listed {
                listing,
                on_sale: h.for_sale,
            },
            (None, Some(_)) => Trade::Used,
            (None, None) => Trade::Open,
        }
    }
}

/// A labelled input of one ticket's form: its id carries the ticket (the page has one form of a
/// kind per ticket), and it is described by the form's explanations and its errors.
struct Input<'a> {
    id: String,
    name: &'a str,
    label: &'a str,
    kind: &'a str,
    inputmode: Option<&'a str>,
    value: &'a str,
    /// Ids of the texts that explain it.
    described_by: String,
}

impl Input<'_> {
    fn render(&self, errors: &[&str]) -> Markup {
        let error_id = format!("{}-error", self.id);
        let described_by = match errors.is_empty() {
            true => self.described_by.clone(),
            false => format!("{} {error_id}", self.described_by),
        };
        html! {
            div.field {
                label for=(self.id) { (self.label) }
                input #(self.id) name=(self.name) type=(self.kind) value=(self.value)
                    inputmode=[self.inputmode]
                    aria-invalid=[(!errors.is_empty()).then_some("true")]
                    aria-describedby=(described_by);
                @if !errors.is_empty() {
                    p #(error_id) .error { (errors.join(" ")) }
                }
            }
        }
    }
}

/// One held ticket: its title, what was paid, whether it is for sale or checked in, its code;
/// and what may be done with it, with what a failed form left for it (`failed`).
fn holding(h: &HoldingJson, csrf: &Markup, failed: Option<&Flash>) -> Markup {
    let id = h.ticket_id;
    let trade = Trade::of(h);
    html! {
        li.card.holding id=(format!("ticket-{id}")) data-ticket-id=(id) {
            div.holding-text {
                h2 { a href=(format!("/tickets/{id}")) { (h.title) } }
                dl {
                    dt { "Paid" }
                    dd.paid {
                        @match (h.paid_cents.0, h.acquired_by) {
                            (Some(cents), _) => (money(cents, &h.currency)),
                            (None, Acquired::Transfer) => "Given to you",
                            (None, _) => "Listed by you",
                        }
                    }
                    dt { "For sale" }
                    dd.for-sale data-for-sale=(h.for_sale) {
                        @match trade {
                            Trade::Listed { on_sale: true, .. } => "Yes, listed for sale",
                            Trade::Listed { on_sale: false, .. } => "Reserved by a buyer",
                            _ => "No",
                        }
                    }
                    dt { "Checked in" }
                    dd.checked-in data-checked-in=(h.checked_in_at.0.is_some()) {
                        @match h.checked_in_at.0 {
                            Some(at) => { "Yes, " (time(at)) }
                            None => "Not yet",
                        }
                    }
                    dt { "Code" }
                    dd { code.ticket-code { (h.code) } }
                }
            }
            (qr_svg(&h.code, &h.title))
            (hand_on(h, trade, csrf, failed))
        }
    }
}

/// What may be done with a held ticket: see its listing, nothing (used), or give it away and
/// sell it on.
fn hand_on(h: &HoldingJson, trade: Trade, csrf: &Markup, failed: Option<&Flash>) -> Markup {
    let errors = FormErrors(failed.map(|f| f.errors.clone()).unwrap_or_default());
    let typed = |field| failed.map_or("", |f| f.value(field, ""));
    html! {
        @match trade {
            Trade::Listed { listing, on_sale } => {
                p.listed data-listing-id=(listing) {
                    @if on_sale { "Listed for sale" } @else { "Reserved by a buyer" }
                    ". " a href=(format!("/tickets/{listing}")) { "See its listing" }
                    " (it cannot be given away while it is listed)."
                }
            }
            Trade::Used => {
                p.used.muted { "Used at the door: it can no longer be given away or sold on." }
            }
            Trade::Open => {
                div.hand-on {
                    (errors.summary(&FIELDS))
                    (give::form(h.ticket_id, csrf, typed("email"), &errors))
                    (sell::form(h, csrf, typed("price"), &errors))
                }
            }
        }
    }
}

/// The ticket a failed give or sell form left errors for.
fn failed_ticket(flash: &Flash) -> Option<Uuid> {
    flash.values.get(TICKET)?.parse().ok()
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
    let reply = web.backend.get(req, "/api/holdings").await;
    let holdings: Vec<HoldingJson> = match answer(&visit, &reply) {
        Ok(holdings) => holdings,
        Err(page) => return *page,
    };
    let transfers = transfers::of(req, &web).await;
    let given_to = params
        .get("given")
        .and_then(|ticket| give::given_to(&transfers, ticket));
    let flash = visit.flash.as_ref();
    let failed = flash.and_then(failed_ticket);
    // A failed form's errors go next to it; when it is no longer shown (the ticket was listed or
    // given meanwhile), above the list.
    let placed = failed.is_some_and(|t| {
        holdings
            .iter()
            .any(|h| h.ticket_id == t && Trade::of(h) == Trade::Open)
    });
    let csrf = csrf_field(&visit);
    visit.respond(
        StatusCode::OK,
        page(
            &visit,
            "My Tickets",
            html! {
                h1 { "My Tickets" }
                @if let Some(to) = given_to {
                    p #notice .notice role="status" { "Ticket given to " (to) "." }
                }
                @if let (false, Some(flash)) = (placed, flash) {
                    (FormErrors(flash.errors.clone()).summary(&[]))
                }
                @if holdings.is_empty() {
                    p.muted #no-holdings {
                        "You hold no tickets yet. " a href="/" { "See the tickets for sale" }
                    }
                } @else {
                    p.muted { "Show the code at the door: the QR code, or the code as text." }
                    ul #holdings {
                        @for h in &holdings {
                            (holding(h, &csrf, flash.filter(|_| failed == Some(h.ticket_id))))
                        }
                    }
                }
                (transfers::section(&transfers))
            },
        ),
    )
}

/// A give or sell post: the visit of a signed-in visitor, or the response that turns it away
/// (to sign in first, and back to My Tickets; 403 for a form without our CSRF token).
async fn signed_in(
    web: &Web,
    req: &Request,
    form: &HashMap<String, String>,
) -> Result<Visit, Box<Response>> {
    let visit = Visit::of(web, req).await;
    if visit.user.is_none() {
        return Err(Box::new(redirect("/auth/signin?next=/holdings", &[])));
    }
    if !csrf::valid(req, form) {
        return Err(Box::new(error_for(&visit, StatusCode::FORBIDDEN)));
    }
    Ok(visit)
}

/// The API path of `action` on the held ticket `id`; none for an id not shaped like ours.
fn held_path(id: &str, action: &str) -> Option<String> {
    api_path("holdings", id).map(|path| format!("{path}/{action}"))
}

/// What was typed in `name`.
fn typed<'a>(form: &'a Form, name: &str) -> &'a str {
    form.0.get(name).map(String::as_str).unwrap_or_default()
}

/// The API's refusal of a give or sell: its errors, a ticket not held said so.
fn refusal(reply: &Reply) -> Vec<(Option<String>, String)> {
    match reply.status {
        StatusCode::NOT_FOUND => vec![(None, NOT_HELD.to_owned())],
        _ => reply.errors(),
    }
}

/// Back to the ticket `id` on My Tickets, with `errors` and what was typed in `field`.
fn back(id: &str, field: &str, value: &str, errors: Vec<(Option<String>, String)>) -> Response {
    Flash::new(errors)
        .keep(TICKET, id)
        .keep(field, value)
        .redirect(&format!("/holdings#ticket-{id}"), &[])
}

#[cfg(test)]
mod tests {
    use api_types::{Acquired, Currency, HoldingJson, Nullable, Timestamp};
    use chrono::Utc;
    use maud::html;
    use uuid::Uuid;

    use super::{Trade, holding, qr_svg};
    use crate::flash::Flash;

    fn held() -> HoldingJson {
        HoldingJson {
            ticket_id: Uuid::new_v4(),
            title: "Show".to_owned(),
            paid_cents: Nullable(Some(2500)),
            currency: Currency("usd".to_owned()),
            code: "TCK-1234-ABCD".to_owned(),
            checked_in_at: Nullable(None),
            for_sale: false,
            listing_id: None,
            acquired_by: Acquired::Sale,
            resale_cap_cents: Nullable(Some(2500)),
        }
    }

    #[test]
    fn a_ticket_neither_listed_nor_used_may_be_given_or_sold_on() {
        let h = held();
        assert_eq!(Trade::of(&h), Trade::Open);
        let html = holding(&h, &html! {}, None).into_string();
        let id = h.ticket_id;
        assert!(html.contains(&format!(r#"action="/holdings/{id}/transfer""#)));
        assert!(html.contains(&format!(r#"action="/holdings/{id}/sell""#)));
        assert!(html.contains(&format!(r#"<label for="email-{id}">Their email</label>"#)));
        assert!(html.contains(&format!(r#"<label for="price-{id}">Price</label>"#)));
        assert!(html.contains(r#"data-cap-cents="2500""#));
        assert!(!html.contains("role=\"alert\""));
    }

    #[test]
    fn a_listed_or_used_ticket_has_no_forms() {
        let listing = Uuid::new_v4();
        let listed = HoldingJson {
            listing_id: Some(listing),
            for_sale: true,
            ..held()
        };
        assert_eq!(
            Trade::of(&listed),
            Trade::Listed {
                listing,
                on_sale: true
            }
        );
        let html = holding(&listed, &html! {}, None).into_string();
        assert!(html.contains("Listed for sale"), "{html}");
        assert!(html.contains(&format!(r#"href="/tickets/{listing}""#)));
        assert!(!html.contains("<form"), "{html}");
        let reserved = HoldingJson {
            for_sale: false,
            ..listed
        };
        let html = holding(&reserved, &html! {}, None).into_string();
        assert!(html.contains("Reserved by a buyer"), "{html}");
        assert!(!html.contains("<form"), "{html}");
        let used = HoldingJson {
            checked_in_at: Nullable(Some(Timestamp(Utc::now()))),
            ..held()
        };
        assert_eq!(Trade::of(&used), Trade::Used);
        assert!(
            !holding(&used, &html! {}, None)
                .into_string()
                .contains("<form")
        );
    }

    #[test]
    fn a_failed_form_shows_its_errors_and_what_was_typed() {
        let h = held();
        let id = h.ticket_id;
        let flash = Flash::new(vec![
            (
                Some("email".to_owned()),
                "No account has this email".to_owned(),
            ),
            (None, "Try again".to_owned()),
        ])
        .keep("ticket", &id.to_string())
        .keep("email", "friend@example.com");
        let html = holding(&h, &html! {}, Some(&flash)).into_string();
        assert!(html.contains(r#"value="friend@example.com""#), "{html}");
        assert!(
            html.contains(&format!(
                r#"<p class="error" id="email-{id}-error">No account has this email</p>"#
            )),
            "{html}"
        );
        assert!(html.contains(&format!(
            r#"aria-describedby="give-hint-{id} email-{id}-error""#
        )));
        assert!(html.contains(r#"role="alert""#) && html.contains("Try again"));
    }

    #[test]
    fn the_qr_code_is_an_inline_svg_with_a_name() {
        let svg = qr_svg("TCK-1234-ABCD", "Rock & <Roll>").into_string();
        assert!(svg.starts_with(r#"<svg class="qr" role="img""#), "{svg}");
        assert!(svg.contains(r#"aria-label="QR code of ticket Rock &amp; &lt;Roll&gt;""#));
        assert!(!svg.contains("<?xml"));
        assert!(svg.contains("<path") && svg.ends_with("</svg>"));
    }
}
