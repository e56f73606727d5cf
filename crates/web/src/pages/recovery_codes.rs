//! Recovery codes on the Security tab: the page headed **Recovery codes** that
//! shows a new set once (after two-step verification is turned on, and after
//! **Get new codes**, which asks for the password first), and its **Download**.
//! Only the codes' keyed digests are stored, so a set is never shown again.

use askama::Template;
use axum::Form;
use axum::http::header::{CACHE_CONTROL, CONTENT_DISPOSITION, CONTENT_TYPE};
use axum::response::{IntoResponse, Response};
use domain::account::SecurityEvent;
use domain::digests::CodeDigest;
use domain::recovery_codes::{RecoveryCode, RecoveryCodePolicy, download_text};
use domain::secrets::KeyId;
use storage::Account;

use super::Notice;
use super::phone::PasswordStep;
use crate::chrome::{Chrome, render};
use crate::session::{Page, SignedIn};
use crate::verification::{recovery_code_digest, two_step_of};
use crate::{AppState, WebError, security_events};

#[derive(Template)]
#[template(path = "recovery_codes.html")]
struct RecoveryCodesPage {
    chrome: Chrome,
    notice: Option<Notice>,
    /// As shown: `7KQ2-9XWD-M4TP`.
    codes: Vec<String>,
}

/// A new set of codes, and the keyed digests the store keeps of them with the
/// id of the key that made them.
pub struct NewSet {
    codes: Vec<RecoveryCode>,
    pub key_id: KeyId,
    pub digests: Vec<CodeDigest>,
}

impl NewSet {
    pub fn generate(state: &AppState, account: &Account) -> Self {
        let codes = RecoveryCodePolicy::default().generate_set();
        let digests = codes
            .iter()
            .map(|code| recovery_code_digest(state, account.id, code))
            .collect();
        Self {
            codes,
            key_id: state.key.id(),
            digests,
        }
    }

    /// The page that shows the set, this once.
    pub fn show(self, signed_in: &SignedIn, notice: Option<Notice>) -> Result<Response, WebError> {
        render(&RecoveryCodesPage {
            chrome: signed_in.chrome(),
            notice,
            codes: self.codes.iter().map(RecoveryCode::grouped).collect(),
        })
    }
}

const NEW_CODES_PATH: &str = "/account/security/recovery-codes/new";

fn new_codes_page(signed_in: &SignedIn, error: Option<String>) -> PasswordStep {
    PasswordStep {
        chrome: signed_in.chrome(),
        title: "Get new codes",
        explanation: "Your current recovery codes will stop working, and a new set will be shown once. Enter your password to continue.",
        action: NEW_CODES_PATH.into(),
        button: "Get new codes",
        error,
    }
}

/// Recovery codes exist only while two-step verification is on.
fn require_two_step(signed_in: &SignedIn) -> Result<(), WebError> {
    if two_step_of(&signed_in.account).is_on() {
        Ok(())
    } else {
        Err(WebError::BadRequest(
            "Recovery codes are created when you set up two-step verification.".into(),
        ))
    }
}

pub async fn new_codes_form(signed_in: SignedIn) -> Result<Response, WebError> {
    require_two_step(&signed_in)?;
    new_codes_page(&signed_in, None).render()
}

/// **Get new codes**: voids the old set and shows the new one once.
pub async fn new_codes(
    Page(state, signed_in): Page<SignedIn>,
    Form(form): Form<super::PasswordForm>,
) -> Result<Response, WebError> {
    require_two_step(&signed_in)?;
    if let Err(wrong) = super::check_password(&state, &signed_in, &form.password).await? {
        return new_codes_page(&signed_in, Some(wrong.to_string())).render();
    }
    let set = NewSet::generate(&state, &signed_in.account);
    state
        .store
        .replace_recovery_codes(signed_in.account.id, set.key_id, &set.digests, state.now())
        .await?;
    security_events::record(
        &state,
        &signed_in.account,
        SecurityEvent::RecoveryCodesReplaced,
    )
    .await?;
    set.show(&signed_in, None)
}

text_form! {
    /// The codes of the page, sent back to be returned as a file: nothing of a
    /// set is kept that could be downloaded later.
    DownloadForm { codes }
}

/// **Download**: the codes on the page as a text file. Only what reads as a
/// set of recovery codes is written back, so the file can hold nothing else.
pub async fn download(
    Page(state, signed_in): Page<SignedIn>,
    Form(form): Form<DownloadForm>,
) -> Result<Response, WebError> {
    let codes = form
        .codes
        .split_whitespace()
        .map(RecoveryCode::parse)
        .collect::<Result<Vec<_>, _>>()
        .ok()
        .filter(|codes| {
            !codes.is_empty() && codes.len() <= RecoveryCodePolicy::default().codes_per_set
        })
        .ok_or_else(|| WebError::BadRequest("There are no recovery codes to download.".into()))?;
    let text = download_text(
        &state.settings.service_name,
        &signed_in.account.email,
        &codes,
    );
    let filename = format!("{}-recovery-codes.txt", state.settings.service_name).replace(
        |c: char| !c.is_ascii_alphanumeric() && c != '-' && c != '.',
        "-",
    );
    Ok((
        [
            (CONTENT_TYPE, "text/plain; charset=utf-8".to_owned()),
            (
                CONTENT_DISPOSITION,
                format!("attachment; filename=\"{filename}\""),
            ),
            (CACHE_CONTROL, "no-store".to_owned()),
        ],
        text,
    )
        .into_response())
}
