//! The portal's cookies, read from requests and written on responses.
//!
//! `twostep_session` holds a signed-in session id, `twostep_pending` a sign-in that
//! passed the password but not yet the code, `twostep_csrf` the browser's CSRF seed,
//! `twostep_device` a device remembered for 30 days ("Don't ask again on this
//! device"), the only one that outlives the browser.
//! `twostep_reset` the password-reset link this browser verified (the new
//! password is set only from there, never from a URL).
//! All are HttpOnly, SameSite=Lax and Path=/. When the portal is served over
//! https they are also Secure and carry the `__Host-` prefix, which browsers
//! accept only from a secure origin, without Domain, with Path=/: so neither a
//! plain-http page nor a sibling subdomain can plant or overwrite them.

use axum::http::header::{COOKIE, SET_COOKIE};
use axum::http::{HeaderMap, HeaderValue};

pub const SESSION: &str = "twostep_session";
pub const PENDING: &str = "twostep_pending";
pub const CSRF: &str = "twostep_csrf";
pub const DEVICE: &str = "twostep_device";
pub const RESET: &str = "twostep_reset";

/// The name the browser stores: `__Host-` first when the cookie is Secure.
fn full_name(name: &str, secure: bool) -> String {
    if secure {
        format!("__Host-{name}")
    } else {
        name.to_owned()
    }
}

pub fn read(headers: &HeaderMap, name: &str, secure: bool) -> Option<String> {
    let name = full_name(name, secure);
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, value)| *key == name.as_str() && !value.is_empty())
        .map(|(_, value)| value.to_owned())
}

pub fn set(headers: &mut HeaderMap, name: &str, value: &str, secure: bool) {
    append(headers, name, value, "", secure);
}

/// A cookie the browser keeps for `max_age_seconds`, across restarts.
pub fn set_lasting(
    headers: &mut HeaderMap,
    name: &str,
    value: &str,
    max_age_seconds: i64,
    secure: bool,
) {
    append(
        headers,
        name,
        value,
        &format!("; Max-Age={max_age_seconds}"),
        secure,
    );
}

fn append(headers: &mut HeaderMap, name: &str, value: &str, max_age: &str, secure: bool) {
    let name = full_name(name, secure);
    let secure = if secure { "; Secure" } else { "" };
    let cookie = format!("{name}={value}; Path=/; HttpOnly; SameSite=Lax{max_age}{secure}");
    if let Ok(value) = HeaderValue::from_str(&cookie) {
        headers.append(SET_COOKIE, value);
    }
}

pub fn clear(headers: &mut HeaderMap, name: &str, secure: bool) {
    append(headers, name, "", "; Max-Age=0", secure);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cookie_header(value: &'static str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(COOKIE, HeaderValue::from_static(value));
        headers
    }

    #[test]
    fn a_cookie_is_found_among_several() {
        let headers = cookie_header("a=1; twostep_session=abc; b=2");
        assert_eq!(read(&headers, SESSION, false).as_deref(), Some("abc"));
        assert_eq!(read(&headers, PENDING, false), None);
    }

    #[test]
    fn over_https_only_the_host_prefixed_cookie_counts() {
        let headers = cookie_header("twostep_session=planted; __Host-twostep_session=abc");
        assert_eq!(read(&headers, SESSION, true).as_deref(), Some("abc"));
        assert_eq!(read(&headers, SESSION, false).as_deref(), Some("planted"));
    }

    #[test]
    fn cookies_are_http_only_same_site_and_secure_over_https() {
        let mut headers = HeaderMap::new();
        set(&mut headers, SESSION, "abc", true);
        let cookie = headers.get(SET_COOKIE).unwrap().to_str().unwrap();
        assert_eq!(
            cookie,
            "__Host-twostep_session=abc; Path=/; HttpOnly; SameSite=Lax; Secure"
        );
    }

    #[test]
    fn a_lasting_cookie_has_its_max_age_and_the_same_protections() {
        for (secure, expected) in [
            (
                true,
                "__Host-twostep_device=abc; Path=/; HttpOnly; SameSite=Lax; Max-Age=2592000; Secure",
            ),
            (
                false,
                "twostep_device=abc; Path=/; HttpOnly; SameSite=Lax; Max-Age=2592000",
            ),
        ] {
            let mut headers = HeaderMap::new();
            set_lasting(&mut headers, DEVICE, "abc", 30 * 86_400, secure);
            assert_eq!(headers.get(SET_COOKIE).unwrap(), expected);
        }
    }
}
