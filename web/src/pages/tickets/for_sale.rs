//! The home page: the tickets for sale, searched, filtered by price, sorted and paged.

use std::{collections::HashMap, sync::Arc};

use api_types::TicketJson;
use entities::Money;
use maud::html;
use poem::{
    Request, Response, handler,
    http::StatusCode,
    web::{Data, Query},
};

use crate::price_text::price_problem;
use crate::{
    format::money,
    layout::{FormErrors, page, pager},
    pages::{PAGE_SIZE, answer},
    site::Web,
    visit::Visit,
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
    let tickets: Vec<TicketJson> = match answer(&visit, &reply) {
        Ok(tickets) => tickets,
        Err(page) => return *page,
    };
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
    tickets: &[TicketJson],
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
                        @let id = ticket.id;
                        li data-ticket-id=(id) data-version=(ticket.version) {
                            a href=(format!("/tickets/{id}")) {
                                (ticket.title)
                            }
                            span.price { (money(ticket.price_cents, &ticket.currency)) }
                        }
                    }
                }
                (pager(listing.page, pages, |n| listing.href(n)))
            },
        ),
    )
}
