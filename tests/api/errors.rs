//! Framework failures (unknown route, wrong method, bad JSON, wrong content type, big bodies)
//! and hostile inputs all render the contract's error body, never a 5xx.

use reqwest::{Method, Response, StatusCode};
use serde_json::{Value, json};

use support::{TestApp, assert_error, assert_validation, error_entries, spawn_app};

const JSON: &str = "application/json";
const UNSUPPORTED: &str = "Content type must be application/json";

/// An endpoint that takes a JSON body: method, path, and the bearer token it needs.
struct Endpoint {
    method: Method,
    path: String,
    token: Option<String>,
}

/// Every endpoint with a JSON body; the ticket ones as the owner of an existing ticket.
async fn body_endpoints(app: &TestApp) -> Vec<Endpoint> {
    let user = app.new_user().await;
    let ticket = app.create_ticket(&user, "Concert", json!(10)).await;
    let ticket_path = format!("/api/tickets/{}", ticket["id"].as_str().unwrap());
    let endpoint = |method: Method, path: &str, token: Option<&str>| Endpoint {
        method,
        path: path.to_owned(),
        token: token.map(str::to_owned),
    };
    vec![
        endpoint(Method::POST, "/api/users/signup", None),
        endpoint(Method::POST, "/api/users/signin", None),
        endpoint(Method::POST, "/api/users/token", None),
        endpoint(Method::POST, "/api/tickets", Some(&user.token)),
        endpoint(Method::PUT, &ticket_path, Some(&user.token)),
    ]
}

fn signup_endpoint() -> Endpoint {
    Endpoint {
        method: Method::POST,
        path: "/api/users/signup".to_owned(),
        token: None,
    }
}

/// Sends `body` as is, with this content type (none when `None`).
async fn send_raw(
    app: &TestApp,
    endpoint: &Endpoint,
    content_type: Option<&str>,
    body: impl Into<reqwest::Body>,
) -> Response {
    let mut request = app
        .client
        .request(endpoint.method.clone(), app.url(&endpoint.path))
        .body(body);
    if let Some(token) = &endpoint.token {
        request = request.bearer_auth(token);
    }
    if let Some(content_type) = content_type {
        request = request.header("content-type", content_type);
    }
    request.send().await.expect("the request is sent")
}

/// Asserts a 400 with one entry, no field, whose message starts with `Invalid JSON body`.
async fn assert_invalid_json(response: Response, what: &str) {
    let entries = error_entries(response, StatusCode::BAD_REQUEST).await;
    assert_eq!(entries.len(), 1, "{what}: {entries:?}");
    let (message, field) = &entries[0];
    assert!(
        message.starts_with("Invalid JSON body"),
        "{what}: {message}"
    );
    assert_eq!(field, &None, "{what}");
}

/// Asserts a 4xx with the contract's error body (whatever the entries say).
async fn assert_client_error(response: Response, what: &str) {
    let status = response.status();
    assert!(status.is_client_error(), "{what}: answered {status}");
    error_entries(response, status).await;
}

#[tokio::test]
async fn an_unknown_route_is_404() {
    let app = spawn_app().await;
    for path in ["/api/nope", "/nope", "/api/users/nope", "/api/tickets/a/b"] {
        let response = app.get(path, None).await;
        assert_error(response, StatusCode::NOT_FOUND, "Not Found").await;
    }
    let response = app.post("/api/nope", None, &json!({})).await;
    assert_error(response, StatusCode::NOT_FOUND, "Not Found").await;
}

#[tokio::test]
async fn a_wrong_method_is_405() {
    let app = spawn_app().await;
    let cases = [
        (Method::DELETE, "/api/users/signup", "POST"),
        (Method::GET, "/api/users/signin", "POST"),
        (Method::DELETE, "/api/tickets", "GET, POST"),
        (Method::POST, "/api/users/currentuser", "GET"),
        (
            Method::POST,
            "/api/orders/6c1b1f0e-7d0a-4d3e-9a57-0c9a3e3c1d10",
            "DELETE, GET",
        ),
    ];
    for (method, path, allowed) in cases {
        let response = app.browser().send(method.clone(), path, None, None).await;
        // The answer says which methods the path takes.
        let allow = response
            .headers()
            .get("allow")
            .map(|v| v.to_str().unwrap().to_owned());
        let mut methods: Vec<String> = allow
            .unwrap_or_default()
            .split(", ")
            .map(str::to_owned)
            .collect();
        methods.sort();
        assert_eq!(methods.join(", "), allowed, "{method} {path}");
        assert_error(
            response,
            StatusCode::METHOD_NOT_ALLOWED,
            "Method Not Allowed",
        )
        .await;
    }
}

#[tokio::test]
async fn malformed_json_is_400_invalid_json_body() {
    let app = spawn_app().await;
    for endpoint in body_endpoints(&app).await {
        for body in [r#"{"email":"#, "{", "not json", r#"{"title": "x",}"#, ""] {
            let response = send_raw(&app, &endpoint, Some(JSON), body).await;
            assert_invalid_json(response, &format!("{} {body:?}", endpoint.path)).await;
        }
    }
}

#[tokio::test]
async fn a_json_body_that_is_not_an_object_is_400_invalid_json_body() {
    let app = spawn_app().await;
    for endpoint in body_endpoints(&app).await {
        for body in ["[]", r#""x""#, "42"] {
            let response = send_raw(&app, &endpoint, Some(JSON), body).await;
            assert_invalid_json(response, &format!("{} {body}", endpoint.path)).await;
        }
    }
}

#[tokio::test]
async fn a_body_that_is_not_declared_json_is_415() {
    let app = spawn_app().await;
    for endpoint in body_endpoints(&app).await {
        let body = r#"{"email":"a@example.com","password":"secret","title":"T","price":1}"#;
        for content_type in [
            Some("text/plain"),
            Some("application/x-www-form-urlencoded"),
            None,
        ] {
            let response = send_raw(&app, &endpoint, content_type, body).await;
            assert_eq!(
                response.status(),
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "{} {content_type:?}",
                endpoint.path
            );
            assert_error(response, StatusCode::UNSUPPORTED_MEDIA_TYPE, UNSUPPORTED).await;
        }
    }
}

#[tokio::test]
async fn json_with_a_charset_is_accepted() {
    let app = spawn_app().await;
    let endpoint = signup_endpoint();
    let body = r#"{"email":"a@example.com","password":"secret"}"#;
    let response = send_raw(
        &app,
        &endpoint,
        Some("application/json; charset=utf-8"),
        body,
    )
    .await;
    assert_eq!(response.status(), StatusCode::CREATED);
}

#[tokio::test]
async fn a_body_above_the_limit_is_413() {
    let app = spawn_app().await;
    let endpoint = signup_endpoint();
    let big = json!({"email": "a@example.com", "password": "p".repeat(1024 * 1024)}).to_string();

    let response = send_raw(&app, &endpoint, Some(JSON), big.clone()).await;
    assert_error(response, StatusCode::PAYLOAD_TOO_LARGE, "Payload Too Large").await;

    // The same body in chunks, without a Content-Length.
    let chunks: Vec<Result<Vec<u8>, std::io::Error>> = big
        .as_bytes()
        .chunks(16 * 1024)
        .map(|c| Ok(c.to_vec()))
        .collect();
    let stream = reqwest::Body::wrap_stream(futures_util::stream::iter(chunks));
    let response = send_raw(&app, &endpoint, Some(JSON), stream).await;
    assert_error(response, StatusCode::PAYLOAD_TOO_LARGE, "Payload Too Large").await;

    // Nothing was created.
    let response = app
        .post(
            "/api/users/signin",
            None,
            &json!({"email": "a@example.com", "password": "pppp"}),
        )
        .await;
    assert_error(response, StatusCode::BAD_REQUEST, "Invalid credentials").await;
}

/// JSON values of every type but strings.
fn non_strings() -> Vec<Value> {
    vec![
        json!(42),
        json!(1.5),
        json!([]),
        json!(["a@example.com"]),
        json!({}),
        json!({"value": "a@example.com"}),
        json!(null),
        json!(true),
        json!(false),
    ]
}

/// JSON values that are neither numbers nor numeric strings.
fn non_numbers() -> Vec<Value> {
    vec![
        json!([]),
        json!([10]),
        json!({}),
        json!({"amount": 10}),
        json!(null),
        json!(true),
        json!(false),
        json!("ten"),
    ]
}

/// `assert_validation`, naming the request when the status is not 400.
async fn assert_validation_for(what: &str, response: Response, expected: &[(&str, &str)]) {
    assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{what}");
    assert_validation(response, expected).await;
}

#[tokio::test]
async fn wrong_types_in_user_fields_are_validation_errors() {
    let app = spawn_app().await;
    let email_invalid = ("Email must be valid", "email");
    let password_length = ("Password must be between 4 and 128 characters", "password");
    for value in non_strings() {
        for path in ["/api/users/signup", "/api/users/signin", "/api/users/token"] {
            let body = json!({"email": value, "password": "correct horse"});
            let response = app.post(path, None, &body).await;
            assert_validation_for(&format!("{path} {body}"), response, &[email_invalid]).await;

            let body = json!({"email": "a@example.com", "password": value});
            let response = app.post(path, None, &body).await;
            if path == "/api/users/signup" {
                assert_validation_for(&format!("{path} {body}"), response, &[password_length])
                    .await;
            } else {
                // Signin's password rule is "not empty"; a non-string is refused on the field.
                let entries = error_entries(response, StatusCode::BAD_REQUEST).await;
                let fields: Vec<_> = entries.iter().map(|(_, f)| f.as_deref()).collect();
                assert_eq!(fields, [Some("password")], "{path} {body}: {entries:?}");
            }
        }
    }
}

#[tokio::test]
async fn wrong_types_in_ticket_fields_are_validation_errors() {
    let app = spawn_app().await;
    let user = app.new_user().await;
    let ticket = app.create_ticket(&user, "Concert", json!(10)).await;
    let ticket_path = format!("/api/tickets/{}", ticket["id"].as_str().unwrap());
    let title_required = ("Title is required", "title");
    let price_positive = ("Price must be greater than 0", "price");

    let token = Some(user.token.as_str());
    for (method, path) in [(Method::POST, "/api/tickets"), (Method::PUT, &ticket_path)] {
        let cases = non_strings()
            .into_iter()
            .map(|v| (json!({"title": v, "price": 10}), title_required))
            .chain(
                non_numbers()
                    .into_iter()
                    .map(|v| (json!({"title": "Concert", "price": v}), price_positive)),
            );
        for (body, expected) in cases {
            let response = app
                .browser()
                .send(method.clone(), path, token, Some(&body))
                .await;
            assert_validation_for(&format!("{method} {body}"), response, &[expected]).await;
        }
    }
}

#[tokio::test]
async fn huge_strings_within_the_limit_are_validation_errors() {
    let app = spawn_app().await;
    let user = app.new_user().await;
    let huge = "x".repeat(10_000);

    let response = app
        .post(
            "/api/tickets",
            Some(&user.token),
            &json!({"title": huge, "price": 10}),
        )
        .await;
    assert_validation(
        response,
        &[("Title must be at most 200 characters", "title")],
    )
    .await;

    let response = app
        .signup(&format!("{huge}@example.com"), "correct horse")
        .await;
    assert_validation(response, &[("Email must be valid", "email")]).await;

    let response = app.signup("a@example.com", &huge).await;
    assert_validation(
        response,
        &[("Password must be between 4 and 128 characters", "password")],
    )
    .await;

    let response = app
        .post(
            "/api/tickets",
            Some(&user.token),
            &json!({"title": "T", "price": "9".repeat(10_000)}),
        )
        .await;
    assert_validation(response, &[("Price must be at most 1000000", "price")]).await;
}

/// Bodies no endpoint accepts: malformed, the wrong shape, or missing what every endpoint needs.
fn malformed_bodies() -> Vec<Vec<u8>> {
    let mut bodies: Vec<Vec<u8>> = [
        "{",
        "}",
        "[]",
        "null",
        "true",
        r#""x""#,
        "42",
        "{}",
        "{} {}",
        r#"{"email": {}}"#,
        r#"{"password": []}"#,
        r#"{"title": [1, 2]}"#,
        r#"{"price": "1e400"}"#,
        r#"{"price": 1e400}"#,
        r#"{"price": -0}"#,
        r#"{"price": "NaN"}"#,
        r#"{"price": "Infinity"}"#,
        r#"{"title": "\u0000", "price": null}"#,
        r#"{"title": "\ud800", "email": 1}"#,
        r#"{"title": "a", "title": "b"}"#,
        r#"{"email": "a@example.com", "email": "b@example.com"}"#,
        "\u{feff}{}",
    ]
    .iter()
    .map(|b| b.as_bytes().to_vec())
    .collect();
    bodies.push(b"{\"title\": \"\xff\xfe\", \"email\": \"\xff\"}".to_vec());
    bodies.push(format!("{}{}", "[".repeat(5_000), "]".repeat(5_000)).into_bytes());
    bodies.push(format!("{}1{}", r#"{"a":"#.repeat(2_000), "}".repeat(2_000)).into_bytes());
    bodies
}

#[tokio::test]
async fn malformed_bodies_never_cause_a_server_error() {
    let app = spawn_app().await;
    for endpoint in body_endpoints(&app).await {
        for body in malformed_bodies() {
            let what = format!("{} {}", endpoint.path, String::from_utf8_lossy(&body));
            let response = send_raw(&app, &endpoint, Some(JSON), body).await;
            assert_client_error(response, &what).await;
        }
    }
    // And the app is still up.
    assert_eq!(app.get("/healthz", None).await.status(), StatusCode::OK);
}
