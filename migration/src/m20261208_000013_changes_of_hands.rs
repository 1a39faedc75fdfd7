//! Tickets change hands after the first sale: a holder gives a ticket away, sells it on, or a
//! seller takes a listing off sale.
//!
//! - `tickets.resale_of`: for a listing made by "sell on", the ticket whose holding it sells (the
//!   first listing's id, which the holding and its codes keep); `NULL` for a first listing.
//! - `tickets.withdrawn_at`: when its seller took it off sale; `NULL` while it is (or was) on sale.
//! - `holdings.listing_id`: the listing by which the holder offers it now, if any: a listed,
//!   reserved or withdrawn-then-relisted ticket's holding points at its open listing, and a
//!   holding with one cannot be given away.
//! - `holdings.sale_cents`: the price of the last sale of the ticket here, carried across
//!   transfers: what a resale's price cap is taken of. `NULL` while it was never sold here.
//! - `holdings.acquired_by`: how the holder came to hold it: `listing`, `sale` or `transfer`.
//! - `transfers`: every gift of a ticket, from whom to whom, and the generation it made; both
//!   sides read their history from it.
//! - `request_keys`: the `Idempotency-Key` of a write that is decided in one database
//!   transaction (a transfer, a sell-on, a withdrawal), with its answer, written in that
//!   transaction.
//!
//! Existing holdings: a first generation is listed by its ticket; a later one was bought.

use sea_orm_migration::{prelude::*, schema::*};

use crate::{
    conventions::{create_index, created_at, id, references},
    names::{Columns, Tables},
};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // One column per statement: SQLite alters one at a time.
        for (table, column) in [
            (Tables::Tickets, uuid_null(Columns::ResaleOf)),
            (
                Tables::Tickets,
                timestamp_with_time_zone_null(Columns::WithdrawnAt),
            ),
            (Tables::Holdings, uuid_null(Columns::ListingId)),
            (Tables::Holdings, big_integer_null(Columns::SaleCents)),
            (
                Tables::Holdings,
                string(Columns::AcquiredBy).default("listing").to_owned(),
            ),
        ] {
            let mut column = column;
            let alter = Table::alter()
                .table(table)
                .add_column(&mut column)
                .to_owned();
            manager.alter_table(alter).await?;
        }
        let db = manager.get_connection();
        db.execute_unprepared("UPDATE holdings SET listing_id = ticket_id WHERE generation = 1")
            .await?;
        db.execute_unprepared(
            "UPDATE holdings SET sale_cents = paid_cents, acquired_by = 'sale' WHERE generation > 1",
        )
        .await?;

        let transfers = Table::create()
            .table(Tables::Transfers)
            .col(id())
            .col(uuid(Columns::TicketId))
            .col(integer(Columns::Generation))
            .col(uuid(Columns::FromUserId))
            .col(uuid(Columns::ToUserId))
            .col(created_at())
            .foreign_key(&mut references(
                (Tables::Transfers, Columns::TicketId),
                Tables::Tickets,
            ))
            .foreign_key(&mut references(
                (Tables::Transfers, Columns::FromUserId),
                Tables::Users,
            ))
            .foreign_key(&mut references(
                (Tables::Transfers, Columns::ToUserId),
                Tables::Users,
            ))
            .to_owned();
        manager.create_table(transfers).await?;
        create_index(
            manager,
            "transfers_from",
            Tables::Transfers,
            [Columns::FromUserId],
        )
        .await?;
        create_index(
            manager,
            "transfers_to",
            Tables::Transfers,
            [Columns::ToUserId],
        )
        .await?;

        let keys = Table::create()
            .table(Tables::RequestKeys)
            .col(uuid(Columns::UserId))
            .col(string(Columns::Key))
            .col(string(Columns::Request))
            .col(text(Columns::Answer))
            .col(created_at())
            .primary_key(Index::create().col(Columns::UserId).col(Columns::Key))
            .foreign_key(&mut references(
                (Tables::RequestKeys, Columns::UserId),
                Tables::Users,
            ))
            .to_owned();
        manager.create_table(keys).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [Tables::RequestKeys, Tables::Transfers] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        for (table, column) in [
            (Tables::Holdings, Columns::AcquiredBy),
            (Tables::Holdings, Columns::SaleCents),
            (Tables::Holdings, Columns::ListingId),
            (Tables::Tickets, Columns::WithdrawnAt),
            (Tables::Tickets, Columns::ResaleOf),
        ] {
            let alter = Table::alter().table(table).drop_column(column).to_owned();
            manager.alter_table(alter).await?;
        }
        Ok(())
    }
}
