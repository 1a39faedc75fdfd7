//! The pages' only way to the data: the HTTP API, called in-process (no network, no second set
//! of rules). The visitor's cookies go along, so the API sees the same session the browser has.

use std::sync::Arc;

use api_types::ErrorBody;
use poem::{
    Endpoint, Request, Response,
    endpoint::BoxEndpoint,
    http::{HeaderValue, Method, StatusCode, header},
};
use serde::{Serialize, de::DeserializeOwned};

#[derive(Clone)]
pub struct Backend {
    api: Arc<BoxEndpoint<'static, Response>>,
}

/// An answer of the API.
pub struct Reply {
    pub status: StatusCode,
    /// The body as the API sent it (JSON); [`Reply::json`] reads it as its type.
    pub body: Vec<u8>,
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
        body: Option<String>,
    ) -> Reply {
        let mut request = Request::builder().method(method).uri_str(path);
        if let Some(cookies) = from.headers().get(header::COOKIE) {
            request = request.header(header::COOKIE, cookies.clone());
        }
        let mut request = match body {
            Some(body) => request.content_type("application/json").body(body),
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
            body: bytes.to_vec(),
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

    pub async fn post(&self, from: &Request, path: &str, body: &impl Serialize) -> Reply {
        let body = serde_json::to_string(body).expect("a request body serializes");
        self.call(from, Method::POST, path, Some(body)).await
    }

    pub async fn delete(&self, from: &Request, path: &str) -> Reply {
        self.call(from, Method::DELETE, path, None).await
    }
}

impl Reply {
    pub fn ok(&self) -> bool {
        self.status.is_success()
    }

    /// The body as the API's type `T` (`api_types`); `None`, logged, when it is not one (a
    /// contract broken between the API and the pages).
    pub fn json<T: DeserializeOwned>(&self) -> Option<T> {
        serde_json::from_slice(&self.body)
            .inspect_err(|e| {
                tracing::error!(
                    status = %self.status,
                    error = %e,
                    "the API's answer is not a {}",
                    std::any::type_name::<T>()
                )
            })
            .ok()
    }

    /// The contract's error entries as `(field, message)`.
    pub fn errors(&self) -> Vec<(Option<String>, String)> {
        serde_json::from_slice::<ErrorBody>(&self.body)
            .map(|body| {
                body.errors
                    .into_iter()
                    .map(|e| (e.field, e.message))
                    .collect()
            })
            .unwrap_or_else(|_| vec![(None, "Something went wrong".to_owned())])
    }
}

/// `/api/<collection>/<id>` for an id shaped like ours; anything else is simply not found.
pub fn api_path(collection: &str, id: &str) -> Option<String> {
    (id.len() == 36 && id.bytes().all(|b| b.is_ascii_hexdigit() || b == b'-'))
        .then(|| format!("/api/{collection}/{id}"))
}
