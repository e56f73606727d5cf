//! Steps several flows share, each written the way the help page words it.

use crate::browser::Browser;
use crate::names::Scope;

pub const PASSWORD: &str = "correct horse battery staple";

impl Browser {
    /// The sign-in page's "Create account" link → Email, Password → Create account.
    pub async fn sign_up(&mut self, email: &str) {
        self.open("/sign-in", "sign-in").await;
        self.click_link("Create account", "create-account").await;
        self.fill("Email", email).await;
        self.fill("Password", PASSWORD).await;
        self.click_button("Create account", "signed-up").await;
        self.assert_signed_in_as(email).await;
    }

    pub async fn assert_signed_in_as(&mut self, email: &str) {
        self.assert_path_is("/account").await;
        let header = self
            .client
            .find(fantoccini::Locator::Css("header"))
            .await
            .expect("a header");
        let text = header.text().await.expect("header text");
        if !text.contains(email) {
            self.fail(&format!("the header does not show {email}: {text:?}"))
                .await;
        }
    }

    /// The e-mail link in the upper-right corner → Manage account → Security tab.
    pub async fn go_to_security_tab(&mut self, email: &str) {
        self.open_account_menu(email).await;
        self.click_button_in(Scope::Header, "Manage account", "account-settings")
            .await;
        let window = self.heading().await;
        if window != "Account settings" {
            self.fail(&format!(
                "Manage account opened {window:?}, not the account settings window"
            ))
            .await;
        }
        let tabs = Scope::Navigation("Account settings");
        self.click_link_in(tabs, "Security", "security-tab").await;
        let tab = self.link(tabs, "Security").await;
        if tab
            .attr("aria-current")
            .await
            .expect("aria-current")
            .as_deref()
            != Some("page")
        {
            self.fail("the Security tab is not marked as the current tab")
                .await;
        }
    }

    /// Sign out, from the account menu.
    pub async fn sign_out(&mut self, email: &str) {
        self.open_account_menu(email).await;
        self.click_button_in(Scope::Header, "Sign out", "signed-out")
            .await;
        self.assert_path_is("/sign-in").await;
        self.assert_sees("You have signed out.").await;
    }

    /// The first step of signing in: Email, Password → Sign in.
    pub async fn enter_email_and_password(&mut self, email: &str, password: &str, step: &str) {
        if self.path().await.split('?').next() != Some("/sign-in") {
            self.open("/sign-in", "sign-in").await;
        }
        self.fill("Email", email).await;
        self.fill("Password", password).await;
        self.click_button("Sign in", step).await;
    }

    /// The code in the newest SMS to `e164`, read from the outbox; then back to the page.
    pub async fn sms_code(&mut self, e164: &str) -> String {
        let text = self.read_outbox("SMS", e164, None).await;
        let code =
            six_digits(&text).unwrap_or_else(|| panic!("no 6-digit code in the SMS {text:?}"));
        self.back("back-to-the-code-page").await;
        code
    }

    /// Security tab → Two-step verification → Set up → Password → Continue →
    /// Phone number → Get code → the code from the SMS → Security code → Confirm.
    pub async fn set_up_sms(&mut self, email: &str, phone: &str, e164: &str) {
        self.go_to_security_tab(email).await;
        self.click_button_in(
            Scope::Section("Two-step verification"),
            "Set up",
            "set-up-two-step",
        )
        .await;
        self.fill("Password", PASSWORD).await;
        self.click_button("Continue", "phone-number").await;
        self.fill("Phone number", phone).await;
        self.click_button("Get code", "code-sent").await;
        self.assert_sees("We sent a security code by SMS").await;
        let code = self.sms_code(e164).await;
        self.fill("Security code", &code).await;
        self.click_button("Confirm", "two-step-on").await;
        self.assert_sees("Your phone number is confirmed and set up to receive security codes.")
            .await;
    }
}

/// The first whitespace-separated word of six digits.
pub fn six_digits(text: &str) -> Option<String> {
    text.split(|c: char| !c.is_ascii_digit())
        .find(|word| word.len() == 6)
        .map(str::to_owned)
}
