//! The pages' only way to the data: the HTTP API, called in-process (no network, no second set
//! of rules). The visitor's cookies go along, so the API sees the same session the browser has.

use std::sync::Arc;

use poem::{
    Endpoint, Request, Response,
    endpoint::BoxEndpoint,
    http::{HeaderValue, Method, StatusCode, header},
};
use serde_json::Value;

#[derive(Clone)]
pub struct Backend {
    api: Arc<BoxEndpoint<'static, Response>>,
}

/// An answer of the API.
pub struct Reply {
    pub status: StatusCode,
    pub body: Value,
    /// `Set-Cookie` headers to pass on to the browser (signup, signin, signout).
    pub set_cookies: Vec<HeaderValue>,
    /// `X-Total-Count` of a listing: how many there are in all pages.
    pub total: Option<u64>,
}

impl Backend {
    pub fn new(api: Arc<BoxEndpoint<'static, Response>>) -> Self {
        Backend { api }
    }

    /// Calls the API as the visitor of `from` (with their cookies).
    pub async fn call(
        &self,
        from: &Request,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> Reply {
        let mut request = Request::builder().method(method).uri_str(path);
        if let Some(cookies) = from.headers().get(header::COOKIE) {
            request = request.header(header::COOKIE, cookies.clone());
        }
        let mut request = match body {
            Some(body) => request
                .content_type("application/json")
                .body(body.to_string()),
            None => request.finish(),
        };
        // The visitor's address (and anything else the outer layers learnt) goes along: the
        // API's limits count the visitor, not the pages.
        *request.extensions_mut() = from.extensions().clone();
        let response = self
            .api
            .call(request)
            .await
            .unwrap_or_else(|e| e.into_response());
        let status = response.status();
        let set_cookies = response
            .headers()
            .get_all(header::SET_COOKIE)
            .iter()
            .cloned()
            .collect();
        let total = response
            .headers()
            .get("x-total-count")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse().ok());
        let bytes = response.into_body().into_bytes().await.unwrap_or_default();
        Reply {
            status,
            body: serde_json::from_slice(&bytes).unwrap_or(Value::Null),
            set_cookies,
            total,
        }
    }

    /// Passes a request on to the API untouched (for what the pages do not serve).
    pub async fn forward(&self, request: Request) -> Response {
        self.api
            .call(request)
            .await
            .unwrap_or_else(|e| e.into_response())
    }

    pub async fn get(&self, from: &Request, path: &str) -> Reply {
        self.call(from, Method::GET, path, None).await
    }

    pub async fn post(&self, from: &Request, path: &str, body: Value) -> Reply {
        self.call(from, Method::POST, path, Some(body)).await
    }
}

impl Reply {
    pub fn ok(&self) -> bool {
        self.status.is_success()
    }

    /// The contract's error entries as `(field, message)`.
    pub fn errors(&self) -> Vec<(Option<String>, String)> {
        self.body["errors"]
            .as_array()
            .map(|entries| {
                entries
                    .iter()
                    .map(|e| {
                        (
                            e["field"].as_str().map(str::to_owned),
                            e["message"]
                                .as_str()
                                .unwrap_or("Something went wrong")
                                .to_owned(),
                        )
                    })
                    .collect()
            })
            .unwrap_or_else(|| vec![(None, "Something went wrong".to_owned())])
    }
}
