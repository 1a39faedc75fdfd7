//! The server-rendered pages in a real browser: headless Chromium (Debian's `chromium`) driven
//! over WebDriver by a `chromedriver` that each test starts and kills, against the real app from
//! the API tests' harness (its own database and Temporal worker). A missing browser or driver
//! fails the test. Every page visited is saved as `tests/browser/screenshots/NN-*.png`.

mod changes_of_hands;
mod driver;

use std::time::Duration;

use driver::{Browser, ChromeDriver, PATIENCE, bounded, screenshots_dir, seconds_left};
use serde_json::json;
use support::{spawn_app, spawn_app_with};

const PASSWORD: &str = "correct horse battery";

fn new_email(who: &str) -> String {
    format!("{who}-{}@example.com", uuid::Uuid::new_v4().simple())
}

/// The header of a signed-out visitor.
async fn expect_signed_out_header(b: &Browser) {
    b.expect_present(r#"header a.brand[href="/"]"#).await;
    b.expect_present(r#"header a[href="/auth/signup"]"#).await;
    b.expect_present(r#"header a[href="/auth/signin"]"#).await;
    b.expect_absent("header button#signout").await;
    b.expect_present("main").await;
}

/// The header of a signed-in user.
async fn expect_signed_in_header(b: &Browser) {
    b.expect_present(r#"header a.brand[href="/"]"#).await;
    b.expect_present(r#"header a[href="/tickets/new"]"#).await;
    b.expect_present(r#"header a[href="/orders"]"#).await;
    b.expect_present(r#"header a[href="/listings"]"#).await;
    b.expect_present("header button#signout").await;
    b.expect_absent(r#"header a[href="/auth/signup"]"#).await;
    b.expect_absent(r#"header a[href="/auth/signin"]"#).await;
    b.expect_present("main").await;
}

/// Fills and sends `form#auth` on the page shown.
async fn submit_auth_form(b: &Browser, email: &str, password: &str) {
    b.fill("form#auth input#email[name=email]", email).await;
    b.fill("form#auth input#password[name=password]", password)
        .await;
    b.click("form#auth button[type=submit]").await;
}

/// Signs up on `/auth/signup` and lands on `/`, signed in.
async fn sign_up(b: &Browser, email: &str) {
    b.goto("/auth/signup").await;
    b.find("form#auth").await;
    expect_signed_out_header(b).await;
    b.shot("signup").await;
    submit_auth_form(b, email, PASSWORD).await;
    b.wait_path("/").await;
    b.find("header button#signout").await;
    expect_signed_in_header(b).await;
}

/// Lists a ticket on `/tickets/new` (through the header's link) and returns its id.
async fn list_ticket(b: &Browser, title: &str, price: &str) -> String {
    b.click(r#"header a[href="/tickets/new"]"#).await;
    b.wait_path("/tickets/new").await;
    b.find("form#ticket").await;
    b.fill("form#ticket input#title[name=title]", title).await;
    b.fill("form#ticket input#price[name=price]", price).await;
    b.shot("new-ticket").await;
    b.click("form#ticket button[type=submit]").await;
    let location = b
        .wait_location("the new ticket's page /tickets/<id> is shown", |l| {
            l.strip_prefix("/tickets/")
                .is_some_and(|id| !id.is_empty() && id != "new" && !id.contains('/'))
        })
        .await;
    let id = location.trim_start_matches("/tickets/").to_owned();
    let shown = b.text("main h1").await;
    if shown != title {
        b.fail::<()>(format!("the ticket page's h1 is {shown:?}, not {title:?}"))
            .await;
    }
    b.expect_text("#price", price, PATIENCE).await;
    // The seller edits, and does not buy, their own ticket.
    b.expect_present("form#edit").await;
    b.expect_absent("form#purchase").await;
    b.shot("ticket-listed").await;
    id
}

/// On `/`, the `li` of the ticket `id` links to it with its title and shows its price.
async fn expect_on_sale(b: &Browser, id: &str, title: &str, price: &str) {
    let link = format!(r#"ul#tickets li a[href="/tickets/{id}"]"#);
    b.expect_text(&link, title, PATIENCE).await;
    let prices = b
        .script(&format!(
            r#"return Array.from(document.querySelectorAll('ul#tickets li'))
                 .filter(li => li.querySelector('a[href="/tickets/{id}"]'))
                 .map(li => (li.querySelector('.price') || {{}}).textContent || null);"#
        ))
        .await;
    let ok = prices
        .as_array()
        .is_some_and(|p| p.len() == 1 && p[0].as_str().is_some_and(|t| t.contains(price)));
    if !ok {
        b.fail::<()>(format!(
            "expected one `ul#tickets li` with `a[href=\"/tickets/{id}\"]` and a `.price` \
             saying {price:?}; the `.price` texts of such items: {prices}"
        ))
        .await;
    }
}

/// From `/`, opens the ticket `id`, clicks Purchase and returns the order's id from
/// `/orders/<id>`.
async fn purchase_from_home(b: &Browser, id: &str, title: &str, price: &str) -> String {
    b.click(r#"header a.brand[href="/"]"#).await;
    b.wait_path("/").await;
    expect_on_sale(b, id, title, price).await;
    b.shot("home").await;
    b.click(&format!(r#"ul#tickets li a[href="/tickets/{id}"]"#))
        .await;
    b.wait_path(&format!("/tickets/{id}")).await;
    b.expect_text("main h1", title, PATIENCE).await;
    b.expect_text("#price", price, PATIENCE).await;
    b.expect_absent("form#edit").await;
    b.find("form#purchase").await;
    b.shot("ticket").await;
    b.click("form#purchase button[type=submit]").await;
    let location = b
        .wait_location("the order's page /orders/<id> is shown", |l| {
            l.strip_prefix("/orders/")
                .is_some_and(|id| !id.is_empty() && !id.contains('/'))
        })
        .await;
    let order = location
        .trim_start_matches("/orders/")
        .split('?')
        .next()
        .unwrap_or_default()
        .to_owned();
    b.find("main h1").await;
    b.expect_text("#ticket-title", title, PATIENCE).await;
    b.expect_text("#price", price, PATIENCE).await;
    let status = b.try_attr("#status", "data-status").await;
    let open = status
        .as_ref()
        .is_ok_and(|s| matches!(s.as_deref(), Some("created" | "awaiting:payment")));
    if !open {
        b.fail::<()>(format!(
            "a new order's `#status` should have data-status created or awaiting:payment: \
             {status:?}"
        ))
        .await;
    }
    order
}

/// The seconds left on `#countdown` now, failing if its text has no number.
async fn countdown(b: &Browser) -> u64 {
    let text = b.text("#countdown").await;
    match seconds_left(&text) {
        Some(seconds) => seconds,
        None => {
            b.fail(format!("`#countdown` has no seconds left in {text:?}"))
                .await
        }
    }
}

/// Chooses the card `token` in `form#pay` and clicks `#pay-button`.
async fn pay_with(b: &Browser, token: &str) {
    b.click(&format!(r#"form#pay input[name=token][value="{token}"]"#))
        .await;
    let chosen = b
        .find(&format!(r#"form#pay input[name=token][value="{token}"]"#))
        .await
        .is_selected()
        .await
        .unwrap_or(false);
    if !chosen {
        b.fail::<()>(format!("the card {token} is not selected after a click"))
            .await;
    }
    b.click("form#pay button#pay-button").await;
}

/// Opens My Orders from the header and checks the order's row says `status`.
async fn expect_in_my_orders(b: &Browser, order: &str, status: &str) {
    b.click(r#"header a[href="/orders"]"#).await;
    b.wait_path("/orders").await;
    b.find("table#orders").await;
    b.expect_attr(
        &format!(r#"table#orders tr[data-order-id="{order}"] td.status"#),
        "data-status",
        status,
        PATIENCE,
    )
    .await;
}

/// 1–3: a seller lists two tickets; a buyer buys and pays for one with the succeeding card; a
/// second buyer's card is declined for the other.
#[tokio::test]
async fn tickets_are_listed_bought_and_paid_for_in_the_browser() {
    // The browser first: a missing one fails the test at once.
    let driver = ChromeDriver::start(1).await;
    let app = spawn_app().await;
    bounded(Duration::from_secs(240), async {
        // 1. The seller lists two tickets; both are on the home page.
        let seller = driver.session(&app.address, "seller").await;
        let seller_email = new_email("seller");
        sign_up(&seller, &seller_email).await;
        let concert = list_ticket(&seller, "Concert front row", "40").await;
        let match_ = list_ticket(&seller, "Cup final", "25").await;
        seller.goto("/").await;
        expect_on_sale(&seller, &concert, "Concert front row", "40").await;
        expect_on_sale(&seller, &match_, "Cup final", "25").await;
        seller.shot("home").await;
        seller.close().await;

        // 2. A buyer buys the concert ticket, watches the countdown, pays and finds it complete.
        let buyer = driver.session(&app.address, "buyer").await;
        sign_up(&buyer, &new_email("buyer")).await;
        let order = purchase_from_home(&buyer, &concert, "Concert front row", "40").await;
        let first = countdown(&buyer).await;
        buyer.shot("order").await;
        tokio::time::sleep(Duration::from_millis(1500)).await;
        let second = countdown(&buyer).await;
        if second >= first {
            buyer
                .fail::<()>(format!(
                    "`#countdown` did not fall: {first} s left, then {second} s 1.5 s later"
                ))
                .await;
        }
        pay_with(&buyer, "tok_visa").await;
        buyer
            .expect_attr(
                "#status",
                "data-status",
                "complete",
                Duration::from_secs(30),
            )
            .await;
        buyer.wait_path(&format!("/orders/{order}")).await;
        let error = buyer.try_text("#form-error").await.unwrap_or_default();
        if !error.is_empty() {
            buyer
                .fail::<()>(format!(
                    "a complete order's page shows `#form-error`: {error:?}"
                ))
                .await;
        }
        // The paid page is a receipt.
        buyer.expect_text("#status", "Paid", PATIENCE).await;
        buyer.expect_text("#receipt-order", &order, PATIENCE).await;
        buyer
            .expect_text("#receipt-ticket", "Concert front row", PATIENCE)
            .await;
        buyer
            .expect_text("#receipt-amount", "$40.00", PATIENCE)
            .await;
        buyer.find("#receipt-date time[datetime]").await;
        let reference = buyer.text("#receipt-reference").await;
        if reference.trim().is_empty() {
            buyer
                .fail::<()>("the receipt has no payment reference".into())
                .await;
        }
        buyer.shots("receipt").await;
        buyer.expect_accessible("the receipt").await;
        expect_in_my_orders(&buyer, &order, "complete").await;
        buyer
            .expect_text(
                &format!(r#"table#orders tr[data-order-id="{order}"] td.status"#),
                "Paid",
                PATIENCE,
            )
            .await;
        buyer.shots("my-orders").await;
        buyer.expect_accessible("My Orders").await;
        buyer.close().await;

        // 3. Another buyer's card is declined: the message shows and the order is cancelled.
        let other = driver.session(&app.address, "declined").await;
        sign_up(&other, &new_email("declined")).await;
        // The sold ticket says why it cannot be bought, instead of a Purchase button.
        other.goto(&format!("/tickets/{concert}")).await;
        other.find("#not-for-sale").await;
        other.expect_absent("form#purchase").await;
        other.shots("sold-ticket").await;
        let order = purchase_from_home(&other, &match_, "Cup final", "25").await;
        other.shots("order").await;
        other.expect_accessible("an open order").await;
        pay_with(&other, "tok_chargeDeclined").await;
        other
            .expect_text(
                "#form-error",
                "Your card was declined.",
                Duration::from_secs(30),
            )
            .await;
        // Post/redirect/get: the message shows on the order's own page, which a reload fetches
        // again (the form is not sent again, and the one-time message is gone).
        other.wait_path(&format!("/orders/{order}")).await;
        other
            .expect_attr("#status", "data-status", "cancelled", PATIENCE)
            .await;
        other.expect_text("#status", "Declined", PATIENCE).await;
        other.expect_absent("form#pay").await;
        other.shots("declined").await;
        other.reload().await;
        other.wait_path(&format!("/orders/{order}")).await;
        other
            .expect_attr("#status", "data-reason", "declined", PATIENCE)
            .await;
        other.expect_absent("#form-error").await;
        other.expect_text("#outcome", "declined", PATIENCE).await;
        other.shot("declined-reloaded").await;
        expect_in_my_orders(&other, &order, "cancelled").await;
        other
            .expect_text(
                &format!(r#"table#orders tr[data-order-id="{order}"] td.status"#),
                "Declined",
                PATIENCE,
            )
            .await;
        other.shot("my-orders").await;
        other.close().await;

        // The seller's listings: the concert sold (for $40.00), the cup final for sale again.
        let seller = driver.session(&app.address, "seller-again").await;
        seller.goto("/auth/signin").await;
        submit_auth_form(&seller, &seller_email, PASSWORD).await;
        seller.wait_path("/").await;
        seller.click(r#"header a[href="/listings"]"#).await;
        seller.wait_path("/listings").await;
        let row = |id: &str| format!(r#"table#listings tr[data-ticket-id="{id}"] td.state"#);
        seller
            .expect_attr(&row(&concert), "data-state", "sold", PATIENCE)
            .await;
        seller
            .expect_text(&row(&concert), "for $40.00", PATIENCE)
            .await;
        seller
            .expect_attr(&row(&match_), "data-state", "forSale", PATIENCE)
            .await;
        seller.shots("my-listings").await;
        seller.expect_accessible("My Listings").await;
        seller.close().await;
    })
    .await;
    println!("screenshots: {}", screenshots_dir().display());
}

/// 4. With a 4 s window, the order page counts down to "Order expired" and then says the order
/// expired, without a reload; My Orders says so too.
#[tokio::test]
async fn an_order_expires_on_its_page() {
    // The browser first: a missing one fails the test at once.
    let driver = ChromeDriver::start(40).await;
    let app = spawn_app_with(|c| c.order_expiration_seconds = 4).await;
    bounded(Duration::from_secs(120), async {
        let seller = driver.session(&app.address, "late-seller").await;
        sign_up(&seller, &new_email("seller")).await;
        let ticket = list_ticket(&seller, "Late show", "30").await;
        seller.close().await;

        let b = driver.session(&app.address, "expiring").await;
        sign_up(&b, &new_email("expiring")).await;
        let order = purchase_from_home(&b, &ticket, "Late show", "30").await;
        let first = countdown(&b).await;
        b.shot("order").await;
        if first == 0 || first > 4 {
            b.fail::<()>(format!(
                "a 4 s order's page shows {first} s left (expected 1 to 4)"
            ))
            .await;
        }
        // A mark on this document: it is gone if the page reloads.
        mark_document(&b).await;
        b.expect_text(
            "#countdown",
            "Order expired",
            Duration::from_secs(first + 10),
        )
        .await;
        // At zero the page stops taking a payment, then shows what the server's timer decided.
        b.expect_text("#status", "Expired", Duration::from_secs(30))
            .await;
        b.expect_attr("#status", "data-status", "cancelled", PATIENCE)
            .await;
        b.expect_attr("#status", "data-reason", "expired", PATIENCE)
            .await;
        b.expect_absent("form#pay").await;
        b.expect_absent("form#cancel").await;
        b.expect_text("#outcome", "expired", PATIENCE).await;
        if !same_document(&b).await {
            b.fail::<()>("the page reloaded itself to show the expiry".into())
                .await;
        }
        b.shots("expired").await;
        expect_in_my_orders(&b, &order, "cancelled").await;
        b.expect_text(
            &format!(r#"table#orders tr[data-order-id="{order}"] td.status"#),
            "Expired",
            PATIENCE,
        )
        .await;
        b.shot("my-orders").await;
        b.close().await;
    })
    .await;
    println!("screenshots: {}", screenshots_dir().display());
}

/// 5. A user who signed out, sent to sign in by `/tickets/new`, comes back to it.
#[tokio::test]
async fn signing_in_returns_to_the_page_asked_for() {
    // The browser first: a missing one fails the test at once.
    let driver = ChromeDriver::start(70).await;
    let app = spawn_app().await;
    bounded(Duration::from_secs(90), async {
        let b = driver.session(&app.address, "visitor").await;
        let email = new_email("visitor");
        sign_up(&b, &email).await;
        b.click("header button#signout").await;
        b.find(r#"header a[href="/auth/signin"]"#).await;
        expect_signed_out_header(&b).await;
        b.shot("signed-out").await;
        b.goto("/tickets/new").await;
        b.wait_path("/auth/signin").await;
        let next = b.query_param("next").await;
        if next.as_deref() != Some("/tickets/new") {
            b.fail::<()>(format!(
                "the sign-in page's `next` should be \"/tickets/new\", not {next:?}"
            ))
            .await;
        }
        b.find("form#auth").await;
        expect_signed_out_header(&b).await;
        b.shots("signin").await;
        b.expect_accessible("the sign-in page").await;
        submit_auth_form(&b, &email, PASSWORD).await;
        b.wait_path("/tickets/new").await;
        b.find("form#ticket").await;
        expect_signed_in_header(&b).await;
        b.shot("back-on-new-ticket").await;
        b.close().await;
    })
    .await;
    println!("screenshots: {}", screenshots_dir().display());
}

/// A bearer token for a user who signed up in the browser with [`PASSWORD`].
async fn token_of(app: &support::TestApp, email: &str) -> String {
    let response = app
        .api()
        .send(
            reqwest::Method::POST,
            "/api/users/token",
            None,
            Some(&json!({"email": email, "password": PASSWORD})),
        )
        .await;
    assert_eq!(response.status(), 200);
    let body: serde_json::Value = response.json().await.unwrap();
    body["token"].as_str().unwrap().to_owned()
}

/// Whether the page is still the document marked by [`mark_document`] (it did not reload).
async fn same_document(b: &Browser) -> bool {
    b.script("return window.__sameDocument === true;").await == json!(true)
}

async fn mark_document(b: &Browser) {
    b.script("window.__sameDocument = true; return true;").await;
}

/// 6. With the event bus, the pages follow changes without a reload: the listing drops a ticket
/// the moment another buyer reserves it, shows it again when that order is cancelled, and shows
/// a new listing; the order page turns to paid when the order is paid elsewhere, and to expired
/// when its window runs out.
#[tokio::test]
async fn the_pages_follow_changes_live() {
    // The browser first: a missing one fails the test at once.
    let driver = ChromeDriver::start(90).await;
    let (app, _relay) = support::spawn_live_app_with(|c| c.app.order_expiration_seconds = 12).await;
    bounded(Duration::from_secs(180), async {
        let api = app.api();
        let seller = api.new_user().await;
        let first = api.ticket(&seller.token, "Live one", json!(15)).await;
        let first_id = first["id"].as_str().unwrap().to_owned();

        // A visitor watches the listing while someone else reserves the ticket.
        let watcher = driver.session(&app.address, "watcher").await;
        watcher.goto("/").await;
        expect_on_sale(&watcher, &first_id, "Live one", "15").await;
        mark_document(&watcher).await;
        let other = api.new_user().await;
        let order = support::order_ticket(&app, &other, &first_id).await;
        let item = format!(r#"ul#tickets li[data-ticket-id="{first_id}"]"#);
        watcher
            .eventually(
                "the reserved ticket leaves the listing",
                Duration::from_secs(15),
                async |b| match b.try_find(&item).await {
                    Ok(_) => Err("it is still listed".into()),
                    Err(_) => Ok(()),
                },
            )
            .await;
        watcher.shot("reserved-gone").await;
        let cancelled = api
            .cancel(&other.token, order["id"].as_str().unwrap())
            .await;
        assert_eq!(cancelled.status(), 204);
        expect_on_sale(&watcher, &first_id, "Live one", "15").await;
        let fresh = api.ticket(&seller.token, "Just listed", json!(7.5)).await;
        let fresh_id = fresh["id"].as_str().unwrap().to_owned();
        expect_on_sale(&watcher, &fresh_id, "Just listed", "7.50").await;
        if !same_document(&watcher).await {
            watcher
                .fail::<()>("the listing reloaded itself to follow the changes".into())
                .await;
        }
        watcher.shot("freed-and-new").await;
        // A listing its seller takes off sale leaves the list too.
        let soon = api.ticket(&seller.token, "Soon withdrawn", json!(9)).await;
        let soon_id = soon["id"].as_str().unwrap().to_owned();
        expect_on_sale(&watcher, &soon_id, "Soon withdrawn", "9").await;
        let withdrawn = app
            .delete(&format!("/api/tickets/{soon_id}"), Some(&seller.token))
            .await;
        assert_eq!(withdrawn.status(), 200);
        let soon_item = format!(r#"ul#tickets li[data-ticket-id="{soon_id}"]"#);
        watcher
            .eventually(
                "the withdrawn ticket leaves the listing",
                Duration::from_secs(15),
                async |b| match b.try_find(&soon_item).await {
                    Ok(_) => Err("it is still listed".into()),
                    Err(_) => Ok(()),
                },
            )
            .await;
        if !same_document(&watcher).await {
            watcher
                .fail::<()>("the listing reloaded itself to drop the withdrawn ticket".into())
                .await;
        }
        watcher.close().await;

        // A buyer's order page turns to paid when the order is paid from elsewhere.
        let b = driver.session(&app.address, "live-buyer").await;
        let email = new_email("live-buyer");
        sign_up(&b, &email).await;
        let paid_order = purchase_from_home(&b, &fresh_id, "Just listed", "7.50").await;
        mark_document(&b).await;
        let token = token_of(&app, &email).await;
        let paid = api.pay(&token, &paid_order, "tok_visa").await;
        assert_eq!(paid.status(), 201);
        b.expect_attr(
            "#status",
            "data-status",
            "complete",
            Duration::from_secs(20),
        )
        .await;
        b.expect_text("#status", "Paid", PATIENCE).await;
        b.expect_absent("form#pay").await;
        if !same_document(&b).await {
            b.fail::<()>("the order page reloaded itself to show the payment".into())
                .await;
        }
        b.shot("paid-live").await;

        // And to expired when nobody pays.
        let expiring = purchase_from_home(&b, &first_id, "Live one", "15").await;
        mark_document(&b).await;
        b.expect_text("#status", "Expired", Duration::from_secs(40))
            .await;
        b.expect_attr("#status", "data-status", "cancelled", PATIENCE)
            .await;
        b.expect_absent("form#pay").await;
        if !same_document(&b).await {
            b.fail::<()>(format!(
                "the page of order {expiring} reloaded itself to show the expiry"
            ))
            .await;
        }
        b.shot("expired-live").await;
        b.close().await;
    })
    .await;
    println!("screenshots: {}", screenshots_dir().display());
}

/// The number of `css` elements on the page.
async fn count(b: &Browser, css: &str) -> usize {
    b.find_all(css).await.len()
}

/// The `data-ticket-id` of the first ticket listed on the page.
async fn first_listed(b: &Browser) -> String {
    b.try_attr("ul#tickets li", "data-ticket-id")
        .await
        .ok()
        .flatten()
        .unwrap_or_default()
}

/// Sends `form#search` with these fields (an empty one is cleared) and waits for the results.
async fn search(b: &Browser, q: &str, min: &str, max: &str, sort: &str) {
    b.goto("/").await;
    for (field, value) in [("q", q), ("min", min), ("max", max)] {
        b.find(&format!("form#search input#{field}"))
            .await
            .clear()
            .await
            .expect("a search field is cleared");
        if !value.is_empty() {
            b.fill(&format!("form#search input#{field}"), value).await;
        }
    }
    b.click(&format!(
        r#"form#search select#sort option[value="{sort}"]"#
    ))
    .await;
    b.click("form#search button[type=submit]").await;
    b.wait_location("the search results are shown", |l| l.starts_with("/?"))
        .await;
}

/// 7. A seller with more listings than a page holds finds the newest on page one, an older one
/// on page two and by search; prices the form cannot read say what is wrong; a reserved ticket
/// offers no Purchase; the seller's listings show the ticket reserved, then sold.
#[tokio::test]
async fn a_seller_finds_every_listing_and_follows_their_sales() {
    // The browser first: a missing one fails the test at once.
    let driver = ChromeDriver::start(120).await;
    let app = spawn_app().await;
    bounded(Duration::from_secs(300), async {
        let api = app.api();
        let seller = driver.session(&app.address, "many").await;
        let email = new_email("many");
        sign_up(&seller, &email).await;
        let token = token_of(&app, &email).await;
        let mut older = Vec::new();
        for i in 1..=24 {
            let ticket = api
                .ticket(&token, &format!("Listing {i:02}"), json!(10 * i))
                .await;
            older.push(ticket["id"].as_str().unwrap().to_owned());
        }
        let million = api
            .ticket(&token, "Final at the stadium", json!(1_000_000))
            .await;
        let million = million["id"].as_str().unwrap().to_owned();

        // Prices the form cannot read: each says what is wrong, on the form's own page.
        for (typed, says) in [
            ("abc", "Enter a number like 19.99"),
            ("$20", "without a currency sign"),
            ("1,000", "without thousands separators"),
        ] {
            seller.goto("/tickets/new").await;
            seller.fill("form#ticket input#title", "Badly priced").await;
            seller.fill("form#ticket input#price", typed).await;
            seller.click("form#ticket button[type=submit]").await;
            seller.wait_path("/tickets/new").await;
            seller.expect_text("#price-error", says, PATIENCE).await;
            seller
                .expect_attr("form#ticket input#title", "value", "Badly priced", PATIENCE)
                .await;
        }
        seller.shots("price-refused").await;
        seller.expect_accessible("a refused ticket form").await;
        // Post/redirect/get: a reload shows the form afresh and sends nothing.
        seller.reload().await;
        seller.wait_path("/tickets/new").await;
        seller.expect_absent("#price-error").await;

        // 26 listings: the newest (listed last, in the browser) heads page one.
        let newest = list_ticket(&seller, "Newest listing", "35").await;
        seller.click(r#"header a.brand[href="/"]"#).await;
        seller.wait_path("/").await;
        seller.expect_text("#count", "26 for sale", PATIENCE).await;
        if first_listed(&seller).await != newest {
            seller
                .fail::<()>("the newest listing does not head page one".into())
                .await;
        }
        let on_page = count(&seller, "ul#tickets li").await;
        if on_page != 20 {
            seller
                .fail::<()>(format!("page one lists {on_page} tickets, not 20"))
                .await;
        }
        expect_on_sale(&seller, &million, "Final at the stadium", "$1,000,000.00").await;
        let oldest = format!(r#"ul#tickets li[data-ticket-id="{}"]"#, older[0]);
        seller.expect_absent(&oldest).await;
        seller.shots("home").await;
        seller.expect_accessible("the home page").await;
        seller.click("nav#pages a[rel=next]").await;
        seller
            .wait_location("page two is shown", |l| l.contains("page=2"))
            .await;
        seller.find(&oldest).await;
        seller.shots("home-page-2").await;

        // Search by title (any case), then by price range with a sort.
        search(&seller, "listing 01", "", "", "newest").await;
        seller.expect_text("#count", "1 matching", PATIENCE).await;
        seller.find(&oldest).await;
        seller.shots("search").await;
        seller.expect_accessible("search results").await;
        search(&seller, "", "100", "200", "priceHigh").await;
        seller.expect_text("#count", "11 matching", PATIENCE).await;
        if first_listed(&seller).await != older[19] {
            seller
                .fail::<()>("the dearest ticket from $100 to $200 (Listing 20) is not first".into())
                .await;
        }
        seller.shot("price-range").await;
        search(&seller, "", "50", "abc", "oldest").await;
        seller
            .expect_text(
                "#form-error",
                "Price to: Enter a number like 19.99",
                PATIENCE,
            )
            .await;
        search(&seller, "", "200", "100", "oldest").await;
        seller
            .expect_text("#form-error", "no less than the price from", PATIENCE)
            .await;
        seller.shots("search-refused").await;
        seller.expect_accessible("a refused search").await;

        // A buyer reserves Listing 24: a visitor finds no Purchase on it, and the reason.
        let buyer = api.new_user().await;
        let reserved = &older[23];
        let order = support::order_ticket(&app, &buyer, reserved).await;
        let order = order["id"].as_str().unwrap().to_owned();
        let visitor = driver.session(&app.address, "visitor").await;
        visitor.goto(&format!("/tickets/{reserved}")).await;
        visitor.find("#not-for-sale").await;
        visitor.expect_absent("form#purchase").await;
        visitor.shots("reserved-ticket").await;
        visitor.expect_accessible("a reserved ticket").await;
        visitor.close().await;

        // The seller's listings: reserved (until when), then sold (when, for how much).
        seller.click(r#"header a[href="/listings"]"#).await;
        seller.wait_path("/listings").await;
        let state = format!(r#"table#listings tr[data-ticket-id="{reserved}"] td.state"#);
        seller
            .expect_attr(&state, "data-state", "reserved", PATIENCE)
            .await;
        seller.expect_text(&state, "Reserved until", PATIENCE).await;
        seller.expect_present("nav#pages").await;
        seller.shots("my-listings-reserved").await;
        seller.goto(&format!("/tickets/{reserved}")).await;
        seller
            .expect_attr("#sale-state", "data-state", "reserved", PATIENCE)
            .await;
        let paid = api.pay(&buyer.token, &order, "tok_visa").await;
        assert_eq!(paid.status(), 201);
        seller
            .eventually(
                "the seller's listings say the ticket sold",
                Duration::from_secs(20),
                async |b| {
                    b.goto("/listings").await;
                    match b.try_attr(&state, "data-state").await? {
                        Some(s) if s == "sold" => Ok(()),
                        other => Err(format!("its data-state is {other:?}")),
                    }
                },
            )
            .await;
        seller.expect_text(&state, "for $240.00", PATIENCE).await;
        seller.expect_text(&state, "Sold on", PATIENCE).await;
        seller.shots("my-listings-sold").await;
        seller.expect_accessible("My Listings").await;
        seller.close().await;
    })
    .await;
    println!("screenshots: {}", screenshots_dir().display());
}

/// 8. With JavaScript off, a buyer signs up, searches, buys and pays: every form posts and
/// redirects, and times read as UTC.
#[tokio::test]
async fn without_javascript_a_buyer_finds_buys_and_pays() {
    // The browser first: a missing one fails the test at once.
    let driver = ChromeDriver::start(160).await;
    let app = spawn_app().await;
    bounded(Duration::from_secs(180), async {
        let api = app.api();
        let seller = api.new_user().await;
        let ticket = api.ticket(&seller.token, "Quiet show", json!(12)).await;
        let ticket = ticket["id"].as_str().unwrap().to_owned();

        let b = driver
            .session_without_javascript(&app.address, "no-js")
            .await;
        sign_up(&b, &new_email("no-js")).await;
        search(&b, "quiet", "", "", "newest").await;
        expect_on_sale(&b, &ticket, "Quiet show", "$12.00").await;
        b.shot("search").await;
        let order = purchase_from_home(&b, &ticket, "Quiet show", "$12.00").await;
        // No script turns the deadline into a countdown in local time: it reads as UTC.
        b.expect_text("#countdown", "until", PATIENCE).await;
        b.expect_text("#countdown time", "UTC", PATIENCE).await;
        b.shots("order").await;
        pay_with(&b, "tok_visa").await;
        b.wait_path(&format!("/orders/{order}")).await;
        b.eventually(
            "the order page, opened again, is a receipt",
            Duration::from_secs(20),
            async |b| {
                b.goto(&format!("/orders/{order}")).await;
                match b.try_attr("#status", "data-status").await? {
                    Some(s) if s == "complete" => Ok(()),
                    other => Err(format!("its data-status is {other:?}")),
                }
            },
        )
        .await;
        b.expect_text("#receipt-amount", "$12.00", PATIENCE).await;
        b.expect_text("#receipt-date time", "UTC", PATIENCE).await;
        b.shots("receipt").await;
        b.close().await;
    })
    .await;
    println!("screenshots: {}", screenshots_dir().display());
}

/// Whether `css` is shown now (present and displayed), or why not.
async fn try_shown(b: &Browser, css: &str) -> Result<(), String> {
    match b.try_find(css).await?.is_displayed().await {
        Ok(true) => Ok(()),
        Ok(false) => Err(format!("`{css}` is not displayed")),
        Err(e) => Err(format!("whether `{css}` is displayed: {e}")),
    }
}

/// Sends `code` from the door page's form and waits for its `data-result`.
async fn check_in_at_door(b: &Browser, code: &str, result: &str) {
    b.fill("form#checkin input#code[name=code]", code).await;
    b.click("form#checkin button[type=submit]").await;
    b.wait_path("/door").await;
    b.expect_attr("#checkin-result", "data-result", result, PATIENCE)
        .await;
}

/// 9. A ticket changes hands: the buyer finds it in My Tickets (its code as text and as a QR
/// code) and on its page as theirs; someone without the door role is turned away from the door;
/// door staff admit the code once, then see it was already used.
#[tokio::test]
async fn a_bought_ticket_is_admitted_once_at_the_door() {
    // The browser first: a missing one fails the test at once.
    let driver = ChromeDriver::start(200).await;
    let app = spawn_app().await;
    bounded(Duration::from_secs(240), async {
        let api = app.api();
        let seller = api.new_user().await;
        let ticket = api.ticket(&seller.token, "Door night", json!(18)).await;
        let ticket = ticket["id"].as_str().unwrap().to_owned();

        // The buyer holds nothing yet, then buys and pays; the receipt leads to My Tickets.
        let buyer = driver.session(&app.address, "holder").await;
        sign_up(&buyer, &new_email("holder")).await;
        buyer.click(r#"header a[href="/holdings"]"#).await;
        buyer.wait_path("/holdings").await;
        buyer
            .expect_text("#no-holdings", "You hold no tickets yet.", PATIENCE)
            .await;
        buyer.expect_present(r#"#no-holdings a[href="/"]"#).await;
        buyer.shot("no-holdings").await;
        let order = purchase_from_home(&buyer, &ticket, "Door night", "18").await;
        pay_with(&buyer, "tok_visa").await;
        buyer
            .expect_attr(
                "#status",
                "data-status",
                "complete",
                Duration::from_secs(30),
            )
            .await;
        buyer.wait_path(&format!("/orders/{order}")).await;
        buyer
            .find(&format!(
                r#"#receipt a#see-holding[href="/holdings#ticket-{ticket}"]"#
            ))
            .await;
        buyer.click("#receipt a#see-holding").await;
        buyer.wait_path("/holdings").await;
        let item = format!(r#"ul#holdings li#ticket-{ticket}[data-ticket-id="{ticket}"]"#);
        buyer
            .expect_text(
                &format!(r#"{item} h2 a[href="/tickets/{ticket}"]"#),
                "Door night",
                PATIENCE,
            )
            .await;
        buyer
            .expect_text(&format!("{item} .paid"), "$18.00", PATIENCE)
            .await;
        buyer
            .expect_text(&format!("{item} .checked-in"), "Not yet", PATIENCE)
            .await;
        let code = buyer.text(&format!("{item} code.ticket-code")).await;
        if code.len() < 6 {
            buyer
                .fail::<()>(format!("the ticket's code {code:?} is too short to be one"))
                .await;
        }
        let qr = format!(r#"{item} svg.qr[role=img]"#);
        buyer
            .eventually("the QR code is shown", PATIENCE, async |b| {
                try_shown(b, &qr).await
            })
            .await;
        buyer
            .expect_attr(&qr, "aria-label", "QR code of ticket Door night", PATIENCE)
            .await;
        buyer.expect_present(&format!("{qr} path")).await;
        buyer.shots("my-tickets").await;
        buyer.expect_accessible("My Tickets").await;

        // Its page says the buyer holds it, with no Purchase and no "not for sale".
        buyer.goto(&format!("/tickets/{ticket}")).await;
        buyer
            .expect_text("#you-hold", "You hold this ticket.", PATIENCE)
            .await;
        buyer
            .expect_present(&format!(r#"#you-hold a[href="/holdings#ticket-{ticket}"]"#))
            .await;
        buyer.expect_absent("form#purchase").await;
        buyer.expect_absent("#not-for-sale").await;
        buyer.shot("held-ticket").await;

        // Without the door role, the door turns the buyer away.
        buyer.goto("/door").await;
        check_door_form(&buyer).await;
        buyer.fill("form#checkin input#code", &code).await;
        buyer.click("form#checkin button[type=submit]").await;
        buyer
            .expect_text("main h1", "Door staff only", PATIENCE)
            .await;
        buyer
            .expect_text(
                "#door-staff-only",
                "ticketing users grant door EMAIL",
                PATIENCE,
            )
            .await;
        buyer.shot("door-staff-only").await;
        buyer
            .expect_accessible("the door, for a user without the role")
            .await;

        // Door staff (granted the role in the database) admit the code once.
        let door = api.new_user().await;
        {
            use sea_orm::{ActiveValue::Set, EntityTrait};
            entities::user_role::Entity::insert(entities::user_role::ActiveModel {
                user_id: Set(support::uuid(&door.id)),
                role: Set(entities::user_role::Role::Door),
                created_at: Set(entities::now()),
            })
            .exec(&app.db.connection)
            .await
            .expect("the door role is granted");
        }
        let staff = driver.session(&app.address, "door").await;
        staff.goto("/door").await;
        staff.wait_path("/auth/signin").await;
        submit_auth_form(&staff, &door.email, "correct horse").await;
        staff.wait_path("/door").await;
        check_door_form(&staff).await;
        staff.shots("door").await;
        staff.expect_accessible("the door page").await;
        check_in_at_door(&staff, &code, "admitted").await;
        staff
            .expect_text("#checkin-result", "Admitted", PATIENCE)
            .await;
        staff
            .expect_text("#checkin-result", "Door night", PATIENCE)
            .await;
        staff.expect_present("#checkin-result[role=status]").await;
        staff.shots("door-admitted").await;
        staff.expect_accessible("the door, admitted").await;
        check_door_form(&staff).await;
        check_in_at_door(&staff, &code, "alreadyUsed").await;
        staff
            .expect_text("#checkin-result", "Already used", PATIENCE)
            .await;
        staff.find("#checkin-result time[datetime]").await;
        staff.shots("door-already-used").await;
        staff.expect_accessible("the door, already used").await;
        check_in_at_door(&staff, "NOT-A-CODE-OF-OURS", "unknown").await;
        staff
            .expect_text("#checkin-result", "Unknown code", PATIENCE)
            .await;
        staff.shot("door-unknown").await;
        staff.close().await;

        // The holder's ticket now says when it was checked in.
        buyer.goto("/holdings").await;
        buyer
            .expect_text(&format!("{item} .checked-in"), "Yes", PATIENCE)
            .await;
        buyer
            .find(&format!("{item} .checked-in time[datetime]"))
            .await;
        buyer.shot("my-tickets-checked-in").await;
        buyer.close().await;
    })
    .await;
    println!("screenshots: {}", screenshots_dir().display());
}

/// The door page's form, ready for a code: labelled, focused, without autocomplete.
async fn check_door_form(b: &Browser) {
    b.find("form#checkin").await;
    b.expect_text(r#"form#checkin label[for="code"]"#, "Ticket code", PATIENCE)
        .await;
    b.expect_present(r#"form#checkin input#code[autofocus][autocomplete="off"]"#)
        .await;
    b.expect_present(r#"form#checkin input[type=hidden][name="csrf"]"#)
        .await;
}
