//! The Downloads section: the latest version of each application, and whether it
//! supports two-step verification. Open to everyone, linked from every header.

use askama::Template;
use axum::extract::State;
use axum::response::Response;

use crate::chrome::{Chrome, render};
use crate::session::Visitor;
use crate::{AppState, WebError};

struct AppView {
    name: String,
    version: String,
    platforms: String,
    download_url: String,
    two_step: bool,
}

#[derive(Template)]
#[template(path = "downloads.html")]
struct DownloadsPage {
    chrome: Chrome,
    apps: Vec<AppView>,
}

pub async fn list(State(state): State<AppState>, visitor: Visitor) -> Result<Response, WebError> {
    let apps = state
        .settings
        .apps
        .apps()
        .iter()
        .map(|app| AppView {
            name: app.name.clone(),
            version: app.latest_version.to_string(),
            platforms: app.platforms.join(", "),
            download_url: app.download_url.clone(),
            two_step: app.latest_supports_two_step(),
        })
        .collect();
    render(&DownloadsPage {
        chrome: visitor.chrome,
        apps,
    })
}
