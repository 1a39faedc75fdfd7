//! Server-rendered pages for buyers and sellers (maud templates), mounted at `/`.
//!
//! The pages hold no rules of their own: every read and write goes through the HTTP API, called
//! in-process with the visitor's cookies (see [`backend`]). Forms work without JavaScript (post,
//! then redirect); one small script keeps the order countdown live and, when the event bus is
//! there, lets the listing and the order page follow changes ([`live`]: server-sent events).
//! State-changing forms carry a CSRF token ([`csrf`]).

mod backend;
mod csrf;
mod flash;
mod format;
mod layout;
mod live;
mod pages;

use std::{collections::HashMap, sync::Arc};

use maud::Markup;
use poem::{
    Endpoint, EndpointExt, IntoResponse, Request, Response, Route,
    endpoint::BoxEndpoint,
    error::{MethodNotAllowedError, NotFoundError},
    get,
    http::{StatusCode, header},
    post,
};

pub use backend::Backend;

/// How the pages look and behave.
#[derive(Clone, Default)]
pub struct WebConfig {
    /// Charges go to Stripe: the form asks for a card token instead of offering test cards.
    pub stripe: bool,
    /// The event bus's live feed: with it, the listing and the order page follow changes.
    pub live: Option<events::live::LiveFeed>,
    /// The currency prices are in (ISO 4217, lower case), for the forms and the live listing.
    pub currency: String,
}

/// What every page handler shares.
pub struct Web {
    backend: Backend,
    config: WebConfig,
}

/// The signed-in visitor, as the API sees them.
pub struct User {
    pub id: String,
    pub email: String,
}

/// One page view: who is visiting, and their CSRF token.
pub struct Visit {
    pub user: Option<User>,
    pub csrf: String,
    new_csrf: bool,
    /// Path and query of this request, to come back to after signing in.
    pub here: String,
    /// What a failed form left for this page (post/redirect/get), shown once.
    pub flash: Option<flash::Flash>,
}

impl Visit {
    pub async fn of(web: &Web, req: &Request) -> Visit {
        let reply = web.backend.get(req, "/api/users/currentuser").await;
        let current = &reply.body["currentUser"];
        let user = current["id"].as_str().map(|id| User {
            id: id.to_owned(),
            email: current["email"].as_str().unwrap_or_default().to_owned(),
        });
        let (csrf, new_csrf) = csrf::token(req);
        Visit {
            user,
            csrf,
            new_csrf,
            here: req
                .uri()
                .path_and_query()
                .map_or("/".to_owned(), |p| p.to_string()),
            flash: flash::Flash::of(req),
        }
    }

    /// The page as a response (setting the CSRF cookie on a first visit, clearing a flash once
    /// shown).
    pub fn respond(&self, status: StatusCode, markup: Markup) -> Response {
        let mut response = Response::builder()
            .status(status)
            .content_type("text/html; charset=utf-8")
            .header(header::CACHE_CONTROL, "no-store");
        if self.new_csrf {
            response = response.header(header::SET_COOKIE, csrf::set_cookie(&self.csrf));
        }
        if self.flash.is_some() {
            response = response.header(header::SET_COOKIE, flash::Flash::clear());
        }
        response.body(markup.into_string())
    }

    /// A page that needs a signed-in visitor sends the others to sign in, and back: `Some`
    /// redirect for a signed-out visitor.
    pub fn sign_in_first(&self) -> Option<Response> {
        self.user.is_none().then(|| {
            redirect(
                &format!("/auth/signin?next={}", urlencoding::encode(&self.here)),
                &[],
            )
        })
    }
}

/// A form post that needs a signed-in visitor: the visit, or the response that turns it away (to
/// sign in first, or 403 for a form without our CSRF token).
pub async fn signed_in_post(
    web: &Web,
    req: &Request,
    form: &HashMap<String, String>,
) -> Result<Visit, Box<Response>> {
    let visit = Visit::of(web, req).await;
    if let Some(to_sign_in) = visit.sign_in_first() {
        return Err(Box::new(to_sign_in));
    }
    if !csrf::valid(req, form) {
        return Err(Box::new(pages::error_for(&visit, StatusCode::FORBIDDEN)));
    }
    Ok(visit)
}

/// `/api/<collection>/<id>` for an id shaped like ours; anything else is simply not found.
pub fn api_path(collection: &str, id: &str) -> Option<String> {
    (id.len() == 36 && id.bytes().all(|b| b.is_ascii_hexdigit() || b == b'-'))
        .then(|| format!("/api/{collection}/{id}"))
}

/// 303 See Other to `to`, passing on `Set-Cookie` headers.
pub fn redirect(to: &str, cookies: &[poem::http::HeaderValue]) -> Response {
    let mut response = Response::builder()
        .status(StatusCode::SEE_OTHER)
        .header(header::LOCATION, to);
    for cookie in cookies {
        response = response.header(header::SET_COOKIE, cookie.clone());
    }
    response.finish()
}

/// A `next` parameter we are willing to redirect to: a path of this site, or else `/`.
///
/// Browsers strip tabs and newlines from a `Location`, read `\` as `/` and `//` as another host,
/// so `/\t/evil.example` leads away: only visible ASCII is kept (anything else, encoded or not, is
/// refused rather than repaired), it must start with one `/`, and no `\` may appear anywhere.
pub fn local_path(next: Option<&String>) -> String {
    match next {
        Some(path)
            if path.starts_with('/')
                && !path.starts_with("//")
                && path.bytes().all(|b| b.is_ascii_graphic() && b != b'\\') =>
        {
            path.clone()
        }
        _ => "/".to_owned(),
    }
}

type Form = poem::web::Form<HashMap<String, String>>;

/// The pages, their assets, and HTML error pages; anything a browser did not ask for as HTML
/// (an unknown path requested by an API client) is passed on to the API, which answers in JSON.
pub fn routes(backend: Backend, config: WebConfig) -> BoxEndpoint<'static, Response> {
    let web = Arc::new(Web { backend, config });
    let pages = Route::new()
        .at("/", get(pages::tickets::home))
        .at(
            "/auth/signup",
            get(pages::auth::signup_page).post(pages::auth::signup),
        )
        .at(
            "/auth/signin",
            get(pages::auth::signin_page).post(pages::auth::signin),
        )
        .at(
            "/auth/signout",
            get(pages::auth::signout_page).post(pages::auth::signout),
        )
        .at(
            "/tickets/new",
            get(pages::tickets::new_page).post(pages::tickets::create),
        )
        .at("/tickets/:id", get(pages::tickets::show))
        .at("/tickets/:id/edit", post(pages::tickets::edit))
        .at("/tickets/:id/purchase", post(pages::tickets::purchase))
        .at("/listings", get(pages::listings::list))
        .at("/orders", get(pages::orders::list))
        .at("/orders/:id", get(pages::orders::show))
        .at("/orders/:id/pay", post(pages::orders::pay))
        .at("/orders/:id/cancel", post(pages::orders::cancel))
        .at("/live/tickets", get(live::tickets))
        .at("/orders/:id/live", get(live::order))
        .at("/assets/app.css", get(pages::css))
        .at("/assets/app.js", get(pages::js))
        .at("/favicon.svg", get(pages::favicon))
        .at("/favicon.ico", get(pages::favicon))
        .data(web.clone());
    pages
        .around(move |pages, req| {
            let web = web.clone();
            async move { Ok(fallback(&web, pages, req).await) }
        })
        .boxed()
}

fn wants_html(req: &Request) -> bool {
    req.headers()
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|accept| accept.contains("text/html"))
}

async fn fallback(web: &Web, pages: impl Endpoint, req: Request) -> Response {
    let html = wants_html(&req);
    let (method, uri, headers) = (
        req.method().clone(),
        req.uri().clone(),
        req.headers().clone(),
    );
    let error = match pages.call(req).await {
        Ok(response) => return response.into_response(),
        Err(error) => error,
    };
    let unknown = error.is::<NotFoundError>() || error.is::<MethodNotAllowedError>();
    if unknown && !html {
        let mut request = Request::builder().method(method).uri(uri);
        for (name, value) in headers.iter() {
            request = request.header(name, value.clone());
        }
        return web.backend.forward(request.finish()).await;
    }
    let status = error.status();
    if status.is_server_error() {
        tracing::error!(error = %error, "page failed");
    }
    pages::error_page(status)
}

#[cfg(test)]
mod tests {
    use super::local_path;

    #[test]
    fn only_paths_of_this_site_are_redirect_targets() {
        let to = |next: &str| local_path(Some(&next.to_owned()));
        for ours in ["/", "/tickets/1?x=%2F%2F", "/orders", "/a/b"] {
            assert_eq!(to(ours), ours);
        }
        for away in [
            "//evil.example",
            "/\t/evil.example",
            "/\n/evil.example",
            "/\r/evil.example",
            "/\0/evil.example",
            "/\\evil.example",
            "\\/evil.example",
            "/ /evil.example",
            " /evil.example",
            "https://evil.example",
            "evil.example",
            "/caf\u{e9}",
            "",
        ] {
            assert_eq!(to(away), "/", "{away:?}");
        }
        assert_eq!(local_path(None), "/");
    }
}
