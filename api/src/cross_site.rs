//! Cross-site request refusal: a browser sends the `session` cookie with a request another site
//! makes it send (a form post, a `fetch` without CORS), so an unsafe request (POST, PUT, PATCH,
//! DELETE) signed in by that cookie is refused with 403 when the browser says it comes from
//! another site: its `Origin` names another origin than this server's (the request's `Host`, or
//! `PUBLIC_URL`'s origin), or, without `Origin`, `Sec-Fetch-Site` says `cross-site`.
//!
//! Requests signed in by a bearer token are not affected, whatever their `Origin` (no other site
//! can make a browser send our token); nor are requests that say nothing of where they come from
//! (API clients, the pages' own calls to the API, which are made in-process: `web::Backend`).
//! The pages' forms protect themselves too (`web`'s CSRF token).

use poem::{
    Endpoint, IntoResponse, Request, Response,
    http::{Method, StatusCode, header},
};
use poem_openapi::types::Type;

use crate::{
    auth::{SessionBy, Sessions},
    error::{ErrorBody, ErrorEntry},
};

/// The message of the 403.
pub const REFUSED: &str = "Cross-site request refused";

/// What the OpenAPI document says of the 403 on every unsafe operation.
const DESCRIPTION: &str = "Cross-site request refused: signed in by the `session` cookie, from \
     another site (`Origin` is not this server's, or `Sec-Fetch-Site: cross-site`). Requests with \
     a bearer token are not affected.";

/// This server's own origins, besides the one each request names in its `Host`.
#[derive(Debug, Clone, Default)]
pub struct Site {
    /// `PUBLIC_URL`'s origin (`https://tickets.example.com`), lower case.
    public_origin: Option<String>,
}

impl Site {
    /// The site at `public_url` (`PUBLIC_URL`, if configured).
    pub fn new(public_url: Option<&str>) -> Self {
        Site {
            public_origin: public_url.and_then(origin_of),
        }
    }

    /// Whether the browser says `req` comes from another site.
    fn is_cross_site(&self, req: &Request) -> bool {
        let headers = req.headers();
        if let Some(origin) = headers.get(header::ORIGIN) {
            let Some(origin) = origin.to_str().ok().and_then(origin_of) else {
                // `null` (a sandboxed frame, a redirect across sites) or unreadable.
                return true;
            };
            let host = headers
                .get(header::HOST)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
                .or_else(|| req.uri().authority().map(|a| a.to_string()));
            let same_host = host.is_some_and(|host| same_authority(&origin, &host));
            return !same_host && self.public_origin.as_deref() != Some(origin.as_str());
        }
        headers
            .get("sec-fetch-site")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|site| site.trim().eq_ignore_ascii_case("cross-site"))
    }
}

/// `scheme://authority` of a URL or an `Origin`, lower case; `None` for `null` or anything that
/// is not an http(s) URL.
fn origin_of(url: &str) -> Option<String> {
    let (scheme, rest) = url.trim().split_once("://")?;
    let scheme = scheme.to_ascii_lowercase();
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let authority = authority.trim_end_matches('.').to_ascii_lowercase();
    let usable = matches!(scheme.as_str(), "http" | "https")
        && !authority.is_empty()
        && authority.bytes().all(|b| b.is_ascii_graphic() && b != b'@');
    usable.then(|| format!("{scheme}://{authority}"))
}

/// Whether the origin `scheme://authority` is the `host` a request was sent to (the port the
/// scheme implies may be left out of either).
fn same_authority(origin: &str, host: &str) -> bool {
    let Some((scheme, authority)) = origin.split_once("://") else {
        return false;
    };
    let default_port = if scheme == "https" { ":443" } else { ":80" };
    let strip = |a: &str| {
        let a = a.trim().trim_end_matches('.').to_ascii_lowercase();
        a.strip_suffix(default_port).map(str::to_owned).unwrap_or(a)
    };
    strip(authority) == strip(host)
}

fn is_unsafe(method: &Method) -> bool {
    !matches!(
        *method,
        Method::GET | Method::HEAD | Method::OPTIONS | Method::TRACE
    )
}

/// The middleware: refuses an unsafe request signed in by its cookie that comes from another
/// site, before anything reads its body or acts on it. Needs the cookie jar and the [`Sessions`]
/// on the request (inside `CookieJarManager` and the layer that shares the state).
pub async fn refuse<E: Endpoint>(next: E, req: Request, site: &Site) -> poem::Result<Response> {
    if is_unsafe(req.method()) && site.is_cross_site(&req) {
        let by_cookie = match req.data::<Sessions>() {
            Some(sessions) => sessions.signed_in_by(&req).await == Some(SessionBy::Cookie),
            None => false,
        };
        if by_cookie {
            tracing::info!(
                method = %req.method(),
                path = %req.uri().path(),
                origin = ?req.headers().get(header::ORIGIN),
                "refused a cross-site request signed in by cookie"
            );
            return Ok(refusal());
        }
    }
    Ok(next.call(req).await?.into_response())
}

/// 403 with the contract's error body.
fn refusal() -> Response {
    let body = ErrorBody {
        errors: vec![ErrorEntry {
            message: REFUSED.to_owned(),
            field: None,
        }],
    };
    Response::builder()
        .status(StatusCode::FORBIDDEN)
        .content_type("application/json; charset=utf-8")
        .body(serde_json::to_vec(&body).expect("an error body serializes"))
}

/// Documents the 403 on every unsafe operation of the OpenAPI `document`, among its other
/// responses in the order of their statuses.
pub fn document(document: &mut serde_json::Value) {
    let schema = ErrorBody::schema_ref();
    let schema = serde_json::to_value(&schema).expect("a schema reference serializes");
    let Some(paths) = document["paths"].as_object_mut() else {
        return;
    };
    for operations in paths.values_mut() {
        let Some(operations) = operations.as_object_mut() else {
            continue;
        };
        for (method, operation) in operations.iter_mut() {
            if !["post", "put", "patch", "delete"].contains(&method.as_str()) {
                continue;
            }
            let Some(responses) = operation
                .get_mut("responses")
                .and_then(serde_json::Value::as_object_mut)
            else {
                continue;
            };
            let mut all: Vec<(String, serde_json::Value)> =
                std::mem::take(responses).into_iter().collect();
            // An operation's own 403 (a role it needs) is said first, then this one.
            let own = all
                .iter()
                .find(|(status, _)| status == "403")
                .and_then(|(_, response)| response["description"].as_str())
                .map(|own| format!("{own}. Or: {DESCRIPTION}"));
            all.retain(|(status, _)| status != "403");
            all.push((
                "403".to_owned(),
                serde_json::json!({
                    "description": own.as_deref().unwrap_or(DESCRIPTION),
                    "content": {
                        "application/json; charset=utf-8": { "schema": schema },
                    },
                }),
            ));
            all.sort_by_key(|(status, _)| status.parse::<u16>().unwrap_or(u16::MAX));
            responses.extend(all);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(method: Method, headers: &[(&str, &str)]) -> Request {
        let mut builder = Request::builder().method(method).uri_str("/api/tickets");
        for (name, value) in headers {
            builder = builder.header(*name, *value);
        }
        builder.finish()
    }

    #[test]
    fn tells_other_sites_from_this_one() {
        let site = Site::new(Some("https://Tickets.example.com/"));
        let host = ("host", "127.0.0.1:3000");
        let cases: &[(&[(&str, &str)], bool)] = &[
            (&[host], false),
            (&[host, ("origin", "http://127.0.0.1:3000")], false),
            (&[host, ("origin", "HTTP://127.0.0.1:3000")], false),
            (&[host, ("origin", "https://tickets.example.com")], false),
            (
                &[("host", "a.example"), ("origin", "https://a.example")],
                false,
            ),
            (
                &[("host", "a.example:443"), ("origin", "https://a.example")],
                false,
            ),
            (&[host, ("origin", "https://evil.example")], true),
            (&[host, ("origin", "http://127.0.0.1:3001")], true),
            (&[host, ("origin", "null")], true),
            (
                &[host, ("origin", "https://tickets.example.com.evil.example")],
                true,
            ),
            (&[host, ("sec-fetch-site", "cross-site")], true),
            (&[host, ("sec-fetch-site", "same-origin")], false),
            (&[host, ("sec-fetch-site", "none")], false),
            (
                &[
                    host,
                    ("origin", "http://127.0.0.1:3000"),
                    ("sec-fetch-site", "cross-site"),
                ],
                false,
            ),
        ];
        for (headers, cross) in cases {
            let req = request(Method::POST, headers);
            assert_eq!(site.is_cross_site(&req), *cross, "{headers:?}");
        }
        let without_public_url = Site::new(None);
        let req = request(
            Method::POST,
            &[host, ("origin", "https://tickets.example.com")],
        );
        assert!(without_public_url.is_cross_site(&req));
    }

    #[test]
    fn only_unsafe_methods_are_checked() {
        for method in [Method::GET, Method::HEAD, Method::OPTIONS] {
            assert!(!is_unsafe(&method), "{method}");
        }
        for method in [Method::POST, Method::PUT, Method::PATCH, Method::DELETE] {
            assert!(is_unsafe(&method), "{method}");
        }
    }
}
