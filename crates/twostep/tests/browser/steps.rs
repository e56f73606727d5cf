//! Steps several flows share, each written the way the help page words it.

use crate::browser::Browser;
use crate::names::Scope;

pub const PASSWORD: &str = "correct horse battery staple";
pub const PHONE: &str = "+1 650 253 0000";
pub const PHONE_E164: &str = "+16502530000";

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
    /// code → Confirm.
    pub async fn set_up_sms(&mut self, email: &str) {
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
    }
}

impl Browser {
    /// On the Security tab: Two-step verification → Turn off → Password → Turn off.
    pub async fn turn_off_two_step(&mut self) {
        self.click_button_in(TWO_STEP, "Turn off", "turn-off-two-step")
            .await;
        self.fill("Password", PASSWORD).await;
        self.click_button("Turn off", "two-step-off").await;
        self.assert_sees("Two-step verification is off.").await;
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
