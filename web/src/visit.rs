//! One page view: who is visiting (as the API sees them), their CSRF token, what a failed form
//! left for the page; and how a page goes back to them.

use maud::Markup;
use poem::{
    Request, Response,
    http::{StatusCode, header},
};

use crate::{csrf, flash, redirects::redirect, site::Web};

/// The signed-in visitor, as the API sees them.
pub struct User {
    pub id: uuid::Uuid,
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
        let user = reply
            .json::<api_types::CurrentUser>()
            .and_then(|current| current.current_user.0)
            .map(|session| User {
                id: session.id,
                email: session.email,
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
