//! Hostile clients: where a sign-in may send the browser, control characters in text, the
//! credential rate limits, sign-out revoking tokens, the `Authorization` scheme's case, and the
//! security headers.

use std::time::{Duration, Instant};

use api::limits::CredentialLimits;
use reqwest::{StatusCode, header};
use serde_json::json;
use support::{TestApp, assert_error, error_entries, id_of, spawn_app, spawn_app_with};

const PASSWORD: &str = "correct horse";
/// A CSRF token of the shape the pages issue (48 hex digits), sent as cookie and field alike.
const CSRF: &str = "0123456789abcdef0123456789abcdef0123456789abcdef";

/// `POST /auth/signin?next=<next>` from the sign-in form, as a browser sends it.
async fn sign_in_form(app: &TestApp, email: &str, password: &str, next: &str) -> reqwest::Response {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .post(format!("{}/auth/signin?next={next}", app.address))
        .header(header::COOKIE, format!("csrf={CSRF}"))
        .form(&[("email", email), ("password", password), ("csrf", CSRF)])
        .send()
        .await
        .unwrap()
}

fn location(response: &reqwest::Response) -> Option<&str> {
    response
        .headers()
        .get(header::LOCATION)
        .and_then(|v| v.to_str().ok())
}

#[tokio::test]
async fn signing_in_redirects_only_to_a_path_of_this_site() {
    let app = spawn_app().await;
    let user = app.new_user().await;
    // As the query string carries them: tab, newline, NUL, backslash, two slashes, other hosts.
    for away in [
        "/%09/evil.example",
        "/%0a/evil.example",
        "/%0d/evil.example",
        "/%00/evil.example",
        "/%5Cevil.example",
        "%5C/evil.example",
        "//evil.example",
        "///evil.example",
        "https://evil.example",
        "/%20/evil.example",
        "/caf%C3%A9",
    ] {
        let response = sign_in_form(&app, &user.email, PASSWORD, away).await;
        assert_eq!(response.status(), StatusCode::SEE_OTHER, "{away}");
        assert_eq!(location(&response), Some("/"), "{away}");
    }
    let response = sign_in_form(&app, &user.email, PASSWORD, "/orders?page=2").await;
    assert_eq!(location(&response), Some("/orders?page=2"));
}

#[tokio::test]
async fn control_characters_in_a_title_are_refused_on_the_field() {
    let app = spawn_app().await;
    let seller = app.new_user().await;
    let message = "Title must not contain control characters (such as NUL, tabs or line breaks)";
    for title in ["a\u{0}b", "a\nb", "a\u{1b}[31mb"] {
        let body = json!({"title": title, "price": 5});
        let created = app.post("/api/tickets", Some(&seller.token), &body).await;
        let entries = error_entries(created, StatusCode::BAD_REQUEST).await;
        assert_eq!(
            entries,
            [(message.to_owned(), Some("title".to_owned()))],
            "{title:?}"
        );
    }
    let ticket = app.create_ticket(&seller, "Fine", json!(5)).await;
    let body = json!({"title": "a\u{0}b", "price": 5});
    let updated = app
        .put(
            &format!("/api/tickets/{}", id_of(&ticket)),
            Some(&seller.token),
            &body,
        )
        .await;
    let entries = error_entries(updated, StatusCode::BAD_REQUEST).await;
    assert_eq!(entries, [(message.to_owned(), Some("title".to_owned()))]);
    // The ticket is as it was.
    let shown = app
        .get(&format!("/api/tickets/{}", id_of(&ticket)), None)
        .await;
    assert_eq!(
        shown.json::<serde_json::Value>().await.unwrap()["title"],
        "Fine"
    );
}

/// An app whose credential limits are small enough to reach in a test.
async fn limited_app(per_account: u32, per_address: u32) -> TestApp {
    spawn_app_with(|settings| {
        settings.credential_limits = CredentialLimits {
            per_account,
            per_address,
            // One attempt back every 12 s / limit: 3 s for a limit of 4.
            window: Duration::from_secs(12),
        };
    })
    .await
}

async fn token_for(app: &TestApp, email: &str, password: &str) -> reqwest::Response {
    let body = json!({"email": email, "password": password});
    app.post("/api/users/token", None, &body).await
}

fn retry_after(response: &reqwest::Response) -> u64 {
    response
        .headers()
        .get(header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
        .expect("a Retry-After in seconds")
}

#[tokio::test]
async fn too_many_attempts_for_an_account_are_429_until_the_window_passes() {
    let app = limited_app(4, 1_000).await;
    let user = app.new_user().await;
    // Signing up and getting a token were two attempts; two wrong passwords use up the rest.
    for _ in 0..2 {
        let wrong = token_for(&app, &user.email, "wrong password").await;
        assert_error(wrong, StatusCode::BAD_REQUEST, "Invalid credentials").await;
    }
    let limited = token_for(&app, &user.email, "wrong password").await;
    assert_eq!(
        limited.status(),
        StatusCode::TOO_MANY_REQUESTS,
        "the fifth attempt"
    );
    let wait = retry_after(&limited);
    assert!((1..=3).contains(&wait), "Retry-After: {wait}");
    let entries = error_entries(limited, StatusCode::TOO_MANY_REQUESTS).await;
    assert!(entries[0].0.starts_with("Too many attempts"), "{entries:?}");
    // The right password too, through every door, until the window lets one more through.
    let right = token_for(&app, &user.email, PASSWORD).await;
    assert_eq!(right.status(), StatusCode::TOO_MANY_REQUESTS);
    let body = json!({"email": user.email, "password": PASSWORD});
    let signin = app.post("/api/users/signin", None, &body).await;
    assert_eq!(signin.status(), StatusCode::TOO_MANY_REQUESTS);
    let form = sign_in_form(&app, &user.email, PASSWORD, "/").await;
    assert_eq!(form.status(), StatusCode::TOO_MANY_REQUESTS);
    // Another account is not held back by this one.
    let other = app.new_user().await;
    assert_eq!(token_for(&app, &other.email, PASSWORD).await.status(), 200);

    tokio::time::sleep(Duration::from_secs(wait)).await;
    assert_eq!(token_for(&app, &user.email, PASSWORD).await.status(), 200);
}

#[tokio::test]
async fn too_many_attempts_from_one_address_are_429() {
    let app = limited_app(1_000, 4).await;
    let started = Instant::now();
    let mut statuses = Vec::new();
    for i in 0..6 {
        let body = json!({"email": format!("guess{i}@example.com"), "password": "guess"});
        statuses.push(
            app.post("/api/users/signin", None, &body)
                .await
                .status()
                .as_u16(),
        );
    }
    // Unless the machine took so long that an attempt came back meanwhile.
    if started.elapsed() < Duration::from_millis(2_500) {
        assert_eq!(statuses, [400, 400, 400, 400, 429, 429]);
    }
}

#[tokio::test]
async fn signing_out_revokes_every_token_of_the_user() {
    let app = spawn_app().await;
    let user = app.new_user().await;
    let second: serde_json::Value = token_for(&app, &user.email, PASSWORD)
        .await
        .json()
        .await
        .unwrap();
    let second = second["token"].as_str().unwrap().to_owned();
    assert_eq!(
        app.get("/api/orders", Some(&user.token)).await.status(),
        200
    );

    let out = app
        .post("/api/users/signout", Some(&user.token), &json!({}))
        .await;
    assert_eq!(out.status(), 200);

    for token in [&user.token, &second] {
        assert_eq!(app.get("/api/orders", Some(token)).await.status(), 401);
        let me: serde_json::Value = app
            .get("/api/users/currentuser", Some(token))
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(me["currentUser"], serde_json::Value::Null, "{me}");
    }
    // Signing in again gives a token that works.
    let again: serde_json::Value = token_for(&app, &user.email, PASSWORD)
        .await
        .json()
        .await
        .unwrap();
    let again = again["token"].as_str().unwrap();
    assert_eq!(app.get("/api/orders", Some(again)).await.status(), 200);
}

#[tokio::test]
async fn the_bearer_scheme_is_case_insensitive_everywhere() {
    let app = spawn_app().await;
    let user = app.new_user().await;
    for scheme in ["Bearer", "bearer", "BEARER"] {
        let get = |path: &str| {
            reqwest::Client::new()
                .get(format!("{}{path}", app.address))
                .header(header::AUTHORIZATION, format!("{scheme} {}", user.token))
                .send()
        };
        let me: serde_json::Value = get("/api/users/currentuser")
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(me["currentUser"]["email"], user.email.as_str(), "{scheme}");
        assert_eq!(get("/api/orders").await.unwrap().status(), 200, "{scheme}");
    }
}

#[tokio::test]
async fn pages_and_api_answers_carry_the_security_headers() {
    let app = spawn_app().await;
    let header_of = |response: &reqwest::Response, name: &str| {
        response
            .headers()
            .get(name)
            .map(|v| v.to_str().unwrap().to_owned())
            .unwrap_or_default()
    };
    for path in [
        "/",
        "/auth/signin",
        "/api/tickets",
        "/api/nothing-here",
        "/readyz",
    ] {
        let response = app.get(path, None).await;
        let policy = header_of(&response, "content-security-policy");
        assert!(
            policy.contains("frame-ancestors 'none'"),
            "{path}: {policy}"
        );
        assert!(!policy.contains("unsafe-inline"), "{path}: {policy}");
        assert_eq!(header_of(&response, "x-frame-options"), "DENY", "{path}");
        assert_eq!(
            header_of(&response, "x-content-type-options"),
            "nosniff",
            "{path}"
        );
        assert_eq!(
            header_of(&response, "referrer-policy"),
            "same-origin",
            "{path}"
        );
        // Served over plain HTTP here (COOKIE_SECURE=false): no HSTS.
        assert_eq!(
            header_of(&response, "strict-transport-security"),
            "",
            "{path}"
        );
    }
    let api = app.get("/api/tickets", None).await;
    assert!(header_of(&api, "content-security-policy").starts_with("default-src 'none'"));

    let https = spawn_app_with(|settings| settings.cookie_secure = true).await;
    let response = https.get("/", None).await;
    assert_eq!(
        header_of(&response, "strict-transport-security"),
        "max-age=31536000"
    );
}

/// A `ticketing serve` process of the test's own, ended when dropped.
struct Server(std::process::Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The peak resident memory of a process so far, in MiB (`VmHWM` in `/proc/<pid>/status`).
fn peak_mib(pid: u32) -> u64 {
    memory_mib(pid, "VmHWM:")
}

/// A memory figure of `/proc/<pid>/status` (`VmHWM:`, `VmRSS:`), in MiB.
fn memory_mib(pid: u32, field: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let kib: u64 = status
        .lines()
        .find_map(|line| line.strip_prefix(field))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("the field in /proc/<pid>/status");
    kib / 1024
}

#[tokio::test]
async fn a_hundred_sign_ins_at_once_keep_the_server_under_150_mib() {
    let db = support::TestDatabase::create().await;
    let port = support::ports::free_port();
    let address = format!("127.0.0.1:{port}");
    let server = Server(
        std::process::Command::new(support::binary::ticketing())
            .arg("serve")
            .env("DATABASE_URL", &db.url)
            .env("HTTP_ADDR", &address)
            .env("JWT_KEY", support::JWT_KEY)
            .env("TICKET_CODE_KEY", support::TICKET_CODE_KEY)
            .env("COOKIE_SECURE", "false")
            .env("TEMPORAL_ADDRESS", support::temporal::shared_address())
            .env(
                "TEMPORAL_TASK_QUEUE",
                format!("memory-{}", uuid::Uuid::new_v4().simple()),
            )
            .env("AUTH_ATTEMPTS_PER_ACCOUNT", "1000")
            .env("AUTH_ATTEMPTS_PER_ADDRESS", "1000")
            .env("RUST_LOG", "warn")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("ticketing serve starts"),
    );
    support::ports::wait_for_port(&address, "ticketing serve");
    let api = support::http::Api::new(&format!("http://{address}"));
    let user = api.new_user().await;
    let before = peak_mib(server.0.id());

    let body = json!({"email": user.email, "password": PASSWORD});
    let answers = futures::future::join_all(
        (0..100).map(|_| api.send(reqwest::Method::POST, "/api/users/token", None, Some(&body))),
    )
    .await;

    let statuses: Vec<u16> = answers.iter().map(|a| a.status().as_u16()).collect();
    // Each waits its turn; one that waited too long is shed with 503, never a 500.
    assert!(
        statuses.iter().all(|s| [200, 503].contains(s)),
        "{statuses:?}"
    );
    assert!(
        statuses.iter().filter(|s| **s == 200).count() >= 50,
        "{statuses:?}"
    );
    let peak = peak_mib(server.0.id());
    tokio::time::sleep(Duration::from_millis(500)).await;
    let after = memory_mib(server.0.id(), "VmRSS:");
    eprintln!(
        "ticketing serve: peak {before} MiB before, {peak} MiB during 100 sign-ins at once, \
         {after} MiB resident after"
    );
    assert!(peak < 150, "peak resident memory {peak} MiB");
    // The hashes' memory went back to the system.
    assert!(
        after <= before + 20,
        "{after} MiB resident after, {before} MiB before"
    );
}

#[tokio::test]
async fn what_the_http_layer_refuses_by_itself_still_has_the_contracts_body() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let app = spawn_app().await;
    let huge = "a".repeat(1 << 20);
    let response = reqwest::Client::new()
        .get(app.url("/api/tickets"))
        .header("x-huge", huge)
        .send()
        .await
        .unwrap();
    let entries = error_entries(response, StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE).await;
    assert_eq!(entries[0].0, "Request Header Fields Too Large");

    // A request hyper cannot parse (a header line without a colon), sent by hand.
    let mut raw = tokio::net::TcpStream::connect(app.address.trim_start_matches("http://"))
        .await
        .unwrap();
    raw.write_all(b"GET /api/tickets HTTP/1.1\r\nHost: x\r\nno colon here\r\n\r\n")
        .await
        .unwrap();
    let mut answer = String::new();
    raw.read_to_string(&mut answer).await.unwrap();
    assert!(answer.starts_with("HTTP/1.1 400 "), "{answer}");
    assert!(
        answer.contains("content-type: application/json"),
        "{answer}"
    );
    assert!(
        answer.ends_with(
            r#"{"errors":[{"message":"Bad Request: the request could not be parsed"}]}"#
        ),
        "{answer}"
    );
}
