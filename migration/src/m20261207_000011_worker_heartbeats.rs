//! Worker heartbeats: every worker process (the `ticketing worker` command, or the worker inside
//! `ticketing dev`) keeps a row of its own here, with the time it was last seen, and deletes it
//! when it stops cleanly. The API takes orders, and `/readyz` says ready, only while a row of the
//! order task queue is fresh: Temporal's own list of pollers keeps a worker that was killed for
//! about a minute and a half.

use sea_orm_migration::{prelude::*, schema::*};

use crate::{
    conventions::{create_index, id, table_migration},
    names::{Columns, Tables},
};

table_migration!(Tables::WorkerHeartbeats);

async fn up(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
    // `id` is the worker process's own id (made when it starts), not a record's.
    let table = Table::create()
        .table(Tables::WorkerHeartbeats)
        .col(id())
        .col(text(Columns::TaskQueue))
        .col(text(Columns::Host))
        .col(integer(Columns::Pid))
        .col(timestamp_with_time_zone(Columns::StartedAt))
        .col(timestamp_with_time_zone(Columns::SeenAt))
        .to_owned();
    manager.create_table(table).await?;
    // The API's question on every order: is a worker of this task queue seen lately?
    let by_queue = [Columns::TaskQueue, Columns::SeenAt];
    create_index(
        manager,
        "worker_heartbeats_by_task_queue",
        Tables::WorkerHeartbeats,
        by_queue,
    )
    .await
}
