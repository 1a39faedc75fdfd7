//! Unsafe requests signed in by the `session` cookie from another site (its `Origin`, or
//! `Sec-Fetch-Site: cross-site`) are refused with 403 and change nothing; same-site ones, requests
//! that say nothing of where they come from, bearer-token requests and the pages' own forms work.

use reqwest::{Method, Response, StatusCode, header};
use serde_json::{Value, json};
use support::{TestApp, TestUser, assert_error, id_of, spawn_app, spawn_app_with, total_count};

const REFUSED: &str = "Cross-site request refused";
const EVIL: &str = "https://evil.example";
/// A CSRF token of the shape the pages issue, sent as cookie and form field alike.
const CSRF: &str = "0123456789abcdef0123456789abcdef0123456789abcdef";

/// A user signed up through the API, with the `session` cookie it was given (`session=...`) and
/// a bearer token.
pub(crate) struct CookieUser {
    pub user: TestUser,
    pub cookie: String,
}

/// Signs a new user up and keeps the `session` cookie the API set.
pub(crate) async fn cookie_user(app: &TestApp) -> CookieUser {
    let email = format!("cookie-{}@example.com", uuid::Uuid::new_v4().simple());
    let signup = reqwest::Client::new()
        .post(app.url("/api/users/signup"))
        .json(&json!({"email": email, "password": "correct horse"}))
        .send()
        .await
        .unwrap();
    assert_eq!(signup.status(), StatusCode::CREATED);
    let cookie = signup
        .headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("session="))
        .and_then(|v| v.split(';').next())
        .expect("a session cookie")
        .to_owned();
    let id = signup.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let token: Value = reqwest::Client::new()
        .post(app.url("/api/users/token"))
        .json(&json!({"email": email, "password": "correct horse"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let user = TestUser {
        id,
        email,
        token: token["token"].as_str().expect("a token").to_owned(),
    };
    CookieUser { user, cookie }
}

/// A request with no cookie jar and no redirects: only the headers given.
fn send(
    app: &TestApp,
    method: Method,
    path: &str,
    headers: &[(&str, &str)],
) -> reqwest::RequestBuilder {
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let mut request = client.request(method, app.url(path));
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    request
}

async fn create_ticket(app: &TestApp, headers: &[(&str, &str)]) -> Response {
    send(app, Method::POST, "/api/tickets", headers)
        .json(&json!({"title": "Concert", "price": 10}))
        .send()
        .await
        .unwrap()
}

/// How many tickets the user has listed.
async fn listed(app: &TestApp, user: &TestUser) -> u64 {
    let response = app.get("/api/listings", Some(&user.token)).await;
    assert_eq!(response.status(), StatusCode::OK);
    total_count(&response)
}

#[tokio::test]
async fn a_cookie_request_from_another_site_is_403_and_creates_nothing() {
    let app = spawn_app().await;
    let seller = cookie_user(&app).await;
    let cookie = ("cookie", seller.cookie.as_str());

    for from in [
        vec![cookie, ("origin", EVIL)],
        vec![cookie, ("origin", "null")],
        vec![cookie, ("origin", "http://127.0.0.1:1")],
        vec![cookie, ("sec-fetch-site", "cross-site")],
    ] {
        let response = create_ticket(&app, &from).await;
        assert_error(response, StatusCode::FORBIDDEN, REFUSED).await;
    }
    assert_eq!(listed(&app, &seller.user).await, 0, "nothing was created");

    // Nor may another site edit a ticket, cancel an order or sign the user out.
    let ticket = app.create_ticket(&seller.user, "Opera", json!(20)).await;
    let response = send(
        &app,
        Method::PUT,
        &format!("/api/tickets/{}", id_of(&ticket)),
        &[cookie, ("origin", EVIL)],
    )
    .json(&json!({"title": "Hacked", "price": 1}))
    .send()
    .await
    .unwrap();
    assert_error(response, StatusCode::FORBIDDEN, REFUSED).await;
    let stored: Value = app
        .get(&format!("/api/tickets/{}", id_of(&ticket)), None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(stored["title"], "Opera", "{stored}");
    let response = send(
        &app,
        Method::POST,
        "/api/users/signout",
        &[cookie, ("origin", EVIL)],
    )
    .send()
    .await
    .unwrap();
    assert_error(response, StatusCode::FORBIDDEN, REFUSED).await;
    let still = send(&app, Method::GET, "/api/users/currentuser", &[cookie])
        .send()
        .await
        .unwrap();
    let still: Value = still.json().await.unwrap();
    assert_eq!(
        still["currentUser"]["id"],
        seller.user.id.as_str(),
        "still signed in"
    );

    // Reading from another site is not refused (the browser keeps the answer from it).
    let response = send(
        &app,
        Method::GET,
        "/api/listings",
        &[cookie, ("origin", EVIL)],
    )
    .send()
    .await
    .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
}

#[tokio::test]
async fn a_cookie_request_from_this_site_or_from_nowhere_said_is_201() {
    let app = spawn_app().await;
    let seller = cookie_user(&app).await;
    let cookie = ("cookie", seller.cookie.as_str());

    for from in [
        vec![cookie, ("origin", app.address.as_str())],
        vec![
            cookie,
            ("origin", app.address.as_str()),
            ("sec-fetch-site", "same-origin"),
        ],
        vec![cookie, ("sec-fetch-site", "same-origin")],
        vec![cookie, ("sec-fetch-site", "none")],
        vec![cookie],
    ] {
        let response = create_ticket(&app, &from).await;
        assert_eq!(response.status(), StatusCode::CREATED, "{from:?}");
    }
    assert_eq!(listed(&app, &seller.user).await, 5);
}

#[tokio::test]
async fn a_bearer_request_is_201_whatever_its_origin() {
    let app = spawn_app().await;
    let seller = cookie_user(&app).await;
    let bearer = format!("Bearer {}", seller.user.token);
    let bearer = ("authorization", bearer.as_str());

    for from in [
        vec![bearer, ("origin", EVIL)],
        vec![bearer, ("sec-fetch-site", "cross-site")],
        // With the cookie too: the bearer token is what signs it in.
        vec![bearer, ("cookie", seller.cookie.as_str()), ("origin", EVIL)],
    ] {
        let response = create_ticket(&app, &from).await;
        assert_eq!(response.status(), StatusCode::CREATED, "{from:?}");
    }
    assert_eq!(listed(&app, &seller.user).await, 3);

    // Not signed in at all: the usual 401, whatever the origin.
    let response = create_ticket(&app, &[("origin", EVIL)]).await;
    assert_error(response, StatusCode::UNAUTHORIZED, "Not authorized").await;
}

#[tokio::test]
async fn the_public_url_is_this_site_too() {
    let app = spawn_app_with(|settings| {
        settings.public_url = Some("https://tickets.example.com".to_owned());
    })
    .await;
    let seller = cookie_user(&app).await;
    let cookie = ("cookie", seller.cookie.as_str());

    let response = create_ticket(&app, &[cookie, ("origin", "https://tickets.example.com")]).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let response = create_ticket(&app, &[cookie, ("origin", "https://other.example.com")]).await;
    assert_error(response, StatusCode::FORBIDDEN, REFUSED).await;
    let response = create_ticket(&app, &[cookie, ("origin", "http://tickets.example.com")]).await;
    assert_error(response, StatusCode::FORBIDDEN, REFUSED).await;
}

#[tokio::test]
async fn the_pages_own_form_posts_keep_working() {
    let app = spawn_app().await;
    let seller = cookie_user(&app).await;
    let cookies = format!("{}; csrf={CSRF}", seller.cookie);
    let form = |title: &str| {
        [
            ("title", title.to_owned()),
            ("price", "12.50".to_owned()),
            ("csrf", CSRF.to_owned()),
        ]
    };

    // The sell form, posted from the page (same origin, as a browser says).
    let response = send(
        &app,
        Method::POST,
        "/tickets/new",
        &[
            ("cookie", &cookies),
            ("origin", &app.address),
            ("sec-fetch-site", "same-origin"),
        ],
    )
    .form(&form("Gig"))
    .send()
    .await
    .unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let location = response.headers()[header::LOCATION]
        .to_str()
        .unwrap()
        .to_owned();
    let id = location
        .strip_prefix("/tickets/")
        .expect("to the new ticket");
    let ticket: Value = app
        .get(&format!("/api/tickets/{id}"), None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(ticket["title"], "Gig");
    assert_eq!(ticket["price"].as_f64(), Some(12.5));

    // Its edit form too.
    let response = send(
        &app,
        Method::POST,
        &format!("/tickets/{id}/edit"),
        &[("cookie", &cookies), ("origin", &app.address)],
    )
    .form(&form("Gig (moved)"))
    .send()
    .await
    .unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let ticket: Value = app
        .get(&format!("/api/tickets/{id}"), None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(ticket["title"], "Gig (moved)");

    // The same form posted from another site is turned away by the page itself.
    let response = send(
        &app,
        Method::POST,
        "/tickets/new",
        &[("cookie", &cookies), ("origin", EVIL)],
    )
    .form(&form("Forged"))
    .send()
    .await
    .unwrap();
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    assert_eq!(listed(&app, &seller.user).await, 1);
}

#[tokio::test]
async fn the_document_declares_the_403_on_every_unsafe_operation() {
    let app = spawn_app().await;
    let document: Value = app
        .get("/api/openapi.json", None)
        .await
        .json()
        .await
        .unwrap();
    let paths = document["paths"].as_object().unwrap();
    let mut unsafe_operations = 0;
    for (path, operations) in paths {
        for (method, operation) in operations.as_object().unwrap() {
            let declared = operation["responses"].get("403").is_some();
            let unsafe_method = ["post", "put", "patch", "delete"].contains(&method.as_str());
            assert_eq!(declared, unsafe_method, "{method} {path}");
            unsafe_operations += usize::from(unsafe_method);
        }
    }
    assert!(unsafe_operations >= 7, "{unsafe_operations}");
    let refused = &document["paths"]["/api/tickets"]["post"]["responses"]["403"];
    assert!(
        refused["description"]
            .as_str()
            .is_some_and(|d| d.contains("Cross-site")),
        "{refused}"
    );
}
