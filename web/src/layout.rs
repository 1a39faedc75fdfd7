//! The page shell: head, header (as in the original client), main, and small shared pieces.

use api_types::CancelReason;
use entities::order::Status;
use maud::{DOCTYPE, Markup, html};

use crate::visit::Visit;

/// What every page's `head` holds: charset, viewport, title and the stylesheet.
pub fn head_tags(title: &str) -> Markup {
    html! {
        meta charset="utf-8";
        meta name="viewport" content="width=device-width, initial-scale=1";
        title { (title) " · ticketing" }
        link rel="icon" href="/favicon.svg" type="image/svg+xml";
        link rel="stylesheet" href="/assets/app.css";
    }
}

pub fn page(visit: &Visit, title: &str, content: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                (head_tags(title))
                script src="/assets/app.js" defer {}
            }
            body {
                a.skip href="#main" { "Skip to content" }
                header {
                    nav aria-label="Main" {
                        a.brand href="/" { "ticketing" }
                        ul {
                            @if let Some(user) = &visit.user {
                                li { a href="/tickets/new" { "Sell Tickets" } }
                                li { a href="/listings" { "My Listings" } }
                                li { a href="/orders" { "My Orders" } }
                                li { a href="/holdings" { "My Tickets" } }
                                li {
                                    form.inline method="post" action="/auth/signout" {
                                        (csrf_field(visit))
                                        button #signout type="submit" title=(format!("Signed in as {}", user.email)) { "Sign Out" }
                                    }
                                }
                            } @else {
                                li { a href="/auth/signup" { "Sign Up" } }
                                li { a href="/auth/signin" { "Sign In" } }
                            }
                        }
                    }
                }
                main #main { (content) }
            }
        }
    }
}

pub fn csrf_field(visit: &Visit) -> Markup {
    html! { input type="hidden" name=(crate::csrf::FIELD) value=(visit.csrf); }
}

/// Errors of a form: field errors go next to their field, the rest above the form.
#[derive(Default)]
pub struct FormErrors(pub Vec<(Option<String>, String)>);

impl FormErrors {
    pub fn field(&self, name: &str) -> Vec<&str> {
        self.0
            .iter()
            .filter(|(f, _)| f.as_deref() == Some(name))
            .map(|(_, m)| m.as_str())
            .collect()
    }

    /// Messages not tied to a field of this form.
    pub fn rest(&self, fields: &[&str]) -> Vec<&str> {
        self.0
            .iter()
            .filter(|(f, _)| f.as_deref().is_none_or(|f| !fields.contains(&f)))
            .map(|(_, m)| m.as_str())
            .collect()
    }

    /// The form-level messages, announced to assistive technology.
    pub fn summary(&self, fields: &[&str]) -> Markup {
        let rest = self.rest(fields);
        html! {
            @if !rest.is_empty() {
                div #form-error .error role="alert" {
                    @for message in rest { p { (message) } }
                }
            }
        }
    }

    /// A labelled input with its errors (`aria-describedby` ties them together).
    pub fn input(&self, name: &str, label: &str, kind: &str, value: &str, extra: Markup) -> Markup {
        let errors = self.field(name);
        let error_id = format!("{name}-error");
        html! {
            div.field {
                label for=(name) { (label) }
                input #(name) name=(name) type=(kind) value=(value)
                    aria-invalid=[(!errors.is_empty()).then_some("true")]
                    aria-describedby=[(!errors.is_empty()).then_some(error_id.as_str())];
                (extra)
                @if !errors.is_empty() {
                    p #(error_id) .error { (errors.join(" ")) }
                }
            }
        }
    }
}

/// An order status (and, for a cancelled order, why) in plain words.
pub fn status_words(status: Status, cancel_reason: Option<CancelReason>) -> &'static str {
    match (status, cancel_reason) {
        (Status::Created, _) => "Awaiting payment",
        (Status::AwaitingPayment, _) => "Payment in progress",
        (Status::Cancelled, Some(CancelReason::Expired)) => "Expired",
        (Status::Cancelled, Some(CancelReason::Declined)) => "Declined",
        (Status::Cancelled, Some(CancelReason::Buyer)) => "Cancelled by you",
        (Status::Cancelled, Some(CancelReason::Operator)) => "Cancelled by support",
        (Status::Cancelled, None) => "Cancelled",
        (Status::Complete, _) => "Paid",
    }
}

/// Page links (Previous, the first, the last and those near this one, Next) that work without
/// JavaScript; nothing when everything fits on one page.
pub fn pager(page: u64, pages: u64, href: impl Fn(u64) -> String) -> Markup {
    html! {
        @if pages > 1 {
            nav #pages .pages aria-label="Pages" {
                @if page > 1 {
                    a rel="prev" href=(href(page - 1)) { "Previous" }
                }
                @for number in 1..=pages {
                    @if number == page {
                        span aria-current="page" { (number) }
                    } @else if number == 1 || number == pages || number.abs_diff(page) <= 2 {
                        a href=(href(number)) aria-label=(format!("Page {number}")) { (number) }
                    } @else if number.abs_diff(page) == 3 {
                        span.gap aria-hidden="true" { "…" }
                    }
                }
                @if page < pages {
                    a rel="next" href=(href(page + 1)) { "Next" }
                }
            }
        }
    }
}
