//! The account portal's web layer: pages, the JSON API and HTTP hygiene.
//!
//! Handlers are thin: they parse input, call the core's rules, the store and the
//! senders, and render a page. Flows shared by pages and the API (sending and
//! checking codes, recording security events) live in `verification` and
//! `security_events`, written once.

mod api;
mod budgets;
mod chrome;
mod client_ip;
mod clock;
mod cookies;
mod credentials;
mod error;
mod hygiene;
pub mod metrics;
mod pages;
mod password_pool;
mod security_events;
mod session;
mod sms_guard;
mod state;
mod verification;

pub use api::ApiErrorCode;
pub use client_ip::ClientIp;
pub use clock::{Clock, format_time};
pub use error::{ErrorChain, WebError};
pub use password_pool::{DEFAULT_MAX_WAITING, HashPlace, Overloaded, PasswordPool};
pub use state::{AppState, Services, Settings};
pub use verification::{authenticator_context, phone_context, recovery_code_context};

use axum::Router;
use axum::routing::{get, post};

/// Every route of the portal, with the security middleware around them.
pub fn router(state: AppState) -> Router {
    use pages::*;
    let routes = Router::new()
        .route("/", get(home::index))
        .route("/healthz", get(home::healthz))
        .route("/metrics", get(home::metrics))
        .route("/static/style.css", get(home::stylesheet))
        .route("/sign-up", get(sign_up::form).post(sign_up::submit))
        .route("/sign-in", get(sign_in::form).post(sign_in::submit))
        .route(
            "/confirm-email",
            get(confirm_email::form).post(confirm_email::confirm),
        )
        .route("/account/confirm-email/resend", post(confirm_email::resend))
        .route(
            "/sign-in/verify",
            get(sign_in::second_step).post(sign_in::submit_code),
        )
        .route("/sign-in/verify/resend", get(sign_in::resend))
        .route("/sign-in/verify/use/{method}", get(sign_in::switch_method))
        .route("/sign-out", post(sign_in::sign_out))
        .route(
            "/forgot-password",
            get(password_reset::forgot_form).post(password_reset::forgot_submit),
        )
        .route(
            "/reset-password",
            get(password_reset::reset_form).post(password_reset::reset_submit),
        )
        .route("/reset-password/verify", post(password_reset::reset_verify))
        .route("/account", get(account::overview))
        .route("/account/settings", get(account::settings))
        .route("/account/settings/security", get(account::security_tab))
        .route("/account/password", post(password::change))
        .route(
            "/account/security-question",
            post(account::save_security_question),
        )
        .route(
            "/account/security/phone/{flow}",
            get(phone::password_step).post(phone::confirm_password),
        )
        .route(
            "/account/security/phone/{flow}/number",
            get(phone::number_step).post(phone::send_code),
        )
        .route(
            "/account/security/phone/{flow}/code",
            get(phone::code_step).post(phone::confirm_code),
        )
        .route(
            "/account/security/phone/{flow}/resend",
            post(phone::resend_code),
        )
        .route(
            "/account/security/two-step/turn-off",
            get(phone::turn_off_form).post(phone::turn_off),
        )
        .route(
            "/account/security/authenticator/set-up",
            get(authenticator::password_step).post(authenticator::confirm_password),
        )
        .route(
            "/account/security/authenticator/scan",
            get(authenticator::scan_step).post(authenticator::confirm_code),
        )
        .route(
            "/account/security/authenticator/qr.svg",
            get(authenticator::qr_code),
        )
        .route(
            "/account/security/authenticator/turn-off",
            get(authenticator::turn_off_form).post(authenticator::turn_off),
        )
        .route(
            "/account/sessions/sign-out-everywhere-else",
            post(sessions::sign_out_everywhere_else),
        )
        .route(
            "/account/sessions/{handle}/sign-out",
            post(sessions::sign_out_session),
        )
        .route(
            "/account/security/recovery-codes/new",
            get(recovery_codes::new_codes_form).post(recovery_codes::new_codes),
        )
        .route(
            "/account/security/recovery-codes/download",
            post(recovery_codes::download),
        )
        .route(
            "/account/security/remembered-devices/forget",
            get(remembered_device::forget_form).post(remembered_device::forget),
        )
        .route(
            "/account/connections/{id}/disconnect",
            get(account::disconnect_form).post(account::disconnect),
        )
        .route("/account/anti-theft", get(anti_theft::list))
        // Matched before `{command}`, which names only the four commands.
        .route(
            "/account/anti-theft/{id}/remove",
            get(anti_theft::remove_form).post(anti_theft::remove),
        )
        .route(
            "/account/anti-theft/{id}/{command}",
            get(anti_theft::command_form).post(anti_theft::send),
        )
        .route("/downloads", get(downloads::list))
        .route("/authenticator-apps", get(authenticator_apps::list))
        .route("/dev/outbox", get(outbox::list))
        .fallback(home::not_found);
    let (api, document) = api::router(&state.settings.apps);
    let document = api::OpenApiJson(std::sync::Arc::new(
        document.to_pretty_json().unwrap_or_default(),
    ));
    hygiene::wrap(
        routes.merge(api.layer(axum::Extension(document))),
        state.clone(),
    )
    .with_state(state)
}

/// `/metrics` alone, for the separate `metrics_listen` address; its own
/// requests are not counted, so scraping does not move what it reads.
pub fn metrics_router(state: AppState) -> Router {
    Router::new()
        .route("/metrics", get(pages::home::metrics_on_own_listener))
        .with_state(state)
}
