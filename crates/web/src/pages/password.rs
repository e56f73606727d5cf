//! Changing the password on the Security tab (the forgotten-password reset is in
//! `password_reset`).

use axum::Form;
use axum::response::Response;
use domain::Password;
use domain::account::SecurityEvent;

use crate::WebError;
use crate::pages::account::{SecurityTabInput, render_security_tab};
use crate::session::{Page, SignedIn};

text_form!(ChangePasswordForm {
    current_password,
    new_password
});

pub async fn change(
    Page(state, signed_in): Page<SignedIn>,
    Form(form): Form<ChangePasswordForm>,
) -> Result<Response, WebError> {
    let current = super::check_password(&state, &signed_in, &form.current_password).await?;
    let new_password = Password::parse_new(&form.new_password);
    let new_password = match (current, new_password) {
        (Ok(()), Ok(password)) => password,
        (current, new_password) => {
            let input = SecurityTabInput {
                current_password_error: current.err().map(|e| e.to_string()),
                new_password_error: new_password.err().map(|e| e.to_string()),
                ..Default::default()
            };
            return render_security_tab(&state, &signed_in, input, None).await;
        }
    };
    let hash = state
        .passwords
        .hash(new_password.as_str().to_owned())
        .await?;
    state
        .store
        .set_password(signed_in.account.id, &hash, state.now())
        .await?;
    // Anyone else signed in with the old password is signed out.
    state
        .store
        .delete_sessions_of_account(signed_in.account.id, Some(&signed_in.session_digest))
        .await?;
    super::security_changed(&state, &signed_in.account, SecurityEvent::PasswordChanged).await
}
