//! Who holds a ticket: its lister until a sale completes, then its buyer, and so on at every
//! change of hands. `generation` grows by one at each change, so that a ticket code (which names
//! one generation) of an earlier holder is void. `paid_cents` is what the holder paid here: none
//! for a ticket listed by its holder.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "holdings")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub ticket_id: Uuid,
    /// The holder.
    pub user_id: Uuid,
    /// 1 for the lister; one more at every change of hands.
    pub generation: i32,
    pub paid_cents: Option<i64>,
    /// The order that made this holding, when a sale did.
    pub order_id: Option<Uuid>,
    /// The listing by which the holder offers it now (free, or reserved by an order); `None`
    /// when it is not on sale. A holding with one cannot be given away.
    pub listing_id: Option<Uuid>,
    /// The price of the last sale of this ticket here, carried across transfers: what the price
    /// cap of a resale is taken of. `None` while it was never sold here.
    pub sale_cents: Option<i64>,
    /// How the holder came to hold it.
    pub acquired_by: Acquired,
    pub version: i32,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

/// How a holder came to hold a ticket.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
pub enum Acquired {
    /// They listed it (a ticket bought elsewhere).
    #[sea_orm(string_value = "listing")]
    Listing,
    /// They bought it here.
    #[sea_orm(string_value = "sale")]
    Sale,
    /// Its holder gave it to them.
    #[sea_orm(string_value = "transfer")]
    Transfer,
}

impl Acquired {
    /// The word for it in events and answers.
    pub fn as_str(self) -> &'static str {
        match self {
            Acquired::Listing => "listing",
            Acquired::Sale => "sale",
            Acquired::Transfer => "transfer",
        }
    }
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

impl Model {
    /// The first holding of a ticket just listed: its lister, who paid nothing here, offering it
    /// by that listing.
    pub fn listed(ticket_id: Uuid, lister: Uuid, at: DateTimeUtc) -> Model {
        Model {
            ticket_id,
            user_id: lister,
            generation: 1,
            paid_cents: None,
            order_id: None,
            listing_id: Some(ticket_id),
            sale_cents: None,
            acquired_by: Acquired::Listing,
            version: 0,
            created_at: at,
            updated_at: at,
        }
    }
}

impl crate::event::Record for Model {
    fn id_and_version(&self) -> (Uuid, i32) {
        (self.ticket_id, self.version)
    }

    /// The holding as its events carry it: the record after the change.
    fn event_payload(&self) -> serde_json::Value {
        serde_json::json!({
            "ticketId": self.ticket_id,
            "holderId": self.user_id,
            "generation": self.generation,
            "paidCents": self.paid_cents,
            "orderId": self.order_id,
            "acquiredBy": self.acquired_by.as_str(),
            "version": self.version,
        })
    }
}
