//! Where the pages send a browser next: a 303 after a form, and only to paths of this site.

use poem::{
    Response,
    http::{StatusCode, header},
};

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
