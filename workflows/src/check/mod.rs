//! The invariant checker (`ticketing check`). It reads orders, tickets and payments and, when a
//! Temporal client is given, the order workflows, and reports every place where they disagree.
//!
//! The database is read in one snapshot (a read-only `REPEATABLE READ` transaction on PostgreSQL,
//! a read transaction on SQLite in WAL mode), in batches of [`BATCH`] rows ordered by id, so that a
//! live system and a big table give neither false alarms nor one huge read. The workflows of each
//! batch of orders are described with at most [`TEMPORAL_CONCURRENCY`] calls in flight. Temporal
//! and the database are not written together (a workflow writes its order, then moves on), so a
//! disagreement with a workflow is confirmed with both sides read afresh before it is reported,
//! and a finished order whose workflow still runs is given up to [`GRACE`] to see it end.

use std::{
    collections::{HashMap, HashSet},
    fmt,
};

use anyhow::Context;
use entities::{
    order::{self, CancelReason, Status},
    payment, ticket,
};
use futures::{StreamExt, TryStreamExt, stream};
use sea_orm::{
    AccessMode, ColumnTrait, Condition, ConnectionTrait, DatabaseBackend, DatabaseConnection,
    DatabaseTransaction, EntityTrait, IsolationLevel, Iterable, QueryFilter, QueryOrder,
    QuerySelect, TransactionTrait, sea_query::ExprTrait,
};
use temporalio_client::Client;
use uuid::Uuid;

use against_workflows::{Temporal, retention};
use rules::{
    HOLDING, Holder, crowded_ticket_problem, order_problems, overdue_problem, ticket_problems,
    unknown_values_problem,
};

mod against_workflows;
mod repair;

pub use repair::{Repair, repair};
mod rules;

/// How long an event may wait in the outbox for a relay before `check` reports it.
pub const UNPUBLISHED_AFTER: chrono::Duration = chrono::Duration::minutes(5);

/// The outbox's events written more than [`UNPUBLISHED_AFTER`] ago and still unpublished, as one
/// disagreement naming how many and the oldest (only meaningful where a relay should run).
pub async fn unpublished_events(db: &DatabaseConnection) -> anyhow::Result<Option<Disagreement>> {
    use entities::event;
    use sea_orm::PaginatorTrait;
    let before = chrono::Utc::now() - UNPUBLISHED_AFTER;
    let late = || {
        event::Entity::find()
            .filter(event::Column::PublishedAt.is_null())
            .filter(event::Column::CreatedAt.lt(before))
    };
    let count = late()
        .count(db)
        .await
        .context("counting unpublished events")?;
    let Some(oldest) = late()
        .order_by_asc(event::Column::Id)
        .one(db)
        .await
        .context("reading the oldest unpublished event")?
    else {
        return Ok(None);
    };
    Ok(Some(Disagreement {
        subject: format!("event {}", oldest.id),
        problem: format!(
            "{} of {}, written at {}, is not published yet, with {} more written over {} minutes ago: is the relay running (ticketing relay, NATS_URL)?",
            oldest.kind,
            oldest.aggregate_id,
            oldest
                .created_at
                .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            count.saturating_sub(1),
            UNPUBLISHED_AFTER.num_minutes()
        ),
    }))
}

/// The open orders more than [`rules::OVERDUE_AFTER`] past their expiry (their timer should
/// have ended them: no worker runs, or their workflow is stuck).
pub async fn overdue(db: &DatabaseConnection) -> anyhow::Result<Vec<Disagreement>> {
    let now = chrono::Utc::now();
    let open = order::Entity::find()
        .filter(order::Column::Status.is_in([Status::Created, Status::AwaitingPayment]))
        .filter(order::Column::ExpiresAt.lt(now - rules::OVERDUE_AFTER))
        .order_by_asc(order::Column::ExpiresAt)
        .all(db)
        .await
        .context("reading the overdue orders")?;
    Ok(open
        .iter()
        .filter_map(|order| overdue_problem(order, now))
        .collect())
}

/// Rows read from a table at a time.
const BATCH: u64 = 500;
/// Temporal calls in flight at a time.
const TEMPORAL_CONCURRENCY: usize = 16;
/// One thing that disagrees, said plainly (e.g. "order 1b4e…: complete, but has no payment").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Disagreement {
    /// What disagrees: `order <id>`, `ticket <id>` or `payment <id>`.
    pub subject: String,
    /// How, in words an operator can act on.
    pub problem: String,
}

impl fmt::Display for Disagreement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.subject, self.problem)
    }
}

impl Disagreement {
    pub(crate) fn order(id: Uuid, problem: impl Into<String>) -> Self {
        Disagreement {
            subject: format!("order {id}"),
            problem: problem.into(),
        }
    }

    pub(crate) fn ticket(id: Uuid, problem: impl Into<String>) -> Self {
        Disagreement {
            subject: format!("ticket {id}"),
            problem: problem.into(),
        }
    }

    fn payment(id: Uuid, problem: impl Into<String>) -> Self {
        Disagreement {
            subject: format!("payment {id}"),
            problem: problem.into(),
        }
    }
}

/// What a check read and what it found.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Report {
    pub orders: u64,
    pub tickets: u64,
    pub payments: u64,
    /// Sorted by subject, each once.
    pub disagreements: Vec<Disagreement>,
}

/// Checks the database alone, and the order workflows too when `client` is given.
pub async fn find_disagreements(
    db: &DatabaseConnection,
    client: Option<&Client>,
) -> anyhow::Result<Vec<Disagreement>> {
    Ok(check(db, client).await?.disagreements)
}

/// Runs every check: the database alone, and the order workflows too when `client` is given.
pub async fn check(db: &DatabaseConnection, client: Option<&Client>) -> anyhow::Result<Report> {
    let retention = match client {
        Some(client) => retention(client).await,
        None => None,
    };
    let temporal = client.map(|client| Temporal {
        client,
        db,
        retention,
    });
    let snapshot = snapshot(db).await.context("reading the database")?;
    let mut report = Report::default();
    let unreadable = unreadable_orders(&snapshot, &mut report).await?;
    check_orders(&snapshot, temporal.as_ref(), &mut report).await?;
    check_tickets(&snapshot, &unreadable, &mut report).await?;
    check_payments(&snapshot, &mut report).await?;
    snapshot.commit().await.ok();
    report
        .disagreements
        .sort_by(|a, b| (&a.subject, &a.problem).cmp(&(&b.subject, &b.problem)));
    report.disagreements.dedup();
    Ok(report)
}

/// A read transaction: every read in it sees the database as it was at its first read.
async fn snapshot(db: &DatabaseConnection) -> Result<DatabaseTransaction, sea_orm::DbErr> {
    match db.get_database_backend() {
        DatabaseBackend::Postgres => {
            db.begin_with_config(
                Some(IsolationLevel::RepeatableRead),
                Some(AccessMode::ReadOnly),
            )
            .await
        }
        // SQLite in WAL mode: a transaction reads one snapshot from its first read on.
        _ => db.begin().await,
    }
}

/// The next `BATCH` rows of `E` with an id after `after`, by id, among those `only` admits.
async fn next_batch<E: EntityTrait>(
    db: &impl ConnectionTrait,
    id: E::Column,
    after: Option<Uuid>,
    only: Condition,
) -> Result<Vec<E::Model>, sea_orm::DbErr> {
    let mut query = E::find().filter(only).order_by_asc(id).limit(BATCH);
    if let Some(after) = after {
        query = query.filter(id.gt(after));
    }
    query.all(db).await
}

/// Orders whose stored status and cancel reason are known ones (the others cannot be read as
/// orders, and are reported by [`unreadable_orders`]).
fn readable_orders() -> Condition {
    Condition::all()
        .add(order::Column::Status.is_in(Status::iter()))
        .add(
            Condition::any()
                .add(order::Column::CancelReason.is_null())
                .add(order::Column::CancelReason.is_in(CancelReason::iter())),
        )
}

/// Reports the orders whose stored status or cancel reason is none we know, and returns them
/// (id to stored status).
async fn unreadable_orders(
    db: &DatabaseTransaction,
    report: &mut Report,
) -> anyhow::Result<HashMap<Uuid, String>> {
    let rows: Vec<(Uuid, String, Option<String>)> = order::Entity::find()
        .select_only()
        .column(order::Column::Id)
        .column(order::Column::Status)
        .column(order::Column::CancelReason)
        .filter(readable_orders().not())
        .into_tuple()
        .all(db)
        .await
        .context("looking for orders with unknown statuses")?;
    let mut unreadable = HashMap::new();
    for (id, status, cancel_reason) in rows {
        report.disagreements.push(unknown_values_problem(
            id,
            &status,
            cancel_reason.as_deref(),
        ));
        unreadable.insert(id, status);
    }
    Ok(unreadable)
}

async fn check_orders(
    db: &DatabaseTransaction,
    temporal: Option<&Temporal<'_>>,
    report: &mut Report,
) -> anyhow::Result<()> {
    let mut after = None;
    loop {
        let orders = next_batch::<order::Entity>(db, order::Column::Id, after, readable_orders())
            .await
            .context("reading orders")?;
        let Some(last) = orders.last() else { break };
        after = Some(last.id);
        report.orders += orders.len() as u64;

        let mut payments: HashMap<Uuid, Vec<payment::Model>> = HashMap::new();
        for payment in payment::Entity::find()
            .filter(payment::Column::OrderId.is_in(orders.iter().map(|o| o.id)))
            .all(db)
            .await
            .context("reading the payments of orders")?
        {
            payments.entry(payment.order_id).or_default().push(payment);
        }
        let ticket_ids: HashSet<Uuid> = orders.iter().map(|o| o.ticket_id).collect();
        let tickets: HashMap<Uuid, ticket::Model> = ticket::Entity::find()
            .filter(ticket::Column::Id.is_in(ticket_ids))
            .all(db)
            .await
            .context("reading the tickets of orders")?
            .into_iter()
            .map(|t| (t.id, t))
            .collect();
        for order in &orders {
            report
                .disagreements
                .extend(overdue_problem(order, chrono::Utc::now()));
            report.disagreements.extend(order_problems(
                order,
                payments
                    .get(&order.id)
                    .map(Vec::as_slice)
                    .unwrap_or_default(),
                tickets.get(&order.ticket_id),
            ));
        }

        if let Some(temporal) = temporal {
            let found: Vec<Option<Disagreement>> = stream::iter(orders.iter())
                .map(|order| temporal.check(order))
                .buffer_unordered(TEMPORAL_CONCURRENCY)
                .try_collect()
                .await?;
            report.disagreements.extend(found.into_iter().flatten());
        }
        if (orders.len() as u64) < BATCH {
            break;
        }
    }
    Ok(())
}

async fn check_tickets(
    db: &DatabaseTransaction,
    unreadable: &HashMap<Uuid, String>,
    report: &mut Report,
) -> anyhow::Result<()> {
    let mut after = None;
    loop {
        let tickets = next_batch::<ticket::Entity>(db, ticket::Column::Id, after, Condition::all())
            .await
            .context("reading tickets")?;
        let Some(last) = tickets.last() else { break };
        after = Some(last.id);
        report.tickets += tickets.len() as u64;

        let holder_ids: HashSet<Uuid> = tickets.iter().filter_map(|t| t.order_id).collect();
        let holders: HashMap<Uuid, order::Model> = if holder_ids.is_empty() {
            HashMap::new()
        } else {
            order::Entity::find()
                .filter(order::Column::Id.is_in(holder_ids))
                .filter(readable_orders())
                .all(db)
                .await
                .context("reading the orders that hold tickets")?
                .into_iter()
                .map(|o| (o.id, o))
                .collect()
        };
        for ticket in &tickets {
            let holder = match ticket.order_id {
                None => Holder::Missing,
                Some(id) => match (holders.get(&id), unreadable.get(&id)) {
                    (Some(order), _) => Holder::Found(order),
                    (None, Some(status)) => Holder::Unreadable(status),
                    (None, None) => Holder::Missing,
                },
            };
            report.disagreements.extend(ticket_problems(ticket, holder));
        }
        if (tickets.len() as u64) < BATCH {
            break;
        }
    }

    // At most one open-or-complete order per ticket: one grouped query finds the tickets with
    // more (there is no index on `orders.ticket_id` to look each ticket up by).
    let crowded: Vec<Uuid> = order::Entity::find()
        .select_only()
        .column(order::Column::TicketId)
        .filter(order::Column::Status.is_in(HOLDING))
        .group_by(order::Column::TicketId)
        .having(order::Column::Id.count().gt(1))
        .into_tuple()
        .all(db)
        .await
        .context("counting the open and complete orders of each ticket")?;
    for chunk in crowded.chunks(BATCH as usize) {
        let mut by_ticket: HashMap<Uuid, Vec<order::Model>> = HashMap::new();
        for order in order::Entity::find()
            .filter(order::Column::TicketId.is_in(chunk.iter().copied()))
            .filter(order::Column::Status.is_in(HOLDING))
            .filter(readable_orders())
            .order_by_asc(order::Column::CreatedAt)
            .order_by_asc(order::Column::Id)
            .all(db)
            .await
            .context("reading the orders of tickets with more than one")?
        {
            by_ticket.entry(order.ticket_id).or_default().push(order);
        }
        for (ticket_id, orders) in by_ticket {
            if orders.len() > 1 {
                report
                    .disagreements
                    .push(crowded_ticket_problem(ticket_id, &orders));
            }
        }
    }
    Ok(())
}

async fn check_payments(db: &DatabaseTransaction, report: &mut Report) -> anyhow::Result<()> {
    let mut after = None;
    loop {
        let payments =
            next_batch::<payment::Entity>(db, payment::Column::Id, after, Condition::all())
                .await
                .context("reading payments")?;
        let Some(last) = payments.last() else { break };
        after = Some(last.id);
        report.payments += payments.len() as u64;

        // A payment of an order that is not complete is reported with its order; here only a
        // payment of no order at all.
        let order_ids: HashSet<Uuid> = payments.iter().map(|p| p.order_id).collect();
        let existing: HashSet<Uuid> = order::Entity::find()
            .select_only()
            .column(order::Column::Id)
            .filter(order::Column::Id.is_in(order_ids))
            .into_tuple()
            .all(db)
            .await
            .context("reading the orders of payments")?
            .into_iter()
            .collect();
        for payment in &payments {
            if !existing.contains(&payment.order_id) {
                report.disagreements.push(Disagreement::payment(
                    payment.id,
                    format!("is for order {}, which does not exist", payment.order_id),
                ));
            }
        }
        if (payments.len() as u64) < BATCH {
            break;
        }
    }
    Ok(())
}

/// An order of 42.50 in `status` (cancelled ones expired), for the rules' tests.
#[cfg(test)]
fn an_order(status: Status) -> order::Model {
    let now = chrono::Utc::now();
    order::Model {
        id: Uuid::new_v4(),
        user_id: Uuid::new_v4(),
        ticket_id: Uuid::new_v4(),
        status,
        cancel_reason: (status == Status::Cancelled).then_some(CancelReason::Expired),
        price_cents: 4250,
        expires_at: now,
        version: 1,
        created_at: now,
        updated_at: now,
    }
}
