//! `/` (tickets for sale: search, price range, sort, pages), `/tickets/new`, `/tickets/:id`
//! (with purchase or edit, or why neither, or that the visitor holds it), `/tickets/:id/withdraw`.
//!
//! - [`for_sale`]: the home page, the tickets for sale;
//! - [`form`]: a seller's form to list a ticket or edit it;
//! - [`ticket`]: one ticket's page, its purchase, and its seller taking it off sale.

mod for_sale;
mod form;
mod ticket;

pub use for_sale::{FOR_SALE, home};
pub use form::{create, edit, new_page};
pub use ticket::{purchase, show, withdraw};
