//! The benchmark's HTTP calls: JSON in and out, an order, a new user with a bearer token.

use anyhow::{Context, bail};
use serde_json::{Value, json};

pub(crate) async fn json_call(
    http: &reqwest::Client,
    method: reqwest::Method,
    url: String,
    token: Option<&str>,
    body: Option<Value>,
) -> anyhow::Result<(u16, Value)> {
    let mut request = http.request(method, url);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await?;
    let status = response.status().as_u16();
    Ok((status, response.json().await.unwrap_or(Value::Null)))
}

/// `POST /api/orders` for `ticket` as `buyer`: the status and body.
pub(crate) async fn post_order(
    http: &reqwest::Client,
    base: &str,
    buyer: &str,
    ticket: &str,
) -> anyhow::Result<(u16, Value)> {
    json_call(
        http,
        reqwest::Method::POST,
        format!("{base}/api/orders"),
        Some(buyer),
        Some(json!({"ticketId": ticket})),
    )
    .await
}

/// The e-mail and password of the benchmark's `n`th user.
pub(crate) fn credentials(n: usize) -> Value {
    json!({
        "email": format!("bench-{}-{n}@example.com", std::process::id()),
        "password": "benchmark"
    })
}

pub(crate) async fn new_user(
    http: &reqwest::Client,
    base: &str,
    n: usize,
) -> anyhow::Result<String> {
    let credentials = credentials(n);
    let (status, _) = json_call(
        http,
        reqwest::Method::POST,
        format!("{base}/api/users/signup"),
        None,
        Some(credentials.clone()),
    )
    .await?;
    let limited = "(against a running system, raise AUTH_ATTEMPTS_PER_ACCOUNT and \
                   AUTH_ATTEMPTS_PER_ADDRESS for the benchmark's one address)";
    if status != 201 {
        bail!("signup answered {status} {limited}");
    }
    let (status, token) = json_call(
        http,
        reqwest::Method::POST,
        format!("{base}/api/users/token"),
        None,
        Some(credentials),
    )
    .await?;
    token["token"]
        .as_str()
        .map(str::to_owned)
        .with_context(|| format!("POST /api/users/token answered {status}: {token} {limited}"))
}
