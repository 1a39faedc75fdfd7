//! `ticketing users grant|revoke ROLE EMAIL` as an operator runs it: one line saying what was
//! done, the same again changes nothing, an email without an account fails, and an unmigrated
//! database is sent to `ticketing migrate`. On SQLite, or on PostgreSQL with TEST_DATABASE_URL.

use std::path::PathBuf;

use devtools::scratch_database::ScratchDatabase;
use entities::{user, user_role};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, EntityTrait};
use support::TestDatabase;

/// What `ticketing users <args>` did: its exit code, its standard output and standard error.
struct Outcome {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

/// Runs `ticketing users <args>` on `database_url`, from a folder of its own (no `.env`).
async fn users(database_url: &str, args: &[&str]) -> Outcome {
    let dir = scratch_dir();
    let output = tokio::process::Command::new(support::binary::ticketing())
        .arg("users")
        .args(args)
        .current_dir(&dir)
        .env("DATABASE_URL", database_url)
        .env_remove("RUST_LOG")
        .output()
        .await
        .expect("ticketing runs");
    let _ = std::fs::remove_dir_all(&dir);
    Outcome {
        code: output.status.code(),
        stdout: String::from_utf8_lossy(&output.stdout).trim().to_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).trim().to_owned(),
    }
}

fn scratch_dir() -> PathBuf {
    let dir =
        std::env::temp_dir().join(format!("ticketing-users-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Succeeded, printing exactly `line`.
fn assert_printed(outcome: &Outcome, line: &str) {
    assert_eq!(outcome.code, Some(0), "{}", outcome.stderr);
    assert_eq!(outcome.stdout, line, "stderr: {}", outcome.stderr);
}

/// Failed with one line on standard error that contains `text`, nothing on standard output.
fn assert_refused(outcome: &Outcome, text: &str) {
    assert_ne!(outcome.code, Some(0), "{}", outcome.stdout);
    assert_eq!(outcome.stdout, "");
    assert_eq!(outcome.stderr.lines().count(), 1, "{}", outcome.stderr);
    assert!(outcome.stderr.contains(text), "{}", outcome.stderr);
}

#[tokio::test]
async fn an_operator_grants_and_revokes_the_door_role_by_email() {
    let db = TestDatabase::create().await;
    let account = user::ActiveModel {
        id: Set(uuid::Uuid::new_v4()),
        email: Set("Door@Example.com".to_owned()),
        email_key: Set("door@example.com".to_owned()),
        password_hash: Set("not-a-hash".to_owned()),
        session_version: Set(0),
        created_at: Set(entities::now()),
    }
    .insert(&db.connection)
    .await
    .unwrap();
    let roles = || async {
        user_role::Entity::find()
            .all(&db.connection)
            .await
            .unwrap()
            .into_iter()
            .map(|row| (row.user_id, row.role))
            .collect::<Vec<_>>()
    };

    // The email in any case names the account; messages give it as it signed up.
    let granted = users(&db.url, &["grant", "door", "DOOR@example.com"]).await;
    assert_printed(&granted, "granted door to Door@Example.com");
    assert_eq!(roles().await, [(account.id, user_role::Role::Door)]);

    let again = users(&db.url, &["grant", "door", "door@example.com"]).await;
    assert_printed(&again, "Door@Example.com already had door");
    assert_eq!(roles().await, [(account.id, user_role::Role::Door)]);

    let revoked = users(&db.url, &["revoke", "door", "door@example.com"]).await;
    assert_printed(&revoked, "revoked door from Door@Example.com");
    assert_eq!(roles().await, []);

    let again = users(&db.url, &["revoke", "door", "door@example.com"]).await;
    assert_printed(&again, "Door@Example.com did not have door");
    assert_eq!(roles().await, []);

    for action in ["grant", "revoke"] {
        let nobody = users(&db.url, &[action, "door", "nobody@example.com"]).await;
        assert_refused(&nobody, "no account has the email nobody@example.com");
    }
    assert_eq!(roles().await, []);

    // Clap refuses an unknown role or a malformed email, naming the argument.
    let unknown = users(&db.url, &["grant", "admin", "door@example.com"]).await;
    assert_refused(&unknown, "ROLE");
    let malformed = users(&db.url, &["grant", "door", "not-an-email"]).await;
    assert_refused(&malformed, "EMAIL");
    assert_eq!(roles().await, []);
}

#[tokio::test]
async fn users_on_an_unmigrated_database_asks_for_migrate() {
    let name = format!("ticketing_test_{}", uuid::Uuid::new_v4().simple());
    let (url, _postgres, sqlite_dir) = match std::env::var("TEST_DATABASE_URL") {
        Ok(server) if server.starts_with("postgres") => {
            let database = ScratchDatabase::create(&server, &name)
                .await
                .expect("PostgreSQL at TEST_DATABASE_URL");
            (database.url.clone(), Some(database), None)
        }
        _ => {
            let dir = scratch_dir();
            let url = format!("sqlite://{}?mode=rwc", dir.join("empty.db").display());
            (url, None, Some(dir))
        }
    };
    let outcome = users(&url, &["grant", "door", "door@example.com"]).await;
    assert_refused(&outcome, "run `ticketing migrate` first");
    if let Some(dir) = sqlite_dir {
        let _ = std::fs::remove_dir_all(dir);
    }
}
