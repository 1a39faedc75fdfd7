//! Who holds each ticket, the check-ins at the door, and the users' roles.
//!
//! - `holdings`: one row per ticket, its holder: the lister until a sale completes, then the
//!   buyer. `generation` grows by one at every change of hands; a ticket code names one
//!   generation, so a code of an earlier one is void. `paid_cents` is what the holder paid here
//!   (none for a ticket listed by its holder).
//! - `checkins`: at most one per (ticket, generation): the first scan's insert wins, on both
//!   databases, however many doors scan the same code at once.
//! - `user_roles`: what an operator granted a user (`door`: may check tickets in).
//!
//! Tickets that exist already get their holder: the buyer of a completed order, else the lister.

use sea_orm_migration::{prelude::*, schema::*};

use crate::{
    conventions::{created_at, references, updated_at, version},
    names::{Columns, Tables},
};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let holdings = Table::create()
            .table(Tables::Holdings)
            .col(pk_uuid(Columns::TicketId))
            .col(uuid(Columns::UserId))
            .col(integer(Columns::Generation))
            .col(big_integer_null(Columns::PaidCents))
            .col(uuid_null(Columns::OrderId))
            .col(version())
            .col(created_at())
            .col(updated_at())
            .foreign_key(&mut references(
                (Tables::Holdings, Columns::TicketId),
                Tables::Tickets,
            ))
            .foreign_key(&mut references(
                (Tables::Holdings, Columns::UserId),
                Tables::Users,
            ))
            .to_owned();
        manager.create_table(holdings).await?;
        let by_holder = Index::create()
            .name("holdings_by_holder")
            .table(Tables::Holdings)
            .col(Columns::UserId)
            .to_owned();
        manager.create_index(by_holder).await?;

        let checkins = Table::create()
            .table(Tables::Checkins)
            .col(uuid(Columns::TicketId))
            .col(integer(Columns::Generation))
            .col(uuid(Columns::DoorUserId))
            .col(timestamp_with_time_zone(Columns::CheckedInAt))
            .primary_key(
                Index::create()
                    .col(Columns::TicketId)
                    .col(Columns::Generation),
            )
            .foreign_key(&mut references(
                (Tables::Checkins, Columns::TicketId),
                Tables::Tickets,
            ))
            .to_owned();
        manager.create_table(checkins).await?;

        let roles = Table::create()
            .table(Tables::UserRoles)
            .col(uuid(Columns::UserId))
            .col(string(Columns::Role))
            .col(timestamp_with_time_zone(Columns::CreatedAt))
            .primary_key(Index::create().col(Columns::UserId).col(Columns::Role))
            .foreign_key(&mut references(
                (Tables::UserRoles, Columns::UserId),
                Tables::Users,
            ))
            .to_owned();
        manager.create_table(roles).await?;

        // Every ticket that exists gets its holder: the buyer of its completed order (second
        // generation, at the price paid), else its lister (first generation, nothing paid here).
        let backfill = "INSERT INTO holdings \
             (ticket_id, user_id, generation, paid_cents, order_id, version, created_at, updated_at) \
             SELECT t.id, COALESCE(o.user_id, t.user_id), \
                    CASE WHEN o.id IS NULL THEN 1 ELSE 2 END, \
                    o.price_cents, o.id, 0, t.created_at, t.updated_at \
             FROM tickets t \
             LEFT JOIN orders o ON o.id = t.order_id AND o.status = 'complete'";
        manager
            .get_connection()
            .execute_unprepared(backfill)
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [Tables::UserRoles, Tables::Checkins, Tables::Holdings] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}
