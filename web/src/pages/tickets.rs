//! `/` (tickets for sale: search, price range, sort, pages), `/tickets/new`, `/tickets/:id`
//! (with purchase or edit, or why neither).

use std::{collections::HashMap, sync::Arc};

use entities::Money;
use maud::html;
use poem::{
    Request, Response, handler,
    http::{Method, StatusCode},
    web::{Data, Path, Query},
};
use serde_json::{Value, json};

use crate::{
    Form, Visit, Web, csrf,
    flash::{self, Flash},
    format::money_of,
    layout::{FormErrors, csrf_field, page, pager},
    pages::{PAGE_SIZE, error_for},
    redirect,
};

/// How many tickets the listing's live stream starts from at most.
const SNAPSHOT_LIMIT: u64 = 500;

/// What the listing's live stream starts from: the newest tickets for sale, as the API lists
/// them ([`SNAPSHOT_LIMIT`] at most).
pub const FOR_SALE: &str = "/api/tickets?limit=500&sort=newest";

/// The listing as asked for in the address: `q`, `min`, `max`, `sort`, `page`.
#[derive(Debug, Clone, Default)]
struct Listing {
    q: String,
    min: String,
    max: String,
    sort: String,
    page: u64,
}

impl Listing {
    fn of(params: &HashMap<String, String>) -> Self {
        let text = |name: &str| {
            params
                .get(name)
                .map(|v| v.trim().to_owned())
                .unwrap_or_default()
        };
        let sort = match text("sort").as_str() {
            s @ ("oldest" | "priceLow" | "priceHigh") => s.to_owned(),
            _ => "newest".to_owned(),
        };
        Listing {
            q: text("q"),
            min: text("min"),
            max: text("max"),
            sort,
            page: text("page").parse().ok().filter(|p| *p >= 1).unwrap_or(1),
        }
    }

    /// The default view: newest first, no filter, the first page (new listings appear there).
    fn is_default(&self) -> bool {
        self.q.is_empty()
            && self.min.is_empty()
            && self.max.is_empty()
            && self.sort == "newest"
            && self.page == 1
    }

    /// Whether the price range is upside down: a "from" above the "to".
    fn upside_down(&self) -> bool {
        let cents = |text: &str| Money::parse_price(text.trim()).map(|m| m.cents()).ok();
        matches!((cents(&self.min), cents(&self.max)), (Some(min), Some(max)) if min > max)
    }

    /// The API's query for this listing.
    fn api_path(&self) -> String {
        let mut path = format!(
            "/api/tickets?limit={PAGE_SIZE}&offset={}&sort={}",
            (self.page - 1) * PAGE_SIZE,
            self.sort
        );
        for (name, value) in [
            ("q", &self.q),
            ("minPrice", &self.min),
            ("maxPrice", &self.max),
        ] {
            if !value.is_empty() {
                path.push_str(&format!("&{name}={}", urlencoding::encode(value)));
            }
        }
        path
    }

    /// This listing's address at `page`.
    fn href(&self, page: u64) -> String {
        let mut query = Vec::new();
        for (name, value) in [("q", &self.q), ("min", &self.min), ("max", &self.max)] {
            if !value.is_empty() {
                query.push(format!("{name}={}", urlencoding::encode(value)));
            }
        }
        if self.sort != "newest" {
            query.push(format!("sort={}", self.sort));
        }
        if page > 1 {
            query.push(format!("page={page}"));
        }
        if query.is_empty() {
            "/".to_owned()
        } else {
            format!("/?{}", query.join("&"))
        }
    }
}

/// The API's refusals of a search, in the words of the search form.
fn search_errors(
    listing: &Listing,
    api: Vec<(Option<String>, String)>,
) -> Vec<(Option<String>, String)> {
    api.into_iter()
        .map(|(field, message)| {
            let (label, typed) = match field.as_deref() {
                Some("minPrice") => ("Price from", &listing.min),
                Some("maxPrice") => ("Price to", &listing.max),
                // A title search with a control character (NUL, a tab, ...).
                Some("q") if message.contains("control characters") => {
                    let words = "Title: Enter words without control characters (such as NUL, \
                                 tabs or line breaks)";
                    return (field, words.to_owned());
                }
                _ => return (field, message),
            };
            let problem = price_problem(typed).unwrap_or("Enter a number like 19.99");
            (field, format!("{label}: {problem}"))
        })
        .collect()
}

#[handler]
pub async fn home(
    req: &Request,
    web: Data<&Arc<Web>>,
    Query(params): Query<HashMap<String, String>>,
) -> Response {
    let visit = Visit::of(&web, req).await;
    let listing = Listing::of(&params);
    if listing.upside_down() {
        // The API answers such a range with nothing; a visitor more likely swapped the two.
        let errors = vec![(
            Some("maxPrice".to_owned()),
            "Price to: Enter an amount no less than the price from".to_owned(),
        )];
        return home_page(&visit, &web, &listing, &[], 0, &FormErrors(errors));
    }
    let reply = web.backend.get(req, &listing.api_path()).await;
    if reply.status == StatusCode::BAD_REQUEST {
        // A price bound that is not an amount: say so on the page, with the form to fix it.
        let errors = search_errors(&listing, reply.errors());
        return home_page(&visit, &web, &listing, &[], 0, &FormErrors(errors));
    }
    if !reply.ok() {
        return error_for(&visit, reply.status);
    }
    let tickets: Vec<Value> = reply.body.as_array().cloned().unwrap_or_default();
    let total = reply.total.unwrap_or(tickets.len() as u64);
    home_page(
        &visit,
        &web,
        &listing,
        &tickets,
        total,
        &FormErrors::default(),
    )
}

fn home_page(
    visit: &Visit,
    web: &Web,
    listing: &Listing,
    tickets: &[Value],
    total: u64,
    errors: &FormErrors,
) -> Response {
    let pages = total.div_ceil(PAGE_SIZE).max(1);
    let filtered = !(listing.q.is_empty() && listing.min.is_empty() && listing.max.is_empty());
    // With the event bus, the list follows changes (`live::tickets`, through app.js); new
    // listings are added only to the default view, where they belong at the top.
    let live = web.config.live.is_some().then_some("/live/tickets");
    let sorts = [
        ("newest", "Newest first"),
        ("oldest", "Oldest first"),
        ("priceLow", "Lowest price first"),
        ("priceHigh", "Highest price first"),
    ];
    visit.respond(
        if errors.0.is_empty() { StatusCode::OK } else { StatusCode::BAD_REQUEST },
        page(
            visit,
            "Tickets",
            html! {
                h1 { "Tickets for sale" }
                form #search .search method="get" action="/" role="search" {
                    div.field {
                        label for="q" { "Title" }
                        input #q name="q" type="search" value=(listing.q) maxlength="200";
                    }
                    div.field.price-range {
                        label for="min" { "Price from" }
                        input #min name="min" type="text" inputmode="decimal" value=(listing.min) size="8";
                        label for="max" { "to" }
                        input #max name="max" type="text" inputmode="decimal" value=(listing.max) size="8";
                    }
                    div.field {
                        label for="sort" { "Sort" }
                        select #sort name="sort" {
                            @for (value, words) in sorts {
                                option value=(value) selected[listing.sort == value] { (words) }
                            }
                        }
                    }
                    button type="submit" { "Search" }
                }
                (errors.summary(&[]))
                @if errors.0.is_empty() {
                p #count .muted aria-live="polite" {
                    @if filtered { (total) " matching" } @else { (total) " for sale" }
                    @if pages > 1 { " · page " (listing.page) " of " (pages) }
                }
                p #no-tickets .muted hidden[!tickets.is_empty()] {
                    @if filtered { "No ticket matches. " a href="/" { "See every ticket" } }
                    @else { "No tickets for sale right now." }
                }
                }
                ul #tickets data-live=[live] data-insert=[listing.is_default().then_some("top")]
                    data-page-size=(PAGE_SIZE) data-snapshot-limit=(SNAPSHOT_LIMIT) data-currency=(web.config.currency) aria-live="polite" {
                    @for ticket in tickets {
                        @let id = ticket["id"].as_str().unwrap_or_default();
                        li data-ticket-id=(id) data-version=(ticket["version"]) {
                            a href=(format!("/tickets/{id}")) {
                                (ticket["title"].as_str().unwrap_or_default())
                            }
                            span.price { (money_of(ticket)) }
                        }
                    }
                }
                (pager(listing.page, pages, |n| listing.href(n)))
            },
        ),
    )
}

fn ticket_form(
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

/// What is wrong with a price as typed, in words that say how to write it, before the API's
/// rules (greater than 0, two decimals, at most 1,000,000) are asked.
fn price_problem(text: &str) -> Option<&'static str> {
    let text = text.trim();
    if text.is_empty() {
        Some("Enter a price, like 19.99")
    } else if text.chars().any(|c| "$€£¥".contains(c)) {
        Some("Enter the price without a currency sign, like 20")
    } else if text.contains(',') {
        Some("Enter the price without thousands separators, like 1000")
    } else if text.parse::<f64>().is_err() || text.contains(['e', 'E']) {
        Some("Enter a number like 19.99")
    } else {
        None
    }
}

/// The errors of a ticket form: the price's own first, then the API's.
fn ticket_errors(price: &str, api: Vec<(Option<String>, String)>) -> Vec<(Option<String>, String)> {
    match price_problem(price) {
        Some(message) => api
            .into_iter()
            .filter(|(field, _)| field.as_deref() != Some("price"))
            .chain(std::iter::once((
                Some("price".to_owned()),
                message.to_owned(),
            )))
            .collect(),
        None => api,
    }
}

#[handler]
pub async fn create(req: &Request, web: Data<&Arc<Web>>, form: Form) -> Response {
    let visit = match crate::signed_in_post(&web, req, &form.0).await {
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
            json!({"title": title, "price": price.trim()}),
        )
        .await;
    if reply.ok() {
        let id = reply.body["id"].as_str().unwrap_or_default();
        return redirect(&format!("/tickets/{id}"), &[]);
    }
    if !flash::goes_back(reply.status) {
        return error_for(&visit, reply.status);
    }
    Flash::new(ticket_errors(price, reply.errors()))
        .keep("title", title)
        .keep("price", price)
        .redirect("/tickets/new", &[])
}

/// What the seller's listing says of the ticket `id`, if it is theirs.
async fn listing_of(req: &Request, web: &Web, id: &str) -> Option<Value> {
    let reply = web.backend.get(req, "/api/listings?limit=500").await;
    reply
        .body
        .as_array()?
        .iter()
        .find(|l| l["ticket"]["id"] == id)
        .cloned()
}

#[handler]
pub async fn show(req: &Request, web: Data<&Arc<Web>>, Path(id): Path<String>) -> Response {
    let visit = Visit::of(&web, req).await;
    let Some(path) = crate::api_path("tickets", &id) else {
        return error_for(&visit, StatusCode::NOT_FOUND);
    };
    let reply = web.backend.get(req, &path).await;
    if !reply.ok() {
        return error_for(&visit, reply.status);
    }
    let ticket = &reply.body;
    let title = ticket["title"].as_str().unwrap_or_default();
    let taken = ticket["orderId"].is_string();
    let is_seller = visit
        .user
        .as_ref()
        .is_some_and(|u| ticket["userId"] == u.id.as_str());
    let listing = match is_seller {
        true => listing_of(req, &web, &id).await,
        false => None,
    };
    let flash = visit.flash.clone().unwrap_or_default();
    let errors = FormErrors(flash.errors.clone());
    let price_text = ticket["price"].to_string();
    let typed = (
        flash.value("title", title),
        flash.value("price", &price_text),
    );
    visit.respond(
        StatusCode::OK,
        page(
            &visit,
            title,
            html! {
                h1 { (title) }
                div.card {
                    p { "Price: " span #price .price { (money_of(ticket)) } }
                    @if is_seller {
                        (sale_state(listing.as_ref(), taken))
                    } @else if taken {
                        p #not-for-sale role="status" {
                            "Not for sale right now: a buyer has reserved or bought this ticket. "
                            a href="/" { "See the tickets for sale" }
                        }
                    }
                }
                @if is_seller {
                    h2 { "Edit" }
                    @if taken {
                        p { "A ticket a buyer has reserved or bought cannot be edited." }
                    } @else {
                        div.card {
                            (ticket_form(&visit, &web.config.currency, "edit", &format!("/tickets/{id}/edit"), "Save", typed, &errors))
                        }
                    }
                } @else if visit.user.is_some() {
                    (errors.summary(&[]))
                    @if !taken {
                        form #purchase method="post" action=(format!("/tickets/{id}/purchase")) {
                            (csrf_field(&visit))
                            button type="submit" { "Purchase" }
                        }
                    }
                } @else if !taken {
                    p { a href=(format!("/auth/signin?next=/tickets/{id}")) { "Sign in" } " to purchase this ticket." }
                }
            },
        ),
    )
}

/// What a seller reads of their ticket: for sale, reserved until when, or sold when and for how
/// much (as on their listings).
fn sale_state(listing: Option<&Value>, taken: bool) -> maud::Markup {
    let fallback = if taken { "reserved" } else { "forSale" };
    let state = listing
        .and_then(|l| l["state"].as_str())
        .unwrap_or(fallback);
    let known = json!({"state": state});
    html! {
        p #sale-state data-state=(state) {
            (crate::pages::listings::state_words(listing.unwrap_or(&known))) ". "
            @if state == "reserved" { "It is for sale again if the buyer does not pay. " }
            a href="/listings" { "My listings" }
        }
    }
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
            Some(json!({"title": title, "price": price.trim()})),
        )
        .await;
    let back = format!("/tickets/{id}");
    if reply.ok() {
        return redirect(&back, &[]);
    }
    if !flash::goes_back(reply.status) || reply.status == StatusCode::NOT_FOUND {
        return error_for(&visit, reply.status);
    }
    Flash::new(ticket_errors(price, reply.errors()))
        .keep("title", title)
        .keep("price", price)
        .redirect(&back, &[])
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
    if !flash::goes_back(reply.status) {
        return error_for(&visit, reply.status);
    }
    Flash::new(reply.errors()).redirect(&format!("/tickets/{id}"), &[])
}

#[cfg(test)]
mod tests {
    use super::price_problem;

    #[test]
    fn a_price_typed_wrong_says_how_to_write_it() {
        assert_eq!(price_problem("19.99"), None);
        assert_eq!(
            price_problem("0"),
            None,
            "the API says it must be greater than 0"
        );
        assert!(price_problem("abc").unwrap().contains("like 19.99"));
        assert!(price_problem("$20").unwrap().contains("currency sign"));
        assert!(price_problem("€20").unwrap().contains("currency sign"));
        assert!(
            price_problem("1,000")
                .unwrap()
                .contains("thousands separators")
        );
        assert!(price_problem("  ").unwrap().contains("Enter a price"));
    }
}
