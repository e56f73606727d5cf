//! "Authenticator apps": the examples the help page points to, from the
//! operator's list, and why a second device matters. Open to everyone, so that
//! it can be read before signing in or on the device being set up.

use askama::Template;
use axum::extract::State;
use axum::response::Response;
use domain::authenticator_apps::{AuthenticatorApp, WHY_A_SECOND_DEVICE};

use crate::chrome::{Chrome, render};
use crate::session::Visitor;
use crate::{AppState, WebError};

#[derive(Template)]
#[template(path = "authenticator_apps.html")]
struct AuthenticatorAppsPage<'a> {
    chrome: Chrome,
    apps: &'a [AuthenticatorApp],
    why_a_second_device: &'static str,
}

pub async fn list(State(state): State<AppState>, visitor: Visitor) -> Result<Response, WebError> {
    render(&AuthenticatorAppsPage {
        chrome: visitor.chrome,
        apps: &state.settings.authenticator_apps,
        why_a_second_device: WHY_A_SECOND_DEVICE,
    })
}
