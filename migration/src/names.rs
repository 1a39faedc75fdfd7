//! The names of the tables and their columns, once for every migration.

use sea_orm_migration::prelude::*;

/// The tables.
#[derive(DeriveIden, Clone, Copy)]
pub(crate) enum Tables {
    Users,
    Tickets,
    Events,
    Orders,
    Payments,
    IdempotencyKeys,
    WorkerHeartbeats,
    Holdings,
    Checkins,
    UserRoles,
    Transfers,
    RequestKeys,
}

/// The columns of every table.
#[derive(DeriveIden, Clone, Copy)]
pub(crate) enum Columns {
    Id,
    Email,
    EmailKey,
    PasswordHash,
    Title,
    PriceCents,
    UserId,
    TicketId,
    OrderId,
    Version,
    Kind,
    AggregateId,
    Payload,
    Status,
    CancelReason,
    ExpiresAt,
    ChargeId,
    AmountCents,
    Currency,
    CreatedAt,
    UpdatedAt,
    PublishedAt,
    Key,
    Request,
    Answer,
    SessionVersion,
    RequestId,
    TaskQueue,
    Host,
    Pid,
    StartedAt,
    SeenAt,
    Generation,
    PaidCents,
    DoorUserId,
    CheckedInAt,
    Role,
    ResaleOf,
    WithdrawnAt,
    ListingId,
    SaleCents,
    AcquiredBy,
    FromUserId,
    ToUserId,
}
