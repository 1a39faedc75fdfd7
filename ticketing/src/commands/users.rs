//! `ticketing users grant|revoke ROLE EMAIL`: an operator grants a user a role, or takes it back.
//! Only the database is needed, already migrated; each run prints one line saying what it did.

use anyhow::Context;
use entities::{user, user_role};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseBackend, DatabaseConnection,
    EntityTrait, QueryFilter, Statement, sea_query::OnConflict,
};

use crate::cli::{RoleArgs, UsersCommand};

/// Runs `users grant` or `users revoke`; an email without an account is an error.
pub async fn run(command: &UsersCommand) -> anyhow::Result<()> {
    let (args, grant) = match command {
        UsersCommand::Grant(args) => (args, true),
        UsersCommand::Revoke(args) => (args, false),
    };
    let url = args.database.require()?;
    let db = database::connect(&url)
        .await
        .map_err(|e| anyhow::anyhow!("cannot connect to DATABASE_URL: {e}"))?;
    let done = change(&db, args, grant).await;
    db.close().await.ok();
    println!("{}", done?);
    Ok(())
}

/// Grants or revokes; the line that says what was done.
async fn change(db: &DatabaseConnection, args: &RoleArgs, grant: bool) -> anyhow::Result<String> {
    if !has_roles_table(db).await? {
        anyhow::bail!("the database has no table of roles yet: run `ticketing migrate` first");
    }
    let account = user::Entity::find()
        .filter(user::Column::EmailKey.eq(args.email.key()))
        .one(db)
        .await
        .context("reading the users")?
        .ok_or_else(|| anyhow::anyhow!("no account has the email {}", args.email))?;
    // The account's email as it signed up, whatever the case it was given in.
    let (role, email) = (args.role.name(), &account.email);
    if grant {
        let row = user_role::ActiveModel {
            user_id: Set(account.id),
            role: Set(args.role.role()),
            created_at: Set(entities::now()),
        };
        let inserted = user_role::Entity::insert(row)
            .on_conflict(
                OnConflict::columns([user_role::Column::UserId, user_role::Column::Role])
                    .do_nothing()
                    .to_owned(),
            )
            .exec_without_returning(db)
            .await
            .context("granting the role")?;
        Ok(if inserted == 0 {
            format!("{email} already had {role}")
        } else {
            format!("granted {role} to {email}")
        })
    } else {
        let deleted = user_role::Entity::delete_many()
            .filter(user_role::Column::UserId.eq(account.id))
            .filter(user_role::Column::Role.eq(args.role.role()))
            .exec(db)
            .await
            .context("revoking the role")?
            .rows_affected;
        Ok(if deleted == 0 {
            format!("{email} did not have {role}")
        } else {
            format!("revoked {role} from {email}")
        })
    }
}

/// The table of roles exists (its migration has run).
async fn has_roles_table(db: &DatabaseConnection) -> anyhow::Result<bool> {
    let backend = db.get_database_backend();
    let sql = match backend {
        DatabaseBackend::Postgres => "SELECT COUNT(to_regclass('user_roles')) AS present",
        _ => {
            "SELECT COUNT(*) AS present FROM sqlite_master WHERE type = 'table' AND name = 'user_roles'"
        }
    };
    let row = db
        .query_one_raw(Statement::from_string(backend, sql))
        .await
        .context("reading the database's tables")?;
    let present = match row {
        Some(row) => row.try_get::<i64>("", "present")?,
        None => 0,
    };
    Ok(present > 0)
}
