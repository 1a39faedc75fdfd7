//! The security headers every response carries where they apply: a `Content-Security-Policy`
//! that allows only this site's own files (the pages need no inline script or style) and no
//! framing, `X-Frame-Options` for older browsers, `X-Content-Type-Options: nosniff`, a
//! `Referrer-Policy`, and `Strict-Transport-Security` when the site is served over HTTPS
//! (`COOKIE_SECURE=true`). A header a handler set itself is left as it is.

use poem::{
    Endpoint, IntoResponse, Request, Response,
    http::{HeaderName, HeaderValue, header},
};

/// The pages: this site's own scripts, styles, images and forms; no framing, no plugins.
const PAGES: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
     form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'";
/// JSON and the other API answers: nothing to run or show at all.
const API: &str = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'";
/// The interactive API docs (Swagger UI), which poem-openapi serves with inline script and style.
const DOCS: &str = "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; \
     img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; object-src 'none'";

/// A year, as browsers are told to remember HTTPS.
const HSTS: &str = "max-age=31536000";

pub async fn add<E: Endpoint>(next: E, req: Request, https: bool) -> poem::Result<Response> {
    let path = req.uri().path().to_owned();
    let mut response = next.call(req).await?.into_response();
    let policy = if path == "/api/docs" || path.starts_with("/api/docs/") {
        DOCS
    } else if path.starts_with("/api/")
        || ["/api", "/healthz", "/readyz", "/metrics"].contains(&path.as_str())
    {
        API
    } else {
        PAGES
    };
    let headers = response.headers_mut();
    let mut set = |name: HeaderName, value: &'static str| {
        if !headers.contains_key(&name) {
            headers.insert(name, HeaderValue::from_static(value));
        }
    };
    set(header::CONTENT_SECURITY_POLICY, policy);
    set(header::X_FRAME_OPTIONS, "DENY");
    set(header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    set(header::REFERRER_POLICY, "same-origin");
    if https {
        set(header::STRICT_TRANSPORT_SECURITY, HSTS);
    }
    Ok(response)
}
