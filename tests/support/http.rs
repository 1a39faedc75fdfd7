//! The API over real HTTP, as a client sees it: one way to sign up, list, order, pay and cancel
//! for every test.

use reqwest::{Method, Response, StatusCode};
use serde_json::{Value, json};

use crate::TestUser;

/// A client of the API at `base` (no cookies: bearer tokens only). Cheap to clone into tasks.
#[derive(Clone)]
pub struct Api {
    /// `http://127.0.0.1:<port>`
    pub base: String,
    client: reqwest::Client,
}

impl Api {
    pub fn new(base: &str) -> Self {
        Api::with_client(base, reqwest::Client::new())
    }

    /// Through `client` (e.g. one with a cookie jar).
    pub fn with_client(base: &str, client: reqwest::Client) -> Self {
        Api {
            base: base.trim_end_matches('/').to_owned(),
            client,
        }
    }

    /// The HTTP client underneath, for requests that must see a connection fail.
    pub fn client(&self) -> &reqwest::Client {
        &self.client
    }

    /// `<base><path>`
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    /// A request with a JSON body (none when `body` is `None`) and an optional bearer token.
    pub async fn send(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<&Value>,
    ) -> Response {
        let mut request = self.client.request(method, format!("{}{path}", self.base));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.json(body);
        }
        request.send().await.expect("the request is sent")
    }

    /// A request like [`Api::send`] with an `Idempotency-Key` header.
    pub async fn send_with_key(
        &self,
        method: Method,
        path: &str,
        token: &str,
        body: Option<&Value>,
        key: &str,
    ) -> Response {
        let mut request = self
            .client
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(token)
            .header("Idempotency-Key", key);
        if let Some(body) = body {
            request = request.json(body);
        }
        request.send().await.expect("the request is sent")
    }

    /// Signs `email` up and returns it with a bearer token.
    pub async fn user(&self, email: &str) -> TestUser {
        let credentials = json!({"email": email, "password": "correct horse"});
        let signup = self
            .send(Method::POST, "/api/users/signup", None, Some(&credentials))
            .await;
        assert_eq!(
            signup.status(),
            StatusCode::CREATED,
            "POST /api/users/signup"
        );
        let user: Value = signup.json().await.unwrap();
        let token = self
            .send(Method::POST, "/api/users/token", None, Some(&credentials))
            .await;
        assert_eq!(token.status(), StatusCode::OK, "POST /api/users/token");
        let token: Value = token.json().await.unwrap();
        TestUser {
            id: user["id"].as_str().unwrap().to_owned(),
            email: email.to_owned(),
            token: token["token"].as_str().unwrap().to_owned(),
        }
    }

    /// A new user with an email nobody has.
    pub async fn new_user(&self) -> TestUser {
        self.user(&format!(
            "user-{}@example.com",
            uuid::Uuid::new_v4().simple()
        ))
        .await
    }

    /// Lists a ticket as the user of `token`, asserting 201, and returns it.
    pub async fn ticket(&self, token: &str, title: &str, price: Value) -> Value {
        let body = json!({"title": title, "price": price});
        let response = self
            .send(Method::POST, "/api/tickets", Some(token), Some(&body))
            .await;
        assert_eq!(response.status(), StatusCode::CREATED, "POST /api/tickets");
        response.json().await.unwrap()
    }

    /// `POST /api/orders {ticketId}`.
    pub async fn order(&self, token: &str, ticket_id: &str) -> Response {
        let body = json!({"ticketId": ticket_id});
        self.send(Method::POST, "/api/orders", Some(token), Some(&body))
            .await
    }

    /// `POST /api/payments {orderId, token}` with the card token `card`.
    pub async fn pay(&self, token: &str, order_id: &str, card: &str) -> Response {
        let body = json!({"orderId": order_id, "token": card});
        self.send(Method::POST, "/api/payments", Some(token), Some(&body))
            .await
    }

    /// `POST /api/orders {ticketId}` with an `Idempotency-Key`; `Err` when no answer came back.
    pub async fn order_with_key(
        &self,
        token: &str,
        ticket_id: &str,
        key: &str,
    ) -> reqwest::Result<Response> {
        let body = json!({"ticketId": ticket_id});
        self.post_with_key("/api/orders", token, &body, key).await
    }

    /// `POST /api/payments {orderId, token}` with an `Idempotency-Key`; `Err` when no answer came
    /// back.
    pub async fn pay_with_key(
        &self,
        token: &str,
        order_id: &str,
        card: &str,
        key: &str,
    ) -> reqwest::Result<Response> {
        let body = json!({"orderId": order_id, "token": card});
        self.post_with_key("/api/payments", token, &body, key).await
    }

    async fn post_with_key(
        &self,
        path: &str,
        token: &str,
        body: &Value,
        key: &str,
    ) -> reqwest::Result<Response> {
        self.client
            .post(format!("{}{path}", self.base))
            .bearer_auth(token)
            .header("Idempotency-Key", key)
            .json(body)
            .send()
            .await
    }

    /// `DELETE /api/orders/:id`.
    pub async fn cancel(&self, token: &str, order_id: &str) -> Response {
        let path = format!("/api/orders/{order_id}");
        self.send(Method::DELETE, &path, Some(token), None).await
    }
}
