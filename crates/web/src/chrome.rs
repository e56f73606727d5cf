//! What every page shares: the header with the account menu, and rendering.

use askama::Template;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};

use crate::WebError;

/// The page frame's data: who is signed in (for the e-mail link in the upper-right
/// corner) and the CSRF token every form carries.
#[derive(Clone, Debug, Default)]
pub struct Chrome {
    pub email: Option<String>,
    pub csrf_token: String,
    pub dev_outbox: bool,
    /// The signed-in account's address waits for its link: every page says so
    /// and offers to send the link again.
    pub email_unconfirmed: bool,
}

pub fn render(template: &impl Template) -> Result<Response, WebError> {
    Ok(Html(template.render()?).into_response())
}

pub fn render_with_status(
    status: StatusCode,
    template: &impl Template,
) -> Result<Response, WebError> {
    Ok((status, Html(template.render()?)).into_response())
}

/// A form page: 422 when it shows what was wrong with the input, 200 otherwise.
pub fn render_form(template: &impl Template, has_errors: bool) -> Result<Response, WebError> {
    if has_errors {
        render_with_status(StatusCode::UNPROCESSABLE_ENTITY, template)
    } else {
        render(template)
    }
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage<'a> {
    chrome: Chrome,
    title: &'a str,
    message: &'a str,
    request_id: Option<&'a str>,
}

/// What an error page said, kept on its response: a [`WebError`] is turned
/// into a page without knowing who asked, so the page is drawn in a signed-out
/// frame, and the hygiene layer draws it again in the signed-in person's
/// (`crate::hygiene`), lest a mistyped link look like being signed out.
#[derive(Clone, Debug)]
pub struct ErrorPageText {
    pub title: String,
    pub message: String,
}

pub fn error_page(
    status: StatusCode,
    title: &str,
    message: &str,
    request_id: Option<&str>,
) -> Response {
    let mut response = error_page_in(Chrome::default(), status, title, message, request_id);
    response.extensions_mut().insert(ErrorPageText {
        title: title.to_owned(),
        message: message.to_owned(),
    });
    response
}

/// An error page in the frame of whoever asked.
pub fn error_page_in(
    chrome: Chrome,
    status: StatusCode,
    title: &str,
    message: &str,
    request_id: Option<&str>,
) -> Response {
    let page = ErrorPage {
        chrome,
        title,
        message,
        request_id,
    };
    match page.render() {
        Ok(html) => (status, Html(html)).into_response(),
        Err(_) => (status, message.to_owned()).into_response(),
    }
}
