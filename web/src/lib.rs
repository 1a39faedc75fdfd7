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
mod pages;
mod price_text;
mod redirects;
mod site;
mod visit;

use std::sync::Arc;

use poem::{
    Endpoint, EndpointExt, IntoResponse, Request, Response, Route,
    endpoint::BoxEndpoint,
    error::{MethodNotAllowedError, NotFoundError},
    get,
    http::header,
    post,
};

pub use backend::Backend;
use site::Web;
pub use site::WebConfig;

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
        .at("/tickets/:id/withdraw", post(pages::tickets::withdraw))
        .at("/listings", get(pages::listings::list))
        .at("/orders", get(pages::orders::list))
        .at("/holdings", get(pages::holdings::list))
        .at("/holdings/:id/transfer", post(pages::holdings::transfer))
        .at("/holdings/:id/sell", post(pages::holdings::sell_on))
        .at("/door", get(pages::door::show).post(pages::door::check_in))
        .at("/orders/:id", get(pages::orders::show))
        .at("/orders/:id/pay", post(pages::orders::pay))
        .at("/orders/:id/cancel", post(pages::orders::cancel))
        .at("/live/tickets", get(pages::live::tickets))
        .at("/orders/:id/live", get(pages::live::order))
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
