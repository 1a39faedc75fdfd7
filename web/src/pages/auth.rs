//! `/auth/signup`, `/auth/signin`, `/auth/signout`.

use std::sync::Arc;

use maud::html;
use poem::{
    Request, Response, handler,
    http::StatusCode,
    web::{Data, Query},
};
use serde_json::json;

use crate::{
    csrf,
    flash::{self, Flash},
    layout::{FormErrors, csrf_field, page},
    pages::Form,
    redirects::local_path,
    redirects::redirect,
    site::Web,
    visit::Visit,
};

type Params = Query<std::collections::HashMap<String, String>>;

struct AuthForm<'a> {
    title: &'a str,
    /// Where the form posts.
    action: &'a str,
    /// The API endpoint it calls.
    api: &'a str,
    password_hint: &'a str,
    /// A link to the other form, for those on the wrong one.
    other: (&'a str, &'a str, &'a str),
}

fn auth_page(
    visit: &Visit,
    form: &AuthForm,
    next: &str,
    email: &str,
    errors: &FormErrors,
) -> Response {
    let action = format!("{}?next={}", form.action, urlencoding::encode(next));
    visit.respond(
        StatusCode::OK,
        page(
            visit,
            form.title,
            html! {
                h1 { (form.title) }
                div.card {
                    (errors.summary(&["email", "password"]))
                    form #auth method="post" action=(action) novalidate {
                        (csrf_field(visit))
                        (errors.input("email", "Email", "email", email, html! {}))
                        (errors.input("password", "Password", "password", "",
                            html! { @if !form.password_hint.is_empty() { p.muted { (form.password_hint) } } }))
                        button type="submit" { (form.title) }
                    }
                }
                p { (form.other.0) " " a href=(format!("{}?next={}", form.other.1, urlencoding::encode(next))) { (form.other.2) } }
            },
        ),
    )
}

const SIGN_UP: AuthForm = AuthForm {
    title: "Sign Up",
    action: "/auth/signup",
    api: "/api/users/signup",
    password_hint: "4 to 128 characters.",
    other: ("Have an account?", "/auth/signin", "Sign in"),
};

const SIGN_IN: AuthForm = AuthForm {
    title: "Sign In",
    action: "/auth/signin",
    api: "/api/users/signin",
    password_hint: "",
    other: ("New here?", "/auth/signup", "Sign up"),
};

fn next_of(params: &Params) -> String {
    local_path(params.get("next"))
}

/// The form, with what a failed attempt left (its errors and the email typed, never the
/// password).
fn form_page(visit: &Visit, form: &AuthForm, params: &Params) -> Response {
    let flash = visit.flash.clone().unwrap_or_default();
    auth_page(
        visit,
        form,
        &next_of(params),
        flash.value("email", ""),
        &FormErrors(flash.errors.clone()),
    )
}

#[handler]
pub async fn signup_page(req: &Request, web: Data<&Arc<Web>>, params: Params) -> Response {
    let visit = Visit::of(&web, req).await;
    form_page(&visit, &SIGN_UP, &params)
}

#[handler]
pub async fn signin_page(req: &Request, web: Data<&Arc<Web>>, params: Params) -> Response {
    let visit = Visit::of(&web, req).await;
    form_page(&visit, &SIGN_IN, &params)
}

async fn submit(
    req: &Request,
    web: &Web,
    params: &Params,
    form: &std::collections::HashMap<String, String>,
    which: &AuthForm<'_>,
) -> Response {
    let visit = Visit::of(web, req).await;
    let next = next_of(params);
    let email = form.get("email").cloned().unwrap_or_default();
    if !csrf::valid(req, form) {
        return crate::pages::error_for(&visit, StatusCode::FORBIDDEN);
    }
    let body =
        json!({"email": email, "password": form.get("password").cloned().unwrap_or_default()});
    let reply = web.backend.post(req, which.api, &body).await;
    if reply.ok() {
        return redirect(&next, &reply.set_cookies);
    }
    if !flash::goes_back(reply.status) {
        return crate::pages::error_for(&visit, reply.status);
    }
    let back = format!("{}?next={}", which.action, urlencoding::encode(&next));
    Flash::new(reply.errors())
        .keep("email", &email)
        .redirect(&back, &[])
}

#[handler]
pub async fn signup(req: &Request, web: Data<&Arc<Web>>, params: Params, form: Form) -> Response {
    submit(req, &web, &params, &form.0, &SIGN_UP).await
}

#[handler]
pub async fn signin(req: &Request, web: Data<&Arc<Web>>, params: Params, form: Form) -> Response {
    submit(req, &web, &params, &form.0, &SIGN_IN).await
}

#[handler]
pub async fn signout_page(req: &Request, web: Data<&Arc<Web>>) -> Response {
    let visit = Visit::of(&web, req).await;
    visit.respond(
        StatusCode::OK,
        page(
            &visit,
            "Sign Out",
            html! {
                h1 { "Sign Out" }
                @if visit.user.is_some() {
                    form method="post" action="/auth/signout" {
                        (csrf_field(&visit))
                        button type="submit" { "Sign out now" }
                    }
                } @else {
                    p { "You are signed out. " a href="/" { "See the tickets" } }
                }
            },
        ),
    )
}

#[handler]
pub async fn signout(req: &Request, web: Data<&Arc<Web>>, form: Form) -> Response {
    if !csrf::valid(req, &form.0) {
        let visit = Visit::of(&web, req).await;
        return crate::pages::error_for(&visit, StatusCode::FORBIDDEN);
    }
    let reply = web
        .backend
        .post(req, "/api/users/signout", &json!({}))
        .await;
    redirect("/", &reply.set_cookies)
}
