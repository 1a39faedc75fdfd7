//! Authentication: signup, signin, token, signout, currentuser, and the session cookie and JWT.
//!
//! Longer than 500 lines on purpose: one file per table of the HTTP contract
//! (`../shared/docs/api-contract.md`), each row a test here, so a reader finds every rule of an
//! area in one place; the shared helpers live in `tests/support`.

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use reqwest::{Response, StatusCode};
use serde_json::{Value, json};

use support::{JWT_KEY, TestApp, assert_error, assert_validation, spawn_app, spawn_app_with};

const EMAIL: &str = "buyer@example.com";
const PASSWORD: &str = "s3cret-Pa55word";

const EMAIL_INVALID: (&str, &str) = ("Email must be valid", "email");
const PASSWORD_LENGTH: (&str, &str) = ("Password must be between 4 and 128 characters", "password");
const PASSWORD_MISSING: (&str, &str) = ("You must supply a password", "password");

// ---------------------------------------------------------------------------------------------
// Local helpers
// ---------------------------------------------------------------------------------------------

/// A `Set-Cookie` header, parsed: `name=value` and its attributes (names lower-cased).
#[derive(Debug)]
struct SetCookie {
    value: String,
    attributes: Vec<(String, Option<String>)>,
}

impl SetCookie {
    fn attribute(&self, name: &str) -> Option<Option<&str>> {
        self.attributes
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_deref())
    }
}

/// The raw `Set-Cookie` header for `session` (the response must have exactly one).
fn raw_session_cookie(response: &Response) -> String {
    let cookies: Vec<String> = response
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .filter(|v| v.starts_with("session="))
        .collect();
    assert_eq!(cookies.len(), 1, "one session cookie expected: {cookies:?}");
    cookies.into_iter().next().unwrap()
}

fn session_cookie(response: &Response) -> SetCookie {
    let raw = raw_session_cookie(response);
    let mut parts = raw.split(';').map(str::trim);
    let (name, value) = parts.next().unwrap().split_once('=').unwrap();
    assert_eq!(name, "session");
    let attributes = parts
        .filter(|p| !p.is_empty())
        .map(|p| match p.split_once('=') {
            Some((n, v)) => (n.trim().to_ascii_lowercase(), Some(v.trim().to_owned())),
            None => (p.to_ascii_lowercase(), None),
        })
        .collect();
    SetCookie {
        value: value.to_owned(),
        attributes,
    }
}

/// Asserts the session cookie's exact format and returns the JWT inside it.
fn assert_session_cookie(response: &Response, secure: bool) -> String {
    let cookie = session_cookie(response);
    assert_eq!(cookie.attribute("path"), Some(Some("/")), "{cookie:?}");
    assert_eq!(cookie.attribute("httponly"), Some(None), "{cookie:?}");
    let same_site = cookie.attribute("samesite").flatten().unwrap_or_default();
    assert!(same_site.eq_ignore_ascii_case("lax"), "{cookie:?}");
    assert_eq!(
        cookie.attribute("max-age"),
        Some(Some("86400")),
        "{cookie:?}"
    );
    assert_eq!(cookie.attribute("secure").is_some(), secure, "{cookie:?}");
    let mut names: Vec<&str> = cookie.attributes.iter().map(|(n, _)| n.as_str()).collect();
    names.sort_unstable();
    let mut expected = vec!["httponly", "max-age", "path", "samesite"];
    if secure {
        expected.push("secure");
    }
    expected.sort_unstable();
    assert_eq!(names, expected, "unexpected cookie attributes: {cookie:?}");

    let decoded = STANDARD
        .decode(&cookie.value)
        .expect("the cookie value is standard base64");
    let session: Value = serde_json::from_slice(&decoded).expect("the cookie holds JSON");
    let object = session.as_object().expect("the cookie holds a JSON object");
    assert_eq!(object.len(), 1, "only `jwt` in the cookie: {session}");
    session["jwt"]
        .as_str()
        .expect("`jwt` is a string")
        .to_owned()
}

/// Verifies a token the app issued (HS256, our key) and returns its claims.
fn claims(token: &str) -> Value {
    let header = jsonwebtoken::decode_header(token).expect("a JWT header");
    assert_eq!(header.alg, Algorithm::HS256);
    let data = jsonwebtoken::decode::<Value>(
        token,
        &DecodingKey::from_secret(JWT_KEY.as_bytes()),
        &Validation::new(Algorithm::HS256),
    )
    .expect("the JWT verifies with our key");
    let claims = data.claims;
    assert!(claims["id"].is_string(), "{claims}");
    assert!(claims["email"].is_string(), "{claims}");
    let iat = claims["iat"].as_i64().expect("`iat` is an integer");
    let exp = claims["exp"].as_i64().expect("`exp` is an integer");
    assert_eq!(
        exp - iat,
        86_400,
        "exp - iat is the configured TTL (the default)"
    );
    let now = chrono::Utc::now().timestamp();
    assert!((iat - now).abs() <= 60, "iat {iat} is about now ({now})");
    assert!(claims.get("password").is_none());
    claims
}

/// Asserts a `{id,email}` user body and returns it.
async fn user_body(response: Response, status: StatusCode, email: &str) -> Value {
    assert_eq!(response.status(), status);
    let body: Value = response.json().await.unwrap();
    let mut keys: Vec<&String> = body.as_object().expect("an object").keys().collect();
    keys.sort();
    assert_eq!(keys, ["email", "id"], "{body}");
    uuid::Uuid::parse_str(body["id"].as_str().unwrap()).expect("the id is a UUID");
    assert_eq!(body["email"], email);
    body
}

async fn signin(app: &TestApp, email: &str, password: &str) -> Response {
    app.post(
        "/api/users/signin",
        None,
        &json!({"email": email, "password": password}),
    )
    .await
}

async fn token(app: &TestApp, email: &str, password: &str) -> Response {
    app.post(
        "/api/users/token",
        None,
        &json!({"email": email, "password": password}),
    )
    .await
}

/// `GET /api/users/currentuser` with this client and optional bearer token.
async fn current_user_with(
    app: &TestApp,
    client: &reqwest::Client,
    token: Option<&str>,
    cookie: Option<&str>,
) -> Value {
    let mut request = client.get(app.url("/api/users/currentuser"));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    if let Some(cookie) = cookie {
        request = request.header("cookie", cookie);
    }
    let response = request.send().await.unwrap();
    assert_eq!(
        response.status(),
        StatusCode::OK,
        "currentuser is never 401"
    );
    response.json().await.unwrap()
}

async fn current_user(app: &TestApp, token: Option<&str>) -> Value {
    let body = current_user_with(app, &app.client, token, None).await;
    body["currentUser"].clone()
}

/// `POST /api/tickets` with a valid body, authenticated by a bearer token or a raw cookie.
async fn create_ticket_as(app: &TestApp, token: Option<&str>, cookie: Option<&str>) -> Response {
    let mut request = reqwest::Client::new()
        .post(app.url("/api/tickets"))
        .json(&json!({"title": "Concert", "price": 20}));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    if let Some(cookie) = cookie {
        request = request.header("cookie", cookie);
    }
    request.send().await.unwrap()
}

/// A `Cookie` request header carrying `token` the way the app does.
fn cookie_for(token: &str) -> String {
    format!(
        "session={}",
        STANDARD.encode(json!({"jwt": token}).to_string())
    )
}

/// A token with these claims, signed with `key` under `alg`.
fn forge(alg: Algorithm, key: &str, claims: &Value) -> String {
    jsonwebtoken::encode(
        &Header::new(alg),
        claims,
        &EncodingKey::from_secret(key.as_bytes()),
    )
    .unwrap()
}

fn claims_for(id: &str, email: &str, iat: i64, exp: i64) -> Value {
    json!({"id": id, "email": email, "iat": iat, "exp": exp})
}

fn assert_no_password(text: &str, password: &str) {
    assert!(!text.contains(password), "the password leaked: {text}");
    assert!(!text.contains("$argon2"), "a password hash leaked: {text}");
}

// ---------------------------------------------------------------------------------------------
// Signup
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn signup_returns_201_the_user_and_a_session_cookie() {
    let app = spawn_app().await;

    let response = app.signup(EMAIL, PASSWORD).await;

    let jwt = assert_session_cookie(&response, false);
    let user = user_body(response, StatusCode::CREATED, EMAIL).await;
    let claims = claims(&jwt);
    assert_eq!(claims["id"], user["id"]);
    assert_eq!(claims["email"], EMAIL);
}

#[tokio::test]
async fn the_session_cookie_is_secure_only_when_configured() {
    let app = spawn_app_with(|c| c.cookie_secure = true).await;

    let response = app.signup(EMAIL, PASSWORD).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    assert_session_cookie(&response, true);

    let response = signin(&app, EMAIL, PASSWORD).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_session_cookie(&response, true);
}

#[tokio::test]
async fn signup_rejects_an_invalid_email() {
    let app = spawn_app().await;
    let bad_emails = [
        json!("not-an-email"),
        json!(""),
        json!("   "),
        json!("user@"),
        json!("@example.com"),
        json!(42),
        json!(["user@example.com"]),
        json!(null),
    ];
    for email in bad_emails {
        let body = json!({"email": email, "password": PASSWORD});
        let response = app.post("/api/users/signup", None, &body).await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{body}");
        assert_validation(response, &[EMAIL_INVALID]).await;
    }
    let response = app
        .post("/api/users/signup", None, &json!({"password": PASSWORD}))
        .await;
    assert_validation(response, &[EMAIL_INVALID]).await;
}

#[tokio::test]
async fn signup_rejects_a_password_too_short_or_too_long_after_trimming() {
    let app = spawn_app().await;
    let bad_passwords = [
        json!(""),
        json!("abc"),
        json!("   "),
        json!("  ab  "),
        json!("a".repeat(129)),
        json!(format!("  {}  ", "a".repeat(129))),
        json!(12345),
    ];
    for password in bad_passwords {
        let body = json!({"email": EMAIL, "password": password});
        let response = app.post("/api/users/signup", None, &body).await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{body}");
        assert_validation(response, &[PASSWORD_LENGTH]).await;
    }
    let response = app
        .post("/api/users/signup", None, &json!({"email": EMAIL}))
        .await;
    assert_validation(response, &[PASSWORD_LENGTH]).await;
}

#[tokio::test]
async fn signup_accepts_passwords_of_4_and_128_characters() {
    let app = spawn_app().await;
    let passwords = [
        "abcd".to_owned(),
        "  abcd  ".to_owned(),
        "a".repeat(128),
        format!(" {} ", "a".repeat(128)),
    ];
    for (i, password) in passwords.iter().enumerate() {
        let email = format!("user{i}@example.com");
        let response = app.signup(&email, password).await;
        user_body(response, StatusCode::CREATED, &email).await;
    }
}

#[tokio::test]
async fn signup_reports_both_invalid_fields_email_first() {
    let app = spawn_app().await;
    let response = app.signup("nope", "ab").await;
    assert_validation(response, &[EMAIL_INVALID, PASSWORD_LENGTH]).await;

    let response = app.post("/api/users/signup", None, &json!({})).await;
    assert_validation(response, &[EMAIL_INVALID, PASSWORD_LENGTH]).await;
}

#[tokio::test]
async fn signup_refuses_an_email_in_use_whatever_its_case() {
    let app = spawn_app().await;
    assert_eq!(
        app.signup(EMAIL, PASSWORD).await.status(),
        StatusCode::CREATED
    );

    for email in [EMAIL, "Buyer@Example.com", "BUYER@EXAMPLE.COM"] {
        let response = app.signup(email, "another password").await;
        assert_error(response, StatusCode::BAD_REQUEST, "Email in use").await;
    }
}

// ---------------------------------------------------------------------------------------------
// Signin and token
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn signin_returns_200_the_user_and_a_session_cookie() {
    let app = spawn_app().await;
    let signed_up = user_body(
        app.signup(EMAIL, PASSWORD).await,
        StatusCode::CREATED,
        EMAIL,
    )
    .await;

    let response = signin(&app, EMAIL, PASSWORD).await;

    let jwt = assert_session_cookie(&response, false);
    let user = user_body(response, StatusCode::OK, EMAIL).await;
    assert_eq!(user["id"], signed_up["id"]);
    assert_eq!(claims(&jwt)["id"], user["id"]);
}

#[tokio::test]
async fn signin_and_token_refuse_bad_credentials_with_the_same_message() {
    let app = spawn_app().await;
    assert_eq!(
        app.signup(EMAIL, PASSWORD).await.status(),
        StatusCode::CREATED
    );

    for (email, password) in [("nobody@example.com", PASSWORD), (EMAIL, "wrong password")] {
        let response = signin(&app, email, password).await;
        assert_error(response, StatusCode::BAD_REQUEST, "Invalid credentials").await;
        let response = token(&app, email, password).await;
        assert_error(response, StatusCode::BAD_REQUEST, "Invalid credentials").await;
    }
}

#[tokio::test]
async fn signin_and_token_validate_their_fields() {
    let app = spawn_app().await;
    for path in ["/api/users/signin", "/api/users/token"] {
        let cases = [
            (
                json!({"email": EMAIL, "password": ""}),
                vec![PASSWORD_MISSING],
            ),
            (
                json!({"email": EMAIL, "password": "   "}),
                vec![PASSWORD_MISSING],
            ),
            (json!({"email": EMAIL}), vec![PASSWORD_MISSING]),
            (
                json!({"email": "nope", "password": PASSWORD}),
                vec![EMAIL_INVALID],
            ),
            (json!({"password": PASSWORD}), vec![EMAIL_INVALID]),
            (
                json!({"email": "nope", "password": ""}),
                vec![EMAIL_INVALID, PASSWORD_MISSING],
            ),
        ];
        for (body, expected) in cases {
            let response = app.post(path, None, &body).await;
            assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{path} {body}");
            assert_validation(response, &expected).await;
        }
    }
}

#[tokio::test]
async fn token_returns_a_bearer_token_and_its_expiry() {
    let app = spawn_app().await;
    let user = user_body(
        app.signup(EMAIL, PASSWORD).await,
        StatusCode::CREATED,
        EMAIL,
    )
    .await;

    let response = token(&app, EMAIL, PASSWORD).await;

    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    let mut keys: Vec<&String> = body.as_object().unwrap().keys().collect();
    keys.sort();
    assert_eq!(keys, ["expiresAt", "token"], "{body}");
    let jwt = body["token"].as_str().unwrap();
    let claims = claims(jwt);
    assert_eq!(claims["id"], user["id"]);

    let expires_at = body["expiresAt"].as_str().unwrap();
    assert_iso_millis_utc(expires_at);
    let expires_at = chrono::DateTime::parse_from_rfc3339(expires_at).unwrap();
    let exp = claims["exp"].as_i64().unwrap();
    assert!(
        (expires_at.timestamp() - exp).abs() <= 1,
        "expiresAt {expires_at} matches exp {exp}"
    );

    let me = current_user_with(&app, &reqwest::Client::new(), Some(jwt), None).await;
    assert_eq!(me["currentUser"]["id"], user["id"]);
}

/// `2026-11-23T10:15:00.000Z`: UTC, with milliseconds.
fn assert_iso_millis_utc(text: &str) {
    let shape_ok = text.len() == 24
        && text.chars().enumerate().all(|(i, c)| match i {
            4 | 7 => c == '-',
            10 => c == 'T',
            13 | 16 => c == ':',
            19 => c == '.',
            23 => c == 'Z',
            _ => c.is_ascii_digit(),
        });
    assert!(shape_ok, "not ISO-8601 UTC with milliseconds: {text}");
}

// ---------------------------------------------------------------------------------------------
// Signout and currentuser
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn signout_clears_the_cookie_and_signs_the_browser_out() {
    let app = spawn_app().await;
    assert_eq!(
        app.signup(EMAIL, PASSWORD).await.status(),
        StatusCode::CREATED
    );
    assert!(
        current_user(&app, None).await.is_object(),
        "signed in by signup"
    );

    let response = app
        .browser()
        .send(reqwest::Method::POST, "/api/users/signout", None, None)
        .await;

    assert_eq!(response.status(), StatusCode::OK);
    let raw = raw_session_cookie(&response);
    assert!(raw.starts_with("session=;"), "{raw}");
    let cleared = session_cookie(&response);
    assert_eq!(cleared.attribute("path"), Some(Some("/")), "{raw}");
    assert_eq!(cleared.attribute("max-age"), Some(Some("0")), "{raw}");
    assert_eq!(response.json::<Value>().await.unwrap(), json!({}));
    assert_eq!(current_user(&app, None).await, Value::Null);
}

#[tokio::test]
async fn signout_accepts_an_empty_json_body_and_a_signed_out_caller() {
    let app = spawn_app().await;
    let response = app.post("/api/users/signout", None, &json!({})).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.json::<Value>().await.unwrap(), json!({}));
}

#[tokio::test]
async fn currentuser_reads_the_session_cookie() {
    let app = spawn_app().await;
    let response = app.signup(EMAIL, PASSWORD).await;
    let jwt = assert_session_cookie(&response, false);
    let user = user_body(response, StatusCode::CREATED, EMAIL).await;

    let me = current_user(&app, None).await;

    let mut keys: Vec<&String> = me.as_object().expect("a user").keys().collect();
    keys.sort();
    assert_eq!(keys, ["email", "iat", "id"], "{me}");
    assert_eq!(me["id"], user["id"]);
    assert_eq!(me["email"], EMAIL);
    assert!(me["iat"].is_number(), "{me}");
    assert_eq!(me["iat"], claims(&jwt)["iat"]);
}

#[tokio::test]
async fn currentuser_reads_a_bearer_token() {
    let app = spawn_app().await;
    let user = app.new_user().await;

    let me = current_user(&app, Some(&user.token)).await;

    assert_eq!(me["id"], user.id.as_str());
    assert_eq!(me["email"], user.email.as_str());
    assert!(me["iat"].is_number(), "{me}");
}

#[tokio::test]
async fn currentuser_is_null_when_signed_out_never_401() {
    let app = spawn_app().await;
    let client = reqwest::Client::new();
    assert_eq!(
        current_user_with(&app, &client, None, None).await,
        json!({"currentUser": null})
    );
    for token in ["garbage", "a.b.c", "Bearer", "..."] {
        let body = current_user_with(&app, &client, Some(token), None).await;
        assert_eq!(body, json!({"currentUser": null}), "token {token:?}");
    }
    for cookie in ["session=", "session=garbage", "session=%%%", "other=1"] {
        let body = current_user_with(&app, &client, None, Some(cookie)).await;
        assert_eq!(body, json!({"currentUser": null}), "cookie {cookie:?}");
    }
}

#[tokio::test]
async fn tokens_forged_the_right_way_are_accepted() {
    // The control for the next test: a token made like the app's works in both carriers.
    let app = spawn_app().await;
    let user = app.new_user().await;
    let now = chrono::Utc::now().timestamp();
    let jwt = forge(
        Algorithm::HS256,
        JWT_KEY,
        &claims_for(&user.id, &user.email, now, now + 3600),
    );

    let response = create_ticket_as(&app, Some(&jwt), None).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let response = create_ticket_as(&app, None, Some(&cookie_for(&jwt))).await;
    assert_eq!(response.status(), StatusCode::CREATED);
}

#[tokio::test]
async fn rejected_tokens_count_as_signed_out() {
    let app = spawn_app().await;
    let user = app.new_user().await;
    let now = chrono::Utc::now().timestamp();
    let good = claims_for(&user.id, &user.email, now, now + 3600);
    let expired = claims_for(&user.id, &user.email, now - 7200, now - 3600);
    let none = format!(
        "{}.{}.",
        URL_SAFE_NO_PAD.encode(r#"{"alg":"none","typ":"JWT"}"#),
        URL_SAFE_NO_PAD.encode(good.to_string())
    );
    let tokens = [
        (
            "another key",
            forge(
                Algorithm::HS256,
                "another-key-0123456789abcdef0123456789ab",
                &good,
            ),
        ),
        ("alg none", none),
        ("HS384", forge(Algorithm::HS384, JWT_KEY, &good)),
        ("HS512", forge(Algorithm::HS512, JWT_KEY, &good)),
        ("expired", forge(Algorithm::HS256, JWT_KEY, &expired)),
        ("garbage", "garbage".to_owned()),
    ];

    let mut cases: Vec<(String, Option<String>, Option<String>)> = Vec::new();
    for (what, token) in &tokens {
        cases.push((format!("bearer {what}"), Some(token.clone()), None));
        cases.push((format!("cookie {what}"), None, Some(cookie_for(token))));
    }
    let valid = forge(Algorithm::HS256, JWT_KEY, &good);
    let odd_cookies = [
        ("not base64", "session=%%%not-base64%%%".to_owned()),
        ("not JSON", format!("session={}", STANDARD.encode("hello"))),
        (
            "jwt not a string",
            format!("session={}", STANDARD.encode(r#"{"jwt":42}"#)),
        ),
        (
            "token under another key",
            format!(
                "session={}",
                STANDARD.encode(json!({"token": valid}).to_string())
            ),
        ),
        ("a bare JWT", format!("session={valid}")),
    ];
    for (what, cookie) in odd_cookies {
        cases.push((format!("cookie {what}"), None, Some(cookie)));
    }

    let client = reqwest::Client::new();
    for (what, token, cookie) in cases {
        let response = create_ticket_as(&app, token.as_deref(), cookie.as_deref()).await;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "{what}");
        assert_error(response, StatusCode::UNAUTHORIZED, "Not authorized").await;
        let me = current_user_with(&app, &client, token.as_deref(), cookie.as_deref()).await;
        assert_eq!(me, json!({"currentUser": null}), "{what}");
    }
}

// ---------------------------------------------------------------------------------------------
// Passwords never leak
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn passwords_never_appear_in_a_response() {
    let app = spawn_app().await;
    let too_long = format!("{PASSWORD}{}", "x".repeat(130));
    let body = |email: &str, password: &str| json!({"email": email, "password": password});
    let requests = [
        ("/api/users/signup", body(EMAIL, PASSWORD)),
        ("/api/users/signup", body(EMAIL, PASSWORD)),
        ("/api/users/signup", body("other@example.com", &too_long)),
        ("/api/users/signup", body("nope", PASSWORD)),
        ("/api/users/signin", body(EMAIL, PASSWORD)),
        ("/api/users/signin", body(EMAIL, "wrong-Pa55word")),
        ("/api/users/token", body(EMAIL, PASSWORD)),
    ];
    for (path, body) in &requests {
        let response = app.post(path, None, body).await;
        assert!(!response.status().is_server_error(), "{path}");
        let text = response.text().await.unwrap();
        assert_no_password(&text, body["password"].as_str().unwrap());
    }
    let text = app
        .get("/api/users/currentuser", None)
        .await
        .text()
        .await
        .unwrap();
    assert_no_password(&text, PASSWORD);
}
