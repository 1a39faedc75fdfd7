//! `ticketing check`: the invariant checker. It reads orders, tickets and payments and, when a
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
    time::{Duration, Instant},
};

use anyhow::Context;
use chrono::{DateTime, Utc};
use entities::{
    order::{self, CancelReason, Status},
    payment, ticket,
};
use futures_util::{StreamExt, TryStreamExt, stream};
use sea_orm::{
    AccessMode, ColumnTrait, ConnectionTrait, DatabaseBackend, DatabaseConnection,
    DatabaseTransaction, EntityTrait, IsolationLevel, QueryFilter, QueryOrder, QuerySelect,
    TransactionTrait, sea_query::ExprTrait,
};
use temporalio_client::{
    Client, WorkflowDescribeOptions, WorkflowExecutionStatus, errors::WorkflowInteractionError,
    tonic,
};
use temporalio_common::protos::temporal::api::workflowservice::v1::DescribeNamespaceRequest;
use uuid::Uuid;
use workflows::OrderWorkflow;

use crate::{config::CheckArgs, database, temporal};

/// Rows read from a table at a time.
const BATCH: u64 = 500;
/// Temporal calls in flight at a time.
const TEMPORAL_CONCURRENCY: usize = 16;
/// How long a finished order's workflow may keep running before it is reported: a workflow
/// finishes right after it writes its order's last change.
const GRACE: Duration = Duration::from_secs(2);
/// How often a finished order's running workflow is described again during [`GRACE`].
const RECHECK_EVERY: Duration = Duration::from_millis(200);

/// The statuses of an order that holds its ticket: open (`created`, `awaiting:payment`) or sold
/// (`complete`).
const HOLDING: [Status; 3] = [Status::Created, Status::AwaitingPayment, Status::Complete];

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
    fn order(id: Uuid, problem: impl Into<String>) -> Self {
        Disagreement {
            subject: format!("order {id}"),
            problem: problem.into(),
        }
    }

    fn ticket(id: Uuid, problem: impl Into<String>) -> Self {
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

/// `ticketing check`: connects (DATABASE_URL and TEMPORAL_ADDRESS required), runs every check,
/// prints a progress line (on standard error), then each disagreement on its own line or that all
/// agree (on standard output). `Ok(true)` when everything agrees.
pub async fn run(args: &CheckArgs) -> anyhow::Result<bool> {
    let url = args.database.require()?;
    let temporal_config = args.temporal.resolve(None)?;
    let db = database::connect(&url)
        .await
        .map_err(|e| anyhow::anyhow!("cannot connect to DATABASE_URL: {e}"))?;
    let client = temporal::connect(&temporal_config, Duration::from_secs(10)).await?;
    eprintln!(
        "checking orders, tickets and payments against the order workflows in Temporal at {} (namespace {})…",
        temporal_config.address, temporal_config.namespace
    );
    let report = check(&db, Some(&client)).await;
    db.close().await.ok();
    let report = report?;
    if report.disagreements.is_empty() {
        println!(
            "all {} orders, {} tickets and {} payments agree",
            report.orders, report.tickets, report.payments
        );
        return Ok(true);
    }
    for disagreement in &report.disagreements {
        println!("{disagreement}");
    }
    Ok(false)
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
    check_orders(&snapshot, temporal.as_ref(), &mut report).await?;
    check_tickets(&snapshot, &mut report).await?;
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

/// The next `BATCH` rows of `E` with an id after `after`, by id.
async fn next_batch<E: EntityTrait>(
    db: &impl ConnectionTrait,
    id: E::Column,
    after: Option<Uuid>,
) -> Result<Vec<E::Model>, sea_orm::DbErr> {
    let mut query = E::find().order_by_asc(id).limit(BATCH);
    if let Some(after) = after {
        query = query.filter(id.gt(after));
    }
    query.all(db).await
}

async fn check_orders(
    db: &DatabaseTransaction,
    temporal: Option<&Temporal<'_>>,
    report: &mut Report,
) -> anyhow::Result<()> {
    let mut after = None;
    loop {
        let orders = next_batch::<order::Entity>(db, order::Column::Id, after)
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

async fn check_tickets(db: &DatabaseTransaction, report: &mut Report) -> anyhow::Result<()> {
    let mut after = None;
    loop {
        let tickets = next_batch::<ticket::Entity>(db, ticket::Column::Id, after)
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
                .all(db)
                .await
                .context("reading the orders that hold tickets")?
                .into_iter()
                .map(|o| (o.id, o))
                .collect()
        };
        for ticket in &tickets {
            let holder = ticket.order_id.and_then(|id| holders.get(&id));
            report.disagreements.extend(ticket_problems(ticket, holder));
        }
        if (tickets.len() as u64) < BATCH {
            break;
        }
    }

    // At most one open-or-complete order per ticket: one grouped query finds the tickets with
    // more (there is no index on `orders.ticket_id` to look each ticket up by).
    let holding: Vec<&str> = HOLDING.iter().map(|s| s.as_str()).collect();
    let crowded: Vec<Uuid> = order::Entity::find()
        .select_only()
        .column(order::Column::TicketId)
        .filter(order::Column::Status.is_in(holding.clone()))
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
            .filter(order::Column::Status.is_in(holding.clone()))
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
        let payments = next_batch::<payment::Entity>(db, payment::Column::Id, after)
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

/// An order's status as a problem names it: `complete`, or `status "foo"` when it is none of
/// [`Status`].
fn status_text(order: &order::Model) -> String {
    match Status::parse(&order.status) {
        Some(status) => status.as_str().to_owned(),
        None => format!("status {:?}", order.status),
    }
}

fn is_open(status: Status) -> bool {
    matches!(status, Status::Created | Status::AwaitingPayment)
}

/// What is wrong with an order, given its payments and its ticket (`None`: no such ticket).
fn order_problems(
    order: &order::Model,
    payments: &[payment::Model],
    ticket: Option<&ticket::Model>,
) -> Vec<Disagreement> {
    let mut problems = Vec::new();
    let status = Status::parse(&order.status);
    let said = status_text(order);

    match status {
        None => problems.push(format!(
            "has status {:?}, which is none of {}",
            order.status,
            [
                Status::Created,
                Status::AwaitingPayment,
                Status::Cancelled,
                Status::Complete
            ]
            .map(Status::as_str)
            .join(", ")
        )),
        Some(Status::Cancelled) => match order.cancel_reason.as_deref() {
            None => problems.push("cancelled, but has no cancel reason".to_owned()),
            Some(reason) if CancelReason::parse(reason).is_none() => problems.push(format!(
                "cancelled for the reason {reason:?}, which is none of {}",
                [
                    CancelReason::Cancelled,
                    CancelReason::Expired,
                    CancelReason::Declined
                ]
                .map(CancelReason::as_str)
                .join(", ")
            )),
            Some(_) => {}
        },
        Some(_) => {}
    }

    // Payments: exactly one for a complete order, of its price; none for any other.
    if status == Some(Status::Complete) {
        match payments {
            [] => problems.push("complete, but has no payment".to_owned()),
            [payment] if payment.amount_cents != order.price_cents => problems.push(format!(
                "complete at a price of {} cents, but its payment {} is of {} cents",
                order.price_cents, payment.id, payment.amount_cents
            )),
            [_] => {}
            more => problems.push(format!(
                "complete, but has {} payments ({}), not one",
                more.len(),
                more.iter()
                    .map(|p| p.id.to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            )),
        }
    } else {
        for payment in payments {
            problems.push(format!(
                "{said}, not complete, but has payment {} of {} cents",
                payment.id, payment.amount_cents
            ));
        }
    }

    // The ticket: held by an open order, and by the complete order that bought it.
    if let Some(status) = status.filter(|s| HOLDING.contains(s)) {
        let holds = if is_open(status) { "holds" } else { "sold" };
        match ticket {
            None => problems.push(format!(
                "{said}, but its ticket {} does not exist",
                order.ticket_id
            )),
            Some(ticket) => match ticket.order_id {
                Some(holder) if holder == order.id => {}
                Some(holder) => problems.push(format!(
                    "{said}, but its ticket {} is held by order {holder}, not by this order (which {holds} it)",
                    ticket.id
                )),
                None => problems.push(format!(
                    "{said}, but its ticket {} is free, not held by this order (which {holds} it)",
                    ticket.id
                )),
            },
        }
    }

    problems
        .into_iter()
        .map(|problem| Disagreement::order(order.id, problem))
        .collect()
}

/// What is wrong with a ticket, given the order its `order_id` names (`None`: no such order, or
/// the ticket is free).
fn ticket_problems(ticket: &ticket::Model, holder: Option<&order::Model>) -> Vec<Disagreement> {
    let Some(holder_id) = ticket.order_id else {
        return Vec::new();
    };
    let problem = match holder {
        None => Some(format!(
            "is held by order {holder_id}, which does not exist"
        )),
        Some(order) => match Status::parse(&order.status) {
            Some(Status::Cancelled) => Some(format!(
                "is held by order {holder_id}, which is cancelled (a cancelled order frees its ticket)"
            )),
            None => Some(format!(
                "is held by order {holder_id}, whose status {:?} is unknown",
                order.status
            )),
            Some(_) if order.ticket_id != ticket.id => Some(format!(
                "is held by order {holder_id}, which is an order for ticket {}",
                order.ticket_id
            )),
            Some(_) => None,
        },
    };
    problem
        .map(|problem| Disagreement::ticket(ticket.id, problem))
        .into_iter()
        .collect()
}

/// A ticket with more than one open or complete order.
fn crowded_ticket_problem(ticket_id: Uuid, orders: &[order::Model]) -> Disagreement {
    Disagreement::ticket(
        ticket_id,
        format!(
            "has {} open or complete orders, not at most one: {}",
            orders.len(),
            orders
                .iter()
                .map(|o| format!("{} ({})", o.id, o.status))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    )
}

/// The workflow of an order as Temporal describes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Seen {
    /// No workflow with the order's id.
    Missing,
    /// The latest run of the order's workflow is in this status.
    Found(WorkflowExecutionStatus),
}

fn workflow_status_text(status: WorkflowExecutionStatus) -> &'static str {
    match status {
        WorkflowExecutionStatus::Running => "running",
        WorkflowExecutionStatus::Completed => "completed",
        WorkflowExecutionStatus::Failed => "failed",
        WorkflowExecutionStatus::Canceled => "canceled",
        WorkflowExecutionStatus::Terminated => "terminated",
        WorkflowExecutionStatus::ContinuedAsNew => "continued as new",
        WorkflowExecutionStatus::TimedOut => "timed out",
        WorkflowExecutionStatus::Paused => "paused",
        _ => "in an unknown status",
    }
}

/// What is wrong between an order and its workflow, if anything. A finished order's workflow may
/// be gone once the namespace's `retention` has passed since the order last changed.
fn workflow_problem(
    order: &order::Model,
    seen: Seen,
    retention: Option<chrono::Duration>,
    now: DateTime<Utc>,
) -> Option<String> {
    let status = Status::parse(&order.status)?;
    let workflow = workflows::workflow_id(order.id);
    let said = status.as_str();
    match seen {
        Seen::Missing => {
            let past_retention = !is_open(status)
                && retention.is_some_and(|retention| order.updated_at + retention <= now);
            (!past_retention).then(|| format!("{said}, but its workflow {workflow} does not exist"))
        }
        Seen::Found(found) => match (is_open(status), found) {
            (true, WorkflowExecutionStatus::Running) => None,
            (true, ended) => Some(format!(
                "{said}, but its workflow {workflow} is {}, not running",
                workflow_status_text(ended)
            )),
            (false, WorkflowExecutionStatus::Running | WorkflowExecutionStatus::Paused) => {
                Some(format!(
                    "{said}, but its workflow {workflow} is still {}",
                    workflow_status_text(found)
                ))
            }
            (false, _) => None,
        },
    }
}

/// What the Temporal checks need.
struct Temporal<'a> {
    client: &'a Client,
    /// Read afresh (not through the snapshot) when a disagreement is looked at again.
    db: &'a DatabaseConnection,
    /// How long the namespace keeps a closed workflow, when Temporal said.
    retention: Option<chrono::Duration>,
}

impl Temporal<'_> {
    /// Describes the order's workflow.
    async fn see(&self, order_id: Uuid) -> anyhow::Result<Seen> {
        let id = workflows::workflow_id(order_id);
        match self
            .client
            .get_workflow_handle::<OrderWorkflow>(id.clone())
            .describe(WorkflowDescribeOptions::default())
            .await
        {
            Ok(description) => Ok(Seen::Found(description.status())),
            Err(WorkflowInteractionError::NotFound(_)) => Ok(Seen::Missing),
            Err(e) => Err(anyhow::anyhow!("cannot describe the workflow {id}: {e}")),
        }
    }

    /// Checks an order (as the snapshot read it) against its workflow. A disagreement is
    /// confirmed by describing the workflow again and then reading the order afresh: the
    /// workflow writes its order before it moves on, so a workflow that is missing or has ended
    /// while the order read after it is still open is a real disagreement. A finished order
    /// whose workflow still runs is looked at again until it has lasted [`GRACE`], since the
    /// workflow ends right after its last write.
    async fn check(&self, order: &order::Model) -> anyhow::Result<Option<Disagreement>> {
        if Status::parse(&order.status).is_none() {
            return Ok(None); // Reported by the database checks.
        }
        let started = Instant::now();
        let mut order = order.clone();
        let mut seen = self.see(order.id).await?;
        let mut confirmed = false;
        loop {
            let Some(problem) = workflow_problem(&order, seen, self.retention, Utc::now()) else {
                return Ok(None);
            };
            let finishing = matches!(
                seen,
                Seen::Found(WorkflowExecutionStatus::Running | WorkflowExecutionStatus::Paused)
            );
            if confirmed && (!finishing || started.elapsed() >= GRACE) {
                return Ok(Some(Disagreement::order(order.id, problem)));
            }
            if confirmed {
                tokio::time::sleep(RECHECK_EVERY).await;
            }
            seen = self.see(order.id).await?;
            match order::Entity::find_by_id(order.id)
                .one(self.db)
                .await
                .with_context(|| format!("reading order {}", order.id))?
            {
                Some(now) => order = now,
                None => return Ok(None), // Gone since the snapshot: nothing to compare.
            }
            confirmed = true;
        }
    }
}

/// How long the client's namespace keeps closed workflows; `None` when Temporal does not say.
async fn retention(client: &Client) -> Option<chrono::Duration> {
    let mut service = client.connection().workflow_service();
    let described = service
        .describe_namespace(tonic::Request::new(DescribeNamespaceRequest {
            namespace: client.options().namespace.clone(),
            ..Default::default()
        }))
        .await
        .ok()?
        .into_inner();
    let ttl = described.config?.workflow_execution_retention_ttl?;
    (ttl.seconds > 0).then(|| chrono::Duration::seconds(ttl.seconds))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn an_order(status: &str) -> order::Model {
        let now = Utc::now();
        order::Model {
            id: Uuid::new_v4(),
            user_id: Uuid::new_v4(),
            ticket_id: Uuid::new_v4(),
            status: status.to_owned(),
            cancel_reason: (status == "cancelled").then(|| "expired".to_owned()),
            price_cents: 4250,
            expires_at: now,
            version: 1,
            created_at: now,
            updated_at: now,
        }
    }

    fn its_ticket(order: &order::Model, holder: Option<Uuid>) -> ticket::Model {
        let now = Utc::now();
        ticket::Model {
            id: order.ticket_id,
            title: "Opera night".into(),
            price_cents: order.price_cents,
            user_id: Uuid::new_v4(),
            version: 1,
            order_id: holder,
            created_at: now,
            updated_at: now,
        }
    }

    fn its_payment(order: &order::Model, amount_cents: i64) -> payment::Model {
        payment::Model {
            id: Uuid::new_v4(),
            order_id: order.id,
            charge_id: "ch_1".into(),
            amount_cents,
            currency: "usd".into(),
            created_at: Utc::now(),
        }
    }

    fn problems(found: Vec<Disagreement>) -> Vec<String> {
        found.into_iter().map(|d| d.problem).collect()
    }

    #[test]
    fn a_disagreement_prints_as_subject_colon_problem() {
        let id = Uuid::nil();
        let d = Disagreement::order(id, "complete, but has no payment");
        assert_eq!(
            d.to_string(),
            "order 00000000-0000-0000-0000-000000000000: complete, but has no payment"
        );
    }

    #[test]
    fn consistent_orders_have_no_problems() {
        for status in ["created", "awaiting:payment"] {
            let order = an_order(status);
            let ticket = its_ticket(&order, Some(order.id));
            assert_eq!(order_problems(&order, &[], Some(&ticket)), vec![]);
        }
        let paid = an_order("complete");
        let ticket = its_ticket(&paid, Some(paid.id));
        let payment = its_payment(&paid, 4250);
        assert_eq!(order_problems(&paid, &[payment], Some(&ticket)), vec![]);
        let cancelled = an_order("cancelled");
        let ticket = its_ticket(&cancelled, None);
        assert_eq!(order_problems(&cancelled, &[], Some(&ticket)), vec![]);
    }

    #[test]
    fn a_complete_order_needs_one_payment_of_its_price() {
        let order = an_order("complete");
        let ticket = its_ticket(&order, Some(order.id));
        let found = order_problems(&order, &[], Some(&ticket));
        assert_eq!(found[0].subject, format!("order {}", order.id));
        assert_eq!(problems(found), vec!["complete, but has no payment"]);

        let short = its_payment(&order, 4000);
        assert_eq!(
            problems(order_problems(
                &order,
                std::slice::from_ref(&short),
                Some(&ticket)
            )),
            vec![format!(
                "complete at a price of 4250 cents, but its payment {} is of 4000 cents",
                short.id
            )]
        );
        let two = [its_payment(&order, 4250), its_payment(&order, 4250)];
        let found = problems(order_problems(&order, &two, Some(&ticket)));
        assert_eq!(found.len(), 1);
        assert!(
            found[0].starts_with("complete, but has 2 payments"),
            "{found:?}"
        );
    }

    #[test]
    fn an_order_that_is_not_complete_has_no_payment() {
        let order = an_order("cancelled");
        let payment = its_payment(&order, 4250);
        assert_eq!(
            problems(order_problems(&order, std::slice::from_ref(&payment), None)),
            vec![format!(
                "cancelled, not complete, but has payment {} of 4250 cents",
                payment.id
            )]
        );
    }

    #[test]
    fn statuses_and_cancel_reasons_are_known_ones() {
        let order = an_order("refunded");
        assert_eq!(
            problems(order_problems(&order, &[], None)),
            vec![
                "has status \"refunded\", which is none of created, awaiting:payment, cancelled, complete"
            ]
        );
        let mut cancelled = an_order("cancelled");
        cancelled.cancel_reason = None;
        assert_eq!(
            problems(order_problems(&cancelled, &[], None)),
            vec!["cancelled, but has no cancel reason"]
        );
        cancelled.cancel_reason = Some("bored".into());
        assert_eq!(
            problems(order_problems(&cancelled, &[], None)),
            vec![
                "cancelled for the reason \"bored\", which is none of cancelled, expired, declined"
            ]
        );
    }

    #[test]
    fn open_and_complete_orders_hold_their_ticket() {
        let other = Uuid::new_v4();
        let order = an_order("created");
        let ticket = its_ticket(&order, None);
        assert_eq!(
            problems(order_problems(&order, &[], Some(&ticket))),
            vec![format!(
                "created, but its ticket {} is free, not held by this order (which holds it)",
                ticket.id
            )]
        );
        let order = an_order("complete");
        let ticket = its_ticket(&order, Some(other));
        let payment = its_payment(&order, 4250);
        assert_eq!(
            problems(order_problems(&order, &[payment], Some(&ticket))),
            vec![format!(
                "complete, but its ticket {} is held by order {other}, not by this order (which sold it)",
                ticket.id
            )]
        );
        let order = an_order("awaiting:payment");
        assert_eq!(
            problems(order_problems(&order, &[], None)),
            vec![format!(
                "awaiting:payment, but its ticket {} does not exist",
                order.ticket_id
            )]
        );
    }

    #[test]
    fn a_ticket_is_held_only_by_an_open_or_complete_order_for_it() {
        let order = an_order("created");
        let ticket = its_ticket(&order, Some(order.id));
        assert_eq!(ticket_problems(&ticket, Some(&order)), vec![]);
        assert_eq!(ticket_problems(&its_ticket(&order, None), None), vec![]);

        let found = ticket_problems(&ticket, None);
        assert_eq!(found[0].subject, format!("ticket {}", ticket.id));
        assert_eq!(
            problems(found),
            vec![format!(
                "is held by order {}, which does not exist",
                order.id
            )]
        );

        let cancelled = order::Model {
            status: "cancelled".into(),
            cancel_reason: Some("cancelled".into()),
            ..order.clone()
        };
        assert_eq!(
            problems(ticket_problems(&ticket, Some(&cancelled))),
            vec![format!(
                "is held by order {}, which is cancelled (a cancelled order frees its ticket)",
                order.id
            )]
        );

        let elsewhere = order::Model {
            ticket_id: Uuid::new_v4(),
            ..order.clone()
        };
        assert_eq!(
            problems(ticket_problems(&ticket, Some(&elsewhere))),
            vec![format!(
                "is held by order {}, which is an order for ticket {}",
                order.id, elsewhere.ticket_id
            )]
        );
    }

    #[test]
    fn a_crowded_ticket_names_its_orders() {
        let a = an_order("complete");
        let b = order::Model {
            id: Uuid::new_v4(),
            status: "created".into(),
            ..a.clone()
        };
        let d = crowded_ticket_problem(a.ticket_id, &[a.clone(), b.clone()]);
        assert_eq!(d.subject, format!("ticket {}", a.ticket_id));
        assert_eq!(
            d.problem,
            format!(
                "has 2 open or complete orders, not at most one: {} (complete), {} (created)",
                a.id, b.id
            )
        );
    }

    #[test]
    fn workflows_run_while_their_order_is_open_and_end_with_it() {
        use WorkflowExecutionStatus::*;
        let now = Utc::now();
        let day = Some(chrono::Duration::days(1));
        for status in ["created", "awaiting:payment"] {
            let order = an_order(status);
            let workflow = workflows::workflow_id(order.id);
            assert_eq!(
                workflow_problem(&order, Seen::Found(Running), day, now),
                None
            );
            assert_eq!(
                workflow_problem(&order, Seen::Found(Terminated), day, now),
                Some(format!(
                    "{status}, but its workflow {workflow} is terminated, not running"
                ))
            );
            assert_eq!(
                workflow_problem(&order, Seen::Missing, day, now),
                Some(format!(
                    "{status}, but its workflow {workflow} does not exist"
                ))
            );
        }
        for status in ["complete", "cancelled"] {
            let order = an_order(status);
            let workflow = workflows::workflow_id(order.id);
            assert_eq!(
                workflow_problem(&order, Seen::Found(Completed), day, now),
                None
            );
            assert_eq!(
                workflow_problem(&order, Seen::Found(Failed), day, now),
                None
            );
            assert_eq!(
                workflow_problem(&order, Seen::Found(Running), day, now),
                Some(format!(
                    "{status}, but its workflow {workflow} is still running"
                ))
            );
            assert_eq!(
                workflow_problem(&order, Seen::Missing, day, now),
                Some(format!(
                    "{status}, but its workflow {workflow} does not exist"
                ))
            );
            // Past the namespace's retention, a closed workflow is deleted: not a disagreement.
            let later = now + chrono::Duration::days(2);
            assert_eq!(workflow_problem(&order, Seen::Missing, day, later), None);
            assert!(workflow_problem(&order, Seen::Missing, None, later).is_some());
        }
        // An open order's workflow never expires by retention.
        let open = an_order("created");
        let later = now + chrono::Duration::days(2);
        assert!(workflow_problem(&open, Seen::Missing, day, later).is_some());
        // Unknown statuses are the database checks' business.
        assert_eq!(
            workflow_problem(&an_order("refunded"), Seen::Missing, day, now),
            None
        );
    }
}
