//! `/holdings` (My Tickets): the tickets the visitor holds, each with the code to show at the
//! door, as text and as a QR code drawn on the server (inline SVG, no script).

use std::sync::Arc;

use api_types::HoldingJson;
use maud::{Markup, PreEscaped, html};
use poem::{Request, Response, handler, http::StatusCode, web::Data};
use qrcode::{QrCode, render::svg};

use crate::{
    format::{money, time},
    layout::page,
    pages::answer,
    site::Web,
    visit::Visit,
};

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

/// One held ticket: its title, what was paid, whether it is for sale or checked in, its code.
fn holding(h: &HoldingJson) -> Markup {
    let id = h.ticket_id;
    html! {
        li.card.holding id=(format!("ticket-{id}")) data-ticket-id=(id) {
            div.holding-text {
                h2 { a href=(format!("/tickets/{id}")) { (h.title) } }
                dl {
                    dt { "Paid" }
                    dd.paid {
                        @match h.paid_cents.0 {
                            Some(cents) => (money(cents, &h.currency)),
                            None => "Listed by you",
                        }
                    }
                    dt { "For sale" }
                    dd.for-sale data-for-sale=(h.for_sale) {
                        @if h.for_sale { "Yes, listed for sale" } @else { "No" }
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
        }
    }
}

#[handler]
pub async fn list(req: &Request, web: Data<&Arc<Web>>) -> Response {
    let visit = Visit::of(&web, req).await;
    if let Some(to_sign_in) = visit.sign_in_first() {
        return to_sign_in;
    }
    let reply = web.backend.get(req, "/api/holdings").await;
    let holdings: Vec<HoldingJson> = match answer(&visit, &reply) {
        Ok(holdings) => holdings,
        Err(page) => return *page,
    };
    visit.respond(
        StatusCode::OK,
        page(
            &visit,
            "My Tickets",
            html! {
                h1 { "My Tickets" }
                @if holdings.is_empty() {
                    p.muted #no-holdings {
                        "You hold no tickets yet. " a href="/" { "See the tickets for sale" }
                    }
                } @else {
                    p.muted { "Show the code at the door: the QR code, or the code as text." }
                    ul #holdings {
                        @for h in &holdings { (holding(h)) }
                    }
                }
            },
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::qr_svg;

    #[test]
    fn the_qr_code_is_an_inline_svg_with_a_name() {
        let svg = qr_svg("TCK-1234-ABCD", "Rock & <Roll>").into_string();
        assert!(svg.starts_with(r#"<svg class="qr" role="img""#), "{svg}");
        assert!(svg.contains(r#"aria-label="QR code of ticket Rock &amp; &lt;Roll&gt;""#));
        assert!(!svg.contains("<?xml"));
        assert!(svg.contains("<path") && svg.ends_with("</svg>"));
    }
}
