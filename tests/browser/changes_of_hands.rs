//! A held ticket changes hands in the browser: My Tickets says the resale cap before asking,
//! refuses a price above it with the cap in the message, sells it on at the cap; the new listing's
//! seller takes it off sale and still holds it; then gives it to a friend, and both the notice and
//! the transfers say so. Every state is checked with axe.

use super::*;

#[tokio::test]
async fn a_held_ticket_is_sold_on_under_its_cap_taken_off_sale_and_given_away() {
    let driver = ChromeDriver::start(300).await;
    let app = spawn_app().await;
    bounded(Duration::from_secs(240), async {
        let deal = support::listed_and_ordered(&app, "Resale night", json!(25)).await;
        let paid = app.pay(&deal.buyer, &deal.order_id(), "tok_visa").await;
        assert_eq!(paid.status(), reqwest::StatusCode::CREATED);
        let ticket = deal.ticket_id();
        let friend = app.api().new_user().await;

        let holder = driver.session(&app.address, "reseller").await;
        holder.goto("/holdings").await;
        holder.wait_path("/auth/signin").await;
        submit_auth_form(&holder, &deal.buyer.email, "correct horse").await;
        holder.wait_path("/holdings").await;
        let item = format!("ul#holdings li#ticket-{ticket}");

        // The cap is said before asking: what it last sold for, at 100%.
        let cap = format!("{item} form.sell p.resale-cap");
        holder
            .expect_attr(&cap, "data-cap-cents", "2500", PATIENCE)
            .await;
        holder.expect_text(&cap, "$25.00", PATIENCE).await;
        holder.expect_present(&format!("{item} form.give")).await;
        holder.shots("my-tickets-trade").await;
        holder
            .expect_accessible("My Tickets, with the give and sell forms")
            .await;

        // Above the cap: refused on the price, with the cap in the message, the price kept.
        holder
            .fill(&format!("{item} form.sell input[name=price]"), "30")
            .await;
        holder
            .click(&format!("{item} form.sell button[type=submit]"))
            .await;
        holder.wait_path("/holdings").await;
        holder
            .expect_text(
                &format!("#price-{ticket}-error"),
                "at most 25.00 USD",
                PATIENCE,
            )
            .await;
        holder
            .expect_attr(
                &format!("input#price-{ticket}"),
                "aria-invalid",
                "true",
                PATIENCE,
            )
            .await;
        holder.shot("sell-on-above-cap").await;
        holder
            .expect_accessible("My Tickets, a price above the cap")
            .await;

        // At the cap: a new listing, whose page its seller sees.
        holder
            .fill(&format!("{item} form.sell input[name=price]"), "25")
            .await;
        holder
            .click(&format!("{item} form.sell button[type=submit]"))
            .await;
        let listing = holder
            .wait_location("the new listing's page", |l| {
                l.starts_with("/tickets/") && !l.contains(&ticket)
            })
            .await;
        let listing = listing.trim_start_matches("/tickets/").to_owned();
        holder.find("form#withdraw").await;
        holder.shots("sold-on").await;
        holder
            .expect_accessible("a listing sold on, its seller's view")
            .await;
        let for_sale = app.get("/api/tickets", None).await;
        let for_sale: Vec<serde_json::Value> = for_sale.json().await.unwrap();
        let listed = for_sale
            .iter()
            .find(|t| t["id"] == listing.as_str())
            .expect("the new listing is for sale");
        assert_eq!(listed["resaleOf"], ticket.as_str(), "{listed}");

        // Taken off sale: its seller still holds the ticket, and may give it away.
        holder.click("form#withdraw button[type=submit]").await;
        holder.wait_path(&format!("/tickets/{listing}")).await;
        holder
            .expect_attr("#sale-state", "data-state", "withdrawn", PATIENCE)
            .await;
        holder.expect_absent("form#withdraw").await;
        holder.shot("taken-off-sale").await;
        holder.expect_accessible("a listing taken off sale").await;

        holder.goto("/holdings").await;
        holder
            .fill(
                &format!("{item} form.give input[name=email]"),
                &friend.email,
            )
            .await;
        holder
            .click(&format!("{item} form.give button[type=submit]"))
            .await;
        holder.wait_path("/holdings").await;
        holder
            .expect_text("#notice[role=status]", "Ticket given to", PATIENCE)
            .await;
        holder.expect_absent(&item).await;
        holder
            .expect_text(
                r#"section#transfers li.transfer[data-given="true"]"#,
                "Resale night",
                PATIENCE,
            )
            .await;
        holder.shots("given-away").await;
        holder.expect_accessible("My Tickets, after giving").await;
        holder.close().await;

        // The friend holds it, given, under the same cap.
        let held = app.get("/api/holdings", Some(&friend.token)).await;
        let held: Vec<serde_json::Value> = held.json().await.unwrap();
        let held = held
            .iter()
            .find(|h| h["ticketId"] == ticket.as_str())
            .expect("the friend holds the ticket");
        assert_eq!(held["acquiredBy"], "transfer", "{held}");
        assert_eq!(held["resaleCapCents"], 2500, "{held}");
    })
    .await;
}
