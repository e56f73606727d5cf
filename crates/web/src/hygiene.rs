//! What wraps every request: a request id, CSRF protection for every form post,
//! the CSRF cookie, security headers, logging of internal errors by request id
//! (the log gets the whole chain of causes, the person the id alone), and the
//! request's count and time by route template for `/metrics`. Every posted body
//! is read here, whole, against a size limit and a deadline: hyper times the
//! header only, and a body trickled in byte by byte would otherwise hold its
//! connection, one of a limited number, for as long as the client likes.
//!
//! CSRF uses signed double-submit tokens: the browser holds a random cookie, each
//! form carries HMAC(server key, cookie and session cookie). Bound to the
//! session, a token stops working when the browser signs in or out (and a new
//! seed is issued at sign-in). Checking it here, before any handler, means no
//! form can forget it.

use axum::Router;
use axum::body::{Body, to_bytes};
use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderName, HeaderValue, Method, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::Response;
use tracing::Instrument;

use crate::api::{ApiError, ApiErrorCode};
use crate::chrome::{Chrome, ErrorPageText, error_page, error_page_in};
use crate::client_ip::ClientIp;
use crate::error::{ErrorChain, InternalCause, UnavailableCause};
use crate::session::AskerChrome;
use crate::{AppState, WebError, cookies};

/// Forms and the API's JSON are a few hundred bytes; nothing posted is larger.
const MAX_BODY_BYTES: usize = 64 * 1024;

/// Why a posted body was not read.
enum BodyRefused {
    TooLarge,
    /// It did not arrive whole within `Settings::body_read_timeout`.
    TooSlow,
}

impl BodyRefused {
    fn into_response(self, is_api: bool) -> Response {
        let mut response = match (self, is_api) {
            (Self::TooLarge, false) => axum::response::IntoResponse::into_response(
                WebError::BadRequest("This form is too large.".into()),
            ),
            (Self::TooLarge, true) => axum::response::IntoResponse::into_response(ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                ApiErrorCode::InvalidRequest,
                "The request body is larger than 64 KiB.",
            )),
            (Self::TooSlow, false) => error_page(
                StatusCode::REQUEST_TIMEOUT,
                "The form took too long to arrive",
                "Your connection sent the form too slowly. Go back and try again.",
                None,
            ),
            (Self::TooSlow, true) => axum::response::IntoResponse::into_response(ApiError::new(
                StatusCode::REQUEST_TIMEOUT,
                ApiErrorCode::RequestTimeout,
                "The request body did not arrive in time.",
            )),
        };
        // The rest of the body is never read: the connection cannot carry
        // another request.
        response
            .headers_mut()
            .insert(header::CONNECTION, HeaderValue::from_static("close"));
        response
    }
}

/// Reads a posted body whole, within the size limit and the deadline.
async fn read_body(state: &AppState, body: Body) -> Result<axum::body::Bytes, BodyRefused> {
    match tokio::time::timeout(
        state.settings.body_read_timeout,
        to_bytes(body, MAX_BODY_BYTES),
    )
    .await
    {
        Ok(Ok(bytes)) => Ok(bytes),
        // Over the limit, or the client went away: nobody reads the answer then.
        Ok(Err(_)) => Err(BodyRefused::TooLarge),
        Err(_elapsed) => Err(BodyRefused::TooSlow),
    }
}

/// The CSRF token for this request's browser, for forms on the page.
#[derive(Clone)]
pub struct CsrfToken(pub String);

pub fn wrap(routes: Router<AppState>, state: AppState) -> Router<AppState> {
    routes.layer(middleware::from_fn_with_state(state, protect))
}

async fn protect(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let request_id = domain::secrets::hex(&domain::secrets::random_bytes::<8>());
    // Only the path is logged: query strings can carry reset tokens.
    let span = tracing::info_span!("request", id = %request_id, method = %request.method(), path = %request.uri().path());
    let is_api = request.uri().path().starts_with("/api/");
    let route = route_label(request.extensions().get::<MatchedPath>());
    let started = std::time::Instant::now();
    async move {
        let mut response = match check_and_run(&state, request, next).await {
            Ok(response) => response,
            Err(error) => axum::response::IntoResponse::into_response(error),
        };
        if let Some(InternalCause(cause)) = response.extensions_mut().remove::<InternalCause>() {
            tracing::error!(request_id = %request_id, error = %ErrorChain(&*cause), "internal error");
            // The API's own error body already says what it may; a page gets the id.
            if !is_api {
                response = error_page(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "Something went wrong",
                    "Something went wrong on our side. Please try again in a moment. If it keeps happening, tell the administrator this request id:",
                    Some(&request_id),
                );
            }
        }
        if let Some(UnavailableCause(cause)) = response.extensions_mut().remove::<UnavailableCause>() {
            tracing::warn!(request_id = %request_id, error = %ErrorChain(&*cause), "database unavailable");
        }
        add_security_headers(&mut response, &request_id, state.settings.secure_cookies());
        let status = response.status();
        tracing::debug!(status = status.as_u16(), "answered");
        state
            .metrics
            .http_requests
            .inc(&[&route, status.as_str()]);
        state
            .metrics
            .http_request_duration
            .observe(&[&route], started.elapsed());
        response
    }
    .instrument(span)
    .await
}

async fn check_and_run(
    state: &AppState,
    mut request: Request,
    next: Next,
) -> Result<Response, WebError> {
    let is_api = request.uri().path().starts_with("/api/");
    let socket = request
        .extensions()
        .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
        .map(|axum::extract::ConnectInfo(address)| address.ip());
    if let Some(socket) = socket {
        let client = ClientIp::of(socket, request.headers(), &state.settings.trusted_proxies);
        request.extensions_mut().insert(client);
    }
    let existing_seed = cookies::read(
        request.headers(),
        cookies::CSRF,
        state.settings.secure_cookies(),
    );
    if request.method() == Method::POST {
        let (parts, body) = request.into_parts();
        let bytes = match read_body(state, body).await {
            Ok(bytes) => bytes,
            Err(refused) => {
                tracing::debug!("a posted body was too large or too slow");
                return Ok(refused.into_response(is_api));
            }
        };
        if !is_api {
            check_csrf(state, &parts.headers, &bytes)?;
        }
        request = Request::from_parts(parts, Body::from(bytes));
    }
    let seed = existing_seed
        .clone()
        .unwrap_or_else(domain::secrets::random_token);
    let session = cookies::read(
        request.headers(),
        cookies::SESSION,
        state.settings.secure_cookies(),
    );
    let binding = bind(&seed, session.as_deref());
    request
        .extensions_mut()
        .insert(CsrfToken(state.key.csrf_token(&binding)));
    // Filled by the extractor that finds who is signed in, for an error
    // page to be drawn in their frame.
    let asker = (!is_api && session.is_some()).then(AskerChrome::default);
    if let Some(asker) = &asker {
        request.extensions_mut().insert(asker.clone());
    }
    let mut response = next.run(request).await;
    if let Some(chrome) = asker.as_ref().and_then(AskerChrome::kept) {
        response = in_the_askers_frame(chrome.clone(), response);
    }
    if existing_seed.is_none() && !is_api {
        cookies::set(
            response.headers_mut(),
            cookies::CSRF,
            &seed,
            state.settings.secure_cookies(),
        );
    }
    Ok(response)
}

/// A refusal (4xx) drawn as an error page, drawn again in the frame of the
/// signed-in person who asked: their account menu, not a "Sign in" link. Not
/// for 5xx: the database may be what failed.
fn in_the_askers_frame(chrome: Chrome, response: Response) -> Response {
    if !response.status().is_client_error() {
        return response;
    }
    let Some(text) = response.extensions().get::<ErrorPageText>().cloned() else {
        return response;
    };
    let mut redrawn = error_page_in(chrome, response.status(), &text.title, &text.message, None);
    for (name, value) in response.headers() {
        if name != header::CONTENT_TYPE && name != header::CONTENT_LENGTH {
            redrawn.headers_mut().append(name.clone(), value.clone());
        }
    }
    redrawn
}

/// Every form post carries the token of its browser's seed and session.
fn check_csrf(
    state: &AppState,
    headers: &axum::http::HeaderMap,
    form: &[u8],
) -> Result<(), WebError> {
    let binding = csrf_binding(state, headers);
    let submitted = serde_urlencoded::from_bytes::<Vec<(String, String)>>(form)
        .ok()
        .and_then(|fields| {
            fields
                .into_iter()
                .find(|(name, _)| name == "csrf_token")
                .map(|(_, value)| value)
        })
        .unwrap_or_default();
    if !binding.is_some_and(|binding| state.key.csrf_token_is_valid(&binding, &submitted)) {
        tracing::warn!("form post without a valid CSRF token refused");
        return Err(WebError::CsrfRejected);
    }
    Ok(())
}

/// The route's template as a metric label, never the path itself: a path can
/// hold anything a client sends (an address, a token). Segments are written
/// `:id` rather than axum's `{id}`: braces inside a label value are valid in
/// the text format, but simple parsers and regex-based tools end the label set
/// at the first `}` and drop the line. "unmatched" for the 404 fallback.
fn route_label(matched: Option<&MatchedPath>) -> String {
    match matched {
        Some(path) => path.as_str().replace('{', ":").replace('}', ""),
        None => "unmatched".to_owned(),
    }
}

/// What a browser's CSRF token signs: its CSRF seed and its session cookie
/// (none while signed out). `None` without a seed: nothing is valid then.
fn csrf_binding(state: &AppState, headers: &axum::http::HeaderMap) -> Option<String> {
    let secure = state.settings.secure_cookies();
    let seed = cookies::read(headers, cookies::CSRF, secure)?;
    let session = cookies::read(headers, cookies::SESSION, secure);
    Some(bind(&seed, session.as_deref()))
}

/// The seed is hex, so the separator cannot occur in it.
fn bind(seed: &str, session: Option<&str>) -> String {
    format!("{seed}|{}", session.unwrap_or_default())
}

/// For the few links that change something: the token travels in the query.
pub fn check_link_token(
    state: &AppState,
    headers: &axum::http::HeaderMap,
    token: &str,
) -> Result<(), WebError> {
    let binding = csrf_binding(state, headers);
    if binding.is_some_and(|binding| state.key.csrf_token_is_valid(&binding, token)) {
        Ok(())
    } else {
        tracing::warn!("link without a valid CSRF token refused");
        Err(WebError::CsrfRejected)
    }
}

/// What every answer carries, whatever it is.
const SECURITY_HEADERS: [(HeaderName, &str); 4] = [
    (
        header::CONTENT_SECURITY_POLICY,
        "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    ),
    (header::REFERRER_POLICY, "no-referrer"),
    (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
    (header::X_FRAME_OPTIONS, "DENY"),
];

/// `https`: the portal's public address is https, so browsers are told to
/// use nothing else for a year (HSTS); over plain http the header would be
/// ignored anyway and only confuse.
fn add_security_headers(response: &mut Response, request_id: &str, https: bool) {
    let headers = response.headers_mut();
    if https {
        headers.insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000"),
        );
    }
    for (name, value) in SECURITY_HEADERS {
        headers.insert(name, HeaderValue::from_static(value));
    }
    headers
        .entry(header::CACHE_CONTROL)
        .or_insert(HeaderValue::from_static("no-store"));
    if let Ok(value) = HeaderValue::from_str(request_id) {
        headers.insert("x-request-id", value);
    }
}
