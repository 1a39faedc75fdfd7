//! Cross-site request protection for the forms: a random token in a `csrf` cookie (SameSite=Strict)
//! that every form repeats in a hidden field; a state-changing request must carry both, equal, and
//! come from our own origin when the browser says where it comes from.

use std::collections::HashMap;

use poem::{Request, http::header};

pub const COOKIE: &str = "csrf";
pub const FIELD: &str = "csrf";

/// The visitor's token, and whether it is new (then the cookie must be set).
pub fn token(req: &Request) -> (String, bool) {
    match cookie(req) {
        Some(token) => (token, false),
        None => {
            use rand::Rng;
            let bytes: [u8; 24] = rand::rng().random();
            (bytes.iter().map(|b| format!("{b:02x}")).collect(), true)
        }
    }
}

pub fn set_cookie(token: &str) -> String {
    format!("{COOKIE}={token}; Path=/; HttpOnly; SameSite=Strict")
}

fn cookie(req: &Request) -> Option<String> {
    let header = req.headers().get(header::COOKIE)?.to_str().ok()?;
    header
        .split(';')
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == COOKIE)
        .map(|(_, value)| value.to_owned())
        .filter(|value| value.len() == 48 && value.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// Whether a form post is ours.
pub fn valid(req: &Request, form: &HashMap<String, String>) -> bool {
    let same_origin = match (
        req.headers()
            .get(header::ORIGIN)
            .and_then(|v| v.to_str().ok()),
        req.headers()
            .get(header::HOST)
            .and_then(|v| v.to_str().ok()),
    ) {
        (Some(origin), Some(host)) => origin
            .split_once("://")
            .is_some_and(|(_, authority)| authority == host),
        _ => true,
    };
    let (Some(cookie), Some(sent)) = (cookie(req), form.get(FIELD)) else {
        return false;
    };
    same_origin && constant_time_eq(cookie.as_bytes(), sent.as_bytes())
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}
