//! Post/redirect/get, errors included: a form that fails is not answered by its POST (a reload
//! would send it again) but redirected to its page, which shows the errors and what was typed,
//! carried over in a short-lived cookie that the page reads once and clears. Passwords are never
//! carried.

use std::collections::HashMap;

use poem::{
    Request, Response,
    http::{HeaderValue, StatusCode, header},
};
use serde::{Deserialize, Serialize};

const COOKIE: &str = "flash";
/// Long enough for the redirect to be followed, not more.
const MAX_AGE_SECONDS: u32 = 60;

/// What a failed form leaves for its page.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Flash {
    /// The contract's errors: `(field, message)`.
    pub errors: Vec<(Option<String>, String)>,
    /// What was typed, by field name (never a password).
    pub values: HashMap<String, String>,
}

impl Flash {
    pub fn new(errors: Vec<(Option<String>, String)>) -> Self {
        Flash {
            errors,
            values: HashMap::new(),
        }
    }

    /// Keeps what was typed in `field`.
    pub fn keep(mut self, field: &str, value: &str) -> Self {
        self.values.insert(field.to_owned(), value.to_owned());
        self
    }

    /// What was typed in `field`, or `otherwise`.
    pub fn value<'a>(&'a self, field: &str, otherwise: &'a str) -> &'a str {
        self.values.get(field).map_or(otherwise, String::as_str)
    }

    /// The flash a request carries, if any (a damaged one is none).
    pub fn of(req: &Request) -> Option<Flash> {
        let cookies = req.headers().get(header::COOKIE)?.to_str().ok()?;
        let raw = cookies
            .split(';')
            .filter_map(|pair| pair.trim().split_once('='))
            .find(|(name, _)| *name == COOKIE)
            .map(|(_, value)| value)?;
        let json = urlencoding::decode(raw).ok()?;
        serde_json::from_str(&json).ok()
    }

    /// 303 to `to`, leaving this flash for its page, with `cookies` set too.
    pub fn redirect(&self, to: &str, cookies: &[HeaderValue]) -> Response {
        let json = serde_json::to_string(self).unwrap_or_default();
        let cookie = format!(
            "{COOKIE}={}; Path=/; Max-Age={MAX_AGE_SECONDS}; HttpOnly; SameSite=Lax",
            urlencoding::encode(&json)
        );
        let mut response = crate::redirects::redirect(to, cookies);
        if let Ok(value) = HeaderValue::from_str(&cookie) {
            response.headers_mut().append(header::SET_COOKIE, value);
        }
        response
    }

    /// The header that clears it once shown.
    pub fn clear() -> HeaderValue {
        HeaderValue::from_static("flash=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax")
    }
}

/// Whether a failed form's answer goes back to its page as a flash (a refusal or a rule the
/// input broke), or is shown as it is (a form without our CSRF token, too many attempts, a
/// service away: no form to go back to, or a status the visitor's browser should see).
pub fn goes_back(status: StatusCode) -> bool {
    status.is_client_error()
        && ![
            StatusCode::FORBIDDEN,
            StatusCode::TOO_MANY_REQUESTS,
            StatusCode::PAYLOAD_TOO_LARGE,
        ]
        .contains(&status)
}
