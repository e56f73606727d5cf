//! The development outbox: every SMS and e-mail the outbox providers "sent",
//! newest first. It exists only while a provider is `outbox`, for loopback
//! clients, while the public address is not https (`AppState::dev_outbox_served_to`).

use askama::Template;
use axum::extract::State;
use axum::response::Response;

use crate::chrome::{Chrome, render};
use crate::session::Visitor;
use crate::{AppState, WebError};

#[derive(Template)]
#[template(path = "outbox.html")]
struct OutboxPage {
    chrome: Chrome,
    messages: Vec<MessageView>,
}

struct MessageView {
    channel: &'static str,
    to: String,
    subject: Option<String>,
    text: String,
    sent_at: String,
}

pub async fn list(State(state): State<AppState>, visitor: Visitor) -> Result<Response, WebError> {
    // The chrome's link is computed by the same rule from the same request.
    if !visitor.chrome.dev_outbox {
        return Err(WebError::NotFound);
    }
    let data_dir = state.settings.data_dir.clone();
    let messages = tokio::task::spawn_blocking(move || delivery::read_outbox(&data_dir))
        .await
        .map_err(WebError::internal)?
        .map_err(WebError::internal)?;
    let messages = messages
        .into_iter()
        .map(|m| MessageView {
            channel: match m.channel {
                delivery::Channel::Sms => "SMS",
                delivery::Channel::Email => "E-mail",
            },
            to: m.to,
            subject: m.subject,
            text: m.text,
            sent_at: m.sent_at,
        })
        .collect();
    render(&OutboxPage {
        chrome: visitor.chrome,
        messages,
    })
}
