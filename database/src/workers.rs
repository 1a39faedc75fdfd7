//! Worker heartbeats: every worker process keeps a row of `worker_heartbeats` fresh while it runs
//! (`workflows::worker`, every [`BEAT_EVERY`]) and deletes it when it stops cleanly; the API takes
//! orders, and `/readyz` says ready, only while a row of the order task queue was seen within
//! [`FRESH`] ([`alive`]). Temporal's own list of a task queue's pollers is no substitute: it keeps
//! a worker that was killed for about a minute and a half.
//!
//! Times are each process's own clock ([`entities::now`]), written by the worker and compared by
//! the API: the hosts' clocks must agree to well within [`FRESH`] - [`BEAT_EVERY`] (NTP does).

use std::time::Duration;

use chrono::{DateTime, Utc};
use entities::worker_heartbeat::{self, Column, Entity};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, DatabaseConnection, DbErr, EntityTrait, PaginatorTrait,
    QueryFilter, QueryOrder, QuerySelect, sea_query::OnConflict,
};
use uuid::Uuid;

/// How often a running worker says it is alive.
pub const BEAT_EVERY: Duration = Duration::from_secs(1);

/// A worker counts as alive when seen this recently: three beats, so that one beat that is late
/// or lost (a slow write, a database that blinked) does not make a running worker look gone,
/// while one that was killed is noticed within this (plus the API's second of caching: see
/// `workflows::client::workers::WORKERS_SEEN_FOR`), well within the 10 s a load balancer is promised.
pub const FRESH: Duration = Duration::from_secs(3);

/// Rows of workers not seen for this long (killed ones never delete theirs) are swept when a
/// worker starts.
pub const FORGOTTEN_AFTER: Duration = Duration::from_secs(24 * 60 * 60);

/// Says that worker `id` (this process) on `task_queue` is alive now: inserts its row, or
/// refreshes its `seen_at`.
pub async fn beat(
    db: &DatabaseConnection,
    id: Uuid,
    task_queue: &str,
    host: &str,
    pid: i32,
) -> Result<(), DbErr> {
    let now = entities::now();
    let row = worker_heartbeat::ActiveModel {
        id: Set(id),
        task_queue: Set(task_queue.to_owned()),
        host: Set(host.to_owned()),
        pid: Set(pid),
        started_at: Set(now),
        seen_at: Set(now),
    };
    Entity::insert(row)
        .on_conflict(
            OnConflict::column(Column::Id)
                .update_column(Column::SeenAt)
                .to_owned(),
        )
        .exec_without_returning(db)
        .await
        .map(|_| ())
}

/// Worker `id` stopped: its row goes.
pub async fn gone(db: &DatabaseConnection, id: Uuid) -> Result<(), DbErr> {
    Entity::delete_by_id(id).exec(db).await.map(|_| ())
}

/// How many workers on `task_queue` were seen within `fresh`.
pub async fn alive(
    db: &DatabaseConnection,
    task_queue: &str,
    fresh: Duration,
) -> Result<usize, DbErr> {
    let since = entities::now() - chrono::Duration::from_std(fresh).unwrap_or_default();
    let count = Entity::find()
        .filter(Column::TaskQueue.eq(task_queue))
        .filter(Column::SeenAt.gte(since))
        .count(db)
        .await?;
    Ok(count as usize)
}

/// When a worker on `task_queue` was last seen; `None` when none ever was (or not for
/// [`FORGOTTEN_AFTER`]).
pub async fn last_seen(
    db: &DatabaseConnection,
    task_queue: &str,
) -> Result<Option<DateTime<Utc>>, DbErr> {
    let last = Entity::find()
        .filter(Column::TaskQueue.eq(task_queue))
        .order_by_desc(Column::SeenAt)
        .limit(1)
        .one(db)
        .await?;
    Ok(last.map(|row| row.seen_at))
}

/// Deletes the rows of workers not seen for [`FORGOTTEN_AFTER`].
pub async fn sweep(db: &DatabaseConnection) -> Result<u64, DbErr> {
    let before = entities::now() - chrono::Duration::from_std(FORGOTTEN_AFTER).unwrap_or_default();
    let deleted = Entity::delete_many()
        .filter(Column::SeenAt.lt(before))
        .exec(db)
        .await?;
    Ok(deleted.rows_affected)
}

/// This machine's name, as far as it can be told.
pub fn host_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .or_else(|| std::env::var("HOSTNAME").ok())
        .map(|name| name.trim().to_owned())
        .filter(|name| !name.is_empty())
        .unwrap_or_else(|| "unknown".to_owned())
}
