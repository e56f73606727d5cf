//! "Don't ask again on this device": a random cookie, kept 30 days, whose digest
//! the store binds to the account, lets a sign-in from that browser with the
//! right password skip the second step. **Forget remembered devices** on the
//! Security tab (password first) ends that for every browser at once.

use axum::Form;
use axum::http::HeaderMap;
use axum::response::Response;
use domain::account::SecurityEvent;
use domain::digests::DeviceDigest;
use domain::recovery_codes::RememberDevicePolicy;
use storage::Account;

use super::phone::PasswordStep;
use crate::session::{Page, SignedIn};
use crate::{AppState, WebError, cookies};

/// A device being remembered at the end of a sign-in.
pub struct NewDevice {
    token: String,
    digest: DeviceDigest,
    expires_at: i64,
}

impl NewDevice {
    pub fn at(now: i64) -> Self {
        let token = domain::secrets::random_token();
        Self {
            digest: DeviceDigest::of(&token),
            expires_at: RememberDevicePolicy::default().expires_at(now),
            token,
        }
    }

    /// What the sign-in's transaction stores.
    pub fn to_store(&self) -> storage::RememberDevice<'_> {
        storage::RememberDevice {
            digest: &self.digest,
            expires_at: self.expires_at,
        }
    }

    pub fn set_cookie(&self, state: &AppState, response: &mut Response) {
        cookies::set_lasting(
            response.headers_mut(),
            cookies::DEVICE,
            &self.token,
            RememberDevicePolicy::default().lifetime_seconds,
            state.settings.secure_cookies(),
        );
    }
}

/// Whether the browser's device cookie was given for this account and is still
/// remembered: another account's cookie, a forgotten or an expired one is not.
pub async fn is_remembered(
    state: &AppState,
    headers: &HeaderMap,
    account: &Account,
) -> Result<bool, WebError> {
    let Some(token) = cookies::read(headers, cookies::DEVICE, state.settings.secure_cookies())
    else {
        return Ok(false);
    };
    let remembered = state
        .store
        .device_is_remembered(&DeviceDigest::of(&token), account.id, state.now())
        .await?;
    if remembered {
        tracing::info!(
            account_id = account.id.get(),
            "second step skipped on a remembered device"
        );
    }
    Ok(remembered)
}

const FORGET_PATH: &str = "/account/security/remembered-devices/forget";

fn forget_page(signed_in: &SignedIn, error: Option<String>) -> PasswordStep {
    PasswordStep {
        chrome: signed_in.chrome(),
        title: "Forget remembered devices",
        explanation: "Every device where you chose \u{201c}Don't ask again on this device\u{201d} will ask for a security code at its next sign-in. Enter your password to continue.",
        action: FORGET_PATH.into(),
        button: "Forget remembered devices",
        error,
    }
}

pub async fn forget_form(signed_in: SignedIn) -> Result<Response, WebError> {
    forget_page(&signed_in, None).render()
}

pub async fn forget(
    Page(state, signed_in): Page<SignedIn>,
    Form(form): Form<super::PasswordForm>,
) -> Result<Response, WebError> {
    if let Err(wrong) = super::check_password(&state, &signed_in, &form.password).await? {
        return forget_page(&signed_in, Some(wrong.to_string())).render();
    }
    state
        .store
        .forget_remembered_devices(signed_in.account.id)
        .await?;
    super::security_changed(
        &state,
        &signed_in.account,
        SecurityEvent::RememberedDevicesForgotten,
    )
    .await
}
