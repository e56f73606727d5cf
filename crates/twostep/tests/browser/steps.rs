//! Steps several flows share, each written the way the help page words it.

use crate::authenticator_app::oathtool_code;
use crate::browser::Browser;
use crate::names::Scope;

pub const PASSWORD: &str = "correct horse battery staple";
pub const PHONE: &str = "+1 650 253 0000";
pub const PHONE_E164: &str = "+16502530000";
/// The new phone a person moves to with Change phone number.
pub const NEW_PHONE: &str = "+1 415 555 2671";
pub const NEW_PHONE_E164: &str = "+14155552671";

pub const TWO_STEP: Scope<'static> = Scope::Section("Two-step verification");

impl Browser {
    /// A person who has signed up with `email` and set up SMS two-step
    /// verification with `PHONE`, on the Security tab.
    pub async fn with_sms_two_step(test: &str, email: &str) -> Browser {
        let mut person = Browser::start(test).await;
        person.sign_up(email).await;
        person.set_up_sms(email).await;
        person
    }

    /// The sign-in page's "Create account" link → Email, Password → Create
    /// account → the link from the e-mail → Confirm → Sign in.
    pub async fn sign_up(&mut self, email: &str) {
        self.create_account(email).await;
        self.follow_confirmation_link(email).await;
        self.assert_sees("Your e-mail address is confirmed.").await;
        self.click_link_in(Scope::Header, "Sign in", "sign-in-after-confirming")
            .await;
        self.enter_email_and_password(email, PASSWORD, "signed-in")
            .await;
        self.assert_signed_in_as(email).await;
    }

    /// The sign-in page's "Create account" link → Email, Password → Create
    /// account: "Check your e-mail", nobody signed in yet.
    pub async fn create_account(&mut self, email: &str) {
        self.open("/sign-in", "sign-in").await;
        self.click_link("Create account", "create-account").await;
        self.fill("Email", email).await;
        self.fill("Password", PASSWORD).await;
        self.click_button("Create account", "check-your-email")
            .await;
        let heading = self.heading().await;
        if heading != "Check your e-mail" {
            self.fail(&format!("Create account led to {heading:?}"))
                .await;
        }
    }

    /// The link to this portal's `path` in an e-mail's text.
    pub fn link_in(&self, text: &str, path: &str) -> String {
        text.split_whitespace()
            .find(|word| word.starts_with(&self.app.address) && word.contains(path))
            .unwrap_or_else(|| panic!("no link to {path} in the e-mail {text:?}"))
            .to_owned()
    }

    /// The confirmation e-mail in the outbox → its link → Confirm.
    pub async fn follow_confirmation_link(&mut self, email: &str) {
        let text = self
            .read_outbox("E-mail", email, Some("Confirm your e-mail address"))
            .await;
        let link = self.link_in(&text, "/confirm-email?token=");
        self.open(&link, "confirmation-link-opened").await;
        self.click_button("Confirm", "email-confirmed").await;
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
    /// Phone number (`PHONE`) → Get code → the code from the SMS → Security
    /// code → Confirm → the Recovery codes, shown once → Continue, back on the
    /// Security tab. Answers the recovery codes as the page shows them.
    pub async fn set_up_sms(&mut self, email: &str) -> Vec<String> {
        self.go_to_security_tab(email).await;
        self.click_button_in(TWO_STEP, "Set up", "set-up-two-step")
            .await;
        self.fill("Password", PASSWORD).await;
        self.click_button("Continue", "phone-number").await;
        self.fill("Phone number", PHONE).await;
        self.click_button("Get code", "code-sent").await;
        self.assert_sees("We sent a security code by SMS").await;
        let code = self.sms_code(PHONE_E164).await;
        self.fill("Security code", &code).await;
        self.click_button("Confirm", "two-step-on").await;
        self.assert_sees("Your phone number is confirmed and set up to receive security codes.")
            .await;
        let codes = self.recovery_codes_shown().await;
        self.click_link("Continue", "security-tab-after-codes")
            .await;
        codes
    }

    /// The page headed Recovery codes: its ten codes, as shown.
    pub async fn recovery_codes_shown(&mut self) -> Vec<String> {
        self.assert_sees("Recovery codes").await;
        self.assert_sees("Keep them somewhere safe").await;
        self.button(Scope::Page, "Download").await;
        let mut codes = Vec::new();
        for item in self
            .client
            .find_all(fantoccini::Locator::Css(".recovery-codes code"))
            .await
            .expect("the list of codes")
        {
            codes.push(item.text().await.expect("a code's text"));
        }
        if codes.len() != 10 || codes.iter().any(|code| code.len() != 14) {
            self.fail(&format!("not ten codes like 7KQ2-9XWD-M4TP: {codes:?}"))
                .await;
        }
        codes
    }
}

impl Browser {
    /// On the Security tab: Authenticator app → Set up → Password → Continue;
    /// answers the secret key as the page shows it, in groups.
    pub async fn open_authenticator_set_up(&mut self) -> String {
        self.click_button_in(
            Scope::Section("Authenticator app"),
            "Set up",
            "set-up-authenticator",
        )
        .await;
        self.fill("Password", PASSWORD).await;
        self.click_button("Continue", "qr-code-and-secret-key")
            .await;
        self.labelled("Secret key")
            .await
            .text()
            .await
            .expect("secret key text")
    }

    /// The code oathtool shows for `secret` → Security code → Confirm; answers
    /// the 30-second step that code belongs to.
    pub async fn confirm_authenticator(&mut self, secret: &str) -> u64 {
        let (code, used_step) = oathtool_code(secret);
        self.fill("Security code", &code).await;
        self.click_button("Confirm", "authenticator-on").await;
        self.assert_sees("Your app is set up.").await;
        used_step
    }

    /// On the Security tab: Two-step verification → Turn off → Password → Turn off.
    pub async fn turn_off_two_step(&mut self) {
        self.click_button_in(TWO_STEP, "Turn off", "turn-off-two-step")
            .await;
        self.fill("Password", PASSWORD).await;
        self.click_button("Turn off", "two-step-off").await;
        self.assert_sees("Two-step verification is off.").await;
    }
}

impl Browser {
    /// The pencil → Password → Continue → Phone number (the new phone) → Get
    /// code → the code sent to the new phone → Confirm. The lost phone still
    /// has `old_phone_messages` SMS: none more.
    pub async fn change_to_the_new_phone(&mut self, email: &str, old_phone_messages: usize) {
        self.click_control_in(TWO_STEP, "Change phone number", "change-phone-number")
            .await;
        self.fill("Password", PASSWORD).await;
        self.click_button("Continue", "new-phone-number").await;
        self.fill("Phone number", NEW_PHONE).await;
        self.click_button("Get code", "code-sent-to-new-phone")
            .await;
        let sms = self.read_outbox("SMS", NEW_PHONE_E164, None).await;
        assert_eq!(
            self.outbox_count("SMS", PHONE_E164).await,
            old_phone_messages,
            "nothing goes to the lost phone"
        );
        let code = six_digits(&sms).expect("a code in the SMS");
        self.back("back-to-the-code-page").await;
        self.fill("Security code", &code).await;
        self.click_button("Confirm", "phone-number-changed").await;
        self.assert_sees(
            "Your new phone number is confirmed and set up to receive security codes.",
        )
        .await;
        assert_eq!(self.field_value("Phone number").await, "+1 ••• ••• 2671");
        self.assert_email_says(email, "Your phone number was changed", "+1 ••• ••• 2671")
            .await;
    }
}

/// A table as a person reads it: the column headings, then each row's cells.
pub struct Table {
    pub headings: Vec<String>,
    pub rows: Vec<Vec<String>>,
}

impl Table {
    /// The row whose first cell (its row heading) reads `name`, as heading → cell.
    pub fn row(&self, name: &str) -> Option<Vec<(&str, &str)>> {
        let row = self
            .rows
            .iter()
            .find(|row| row.first().map(String::as_str) == Some(name))?;
        Some(
            self.headings
                .iter()
                .map(String::as_str)
                .zip(row.iter().map(String::as_str))
                .collect(),
        )
    }

    /// The cell in the row named `row` under the column heading `column`.
    pub fn cell(&self, row: &str, column: &str) -> Option<&str> {
        let row = self.row(row)?;
        row.into_iter()
            .find(|(heading, _)| *heading == column)
            .map(|(_, cell)| cell)
    }
}

impl Browser {
    /// The one table visible in `scope`, read as rendered text (visually hidden
    /// headings included: a screen reader reads them too).
    pub async fn table_in(&mut self, scope: Scope<'_>) -> Table {
        let table = self
            .unique(&format!("{}//table", scope.xpath()), "a table")
            .await;
        let script = "const table = arguments[0];
            const cells = (row) => Array.from(row.cells, (cell) => cell.innerText.replace(/\\s+/g, ' ').trim());
            const head = table.tHead ? Array.from(table.tHead.rows, cells) : [];
            const body = Array.from(table.tBodies).flatMap((tbody) => Array.from(tbody.rows, cells));
            return [head.length ? head[head.length - 1] : [], body];";
        let json = self.execute_on(script, &table).await;
        let (headings, rows): (Vec<String>, Vec<Vec<String>>) =
            serde_json::from_value(json).expect("headings and rows");
        Table { headings, rows }
    }

    /// Nothing in the section sticks out of it sideways (the settings window
    /// would clip it, so the page itself never scrolls).
    pub async fn assert_section_fits(&mut self, name: &str) {
        let section = self.section(name).await;
        let script = "const s = arguments[0]; return [s.scrollWidth, s.clientWidth];";
        let widths = self.execute_on(script, &section).await;
        self.assert_no_sideways_scroll(widths, |content, room| {
            format!("the section {name:?} holds {content} px of content in {room} px")
        })
        .await;
    }
}

/// The first whitespace-separated word of six digits.
pub fn six_digits(text: &str) -> Option<String> {
    text.split(|c: char| !c.is_ascii_digit())
        .find(|word| word.len() == 6)
        .map(str::to_owned)
}
