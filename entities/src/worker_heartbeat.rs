//! A running worker process, as it announces itself: its own id, the task queue it polls, where it
//! runs, and when it was started and last seen (it beats every few seconds, and deletes its row
//! when it stops cleanly).

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "worker_heartbeats")]
pub struct Model {
    /// The worker process's id, made when it starts.
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    #[sea_orm(column_type = "Text")]
    pub task_queue: String,
    #[sea_orm(column_type = "Text")]
    pub host: String,
    pub pid: i32,
    pub started_at: DateTimeUtc,
    pub seen_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
