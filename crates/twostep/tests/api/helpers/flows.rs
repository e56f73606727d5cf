//! The flows of the help page that many tests walk before what they test: sign
//! up, set up SMS two-step verification, set up the authenticator app, pass the
//! password step and enter a code, ask for a password reset. Each asserts that
//! its steps went where the help page says, so a test starts from a known state.

use domain::Method;
use domain::authenticator::{AuthenticatorSecret, STEP_SECONDS, code_at};

use super::{Browser, PASSWORD, PHONE, Page, TestApp};

pub const SECURITY_TAB: &str = "/account/settings/security";

/// The two flows that end with a code sent to a phone: setting up SMS two-step
/// verification, and the pencil that changes the number.
#[derive(Clone, Copy)]
pub enum PhoneFlow {
    SetUp,
    Change,
}

impl PhoneFlow {
    /// The flow's first page (the password step); `step` is "", "number",
    /// "code" or "resend".
    pub fn path(self, step: &str) -> String {
        let start = match self {
            PhoneFlow::SetUp => "/account/security/phone/set-up",
            PhoneFlow::Change => "/account/security/phone/change",
        };
        if step.is_empty() {
            start.to_owned()
        } else {
            format!("{start}/{step}")
        }
    }
}

impl TestApp {
    /// A browser that signed up with `email`, confirmed the address with the
    /// link from the e-mail and signed in.
    pub async fn signed_up(&self, email: &str) -> Browser {
        let browser = self.signed_up_unconfirmed(email).await;
        browser.confirm_email(self, email).await;
        browser
    }

    /// A browser that signed up with `email` and signed in with its password,
    /// the address not yet confirmed.
    pub async fn signed_up_unconfirmed(&self, email: &str) -> Browser {
        let browser = self.browser();
        browser.sign_up(email, PASSWORD).await.assert_checks_email();
        browser
            .sign_in(email, PASSWORD)
            .await
            .assert_redirect_to("/account");
        browser
    }

    /// The token of the newest confirmation link e-mailed to `email`, by the
    /// memory sender or into the development outbox.
    pub async fn confirmation_token(&self, email: &str) -> String {
        let subject = "Confirm your e-mail address";
        let mut text = None;
        for _ in 0..100 {
            text = self
                .email
                .messages()
                .into_iter()
                .rev()
                .find(|e| e.to == email && e.subject == subject)
                .map(|e| e.text)
                .or_else(|| self.outbox_email_text(email, subject));
            if text.is_some() {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        let text = text.unwrap_or_else(|| panic!("no confirmation e-mail to {email}"));
        let link = format!("{}/confirm-email?token=", self.address);
        let start = text
            .find(&link)
            .expect("the e-mail holds a confirmation link to this portal")
            + link.len();
        text[start..].split_whitespace().next().unwrap().to_owned()
    }

    /// The text of the newest e-mail to `to` with `subject` in the development
    /// outbox (JSON lines in the data folder), if there is one.
    fn outbox_email_text(&self, to: &str, subject: &str) -> Option<String> {
        let path = self.config.data_dir.join("outbox").join("email.jsonl");
        let lines = std::fs::read_to_string(path).ok()?;
        lines
            .lines()
            .rev()
            .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
            .find(|e| e["to"] == to && e["subject"] == subject)
            .and_then(|e| e["text"].as_str().map(str::to_owned))
    }

    /// A signed-in browser whose account has SMS two-step verification on.
    pub async fn with_sms_two_step(&self, email: &str) -> Browser {
        let browser = self.signed_up(email).await;
        browser.set_up_sms(self, PHONE).await;
        browser
    }

    /// SMS two-step verification, then the authenticator app; the clock is then
    /// at the start of the next 30-second step (see `start_of_next_step`).
    pub async fn with_authenticator(&self, email: &str) -> (Browser, AuthenticatorSecret) {
        let browser = self.with_sms_two_step(email).await;
        let secret = browser.set_up_authenticator(self).await;
        self.start_of_next_step();
        (browser, secret)
    }

    /// A fresh browser that has passed the password step of signing in and
    /// is asked for a code.
    pub async fn past_the_password(&self, email: &str) -> Browser {
        self.fresh_sign_in(email, PASSWORD, "/sign-in/verify").await
    }

    /// Asks for a reset link in a fresh browser, as someone who forgot the
    /// password: that browser, the token from the e-mail, and the link's path.
    pub async fn ask_for_reset(&self, email: &str) -> (Browser, String, String) {
        let browser = self.browser();
        let token = self.reset_token(&browser, email).await;
        let path = format!("/reset-password?token={token}");
        (browser, token, path)
    }

    /// Asks for a reset link in `browser` and returns the token from the e-mail.
    pub async fn reset_token(&self, browser: &Browser, email: &str) -> String {
        let page = browser.post("/forgot-password", &[("email", email)]).await;
        assert_eq!(page.status, 200);
        let message = self.wait_for_email(email, "Reset your password").await;
        let link = format!("{}/reset-password?token=", self.address);
        let start = message
            .text
            .find(&link)
            .expect("the e-mail holds a reset link to this portal")
            + link.len();
        message.text[start..]
            .split_whitespace()
            .next()
            .unwrap()
            .to_owned()
    }

    /// A fresh browser signs in with `password` alone, straight to the account.
    pub async fn assert_signs_in(&self, email: &str, password: &str) -> Browser {
        self.fresh_sign_in(email, password, "/account").await
    }

    /// The password of `email` is now `new`: `old` is refused, `new` signs in.
    pub async fn assert_password_changed(&self, email: &str, old: &str, new: &str) {
        self.assert_sign_in_refused(email, old).await;
        self.assert_signs_in(email, new).await;
    }

    /// A fresh browser enters `email` and `password` and is sent to `next`.
    async fn fresh_sign_in(&self, email: &str, password: &str, next: &str) -> Browser {
        let browser = self.browser();
        let page = browser.sign_in(email, password).await;
        page.assert_redirect_to(next);
        browser
    }

    /// A fresh browser's sign-in with `password` is refused (422).
    pub async fn assert_sign_in_refused(&self, email: &str, password: &str) {
        let page = self.browser().sign_in(email, password).await;
        assert_eq!(page.status, 422, "{email} signed in with {password:?}");
    }

    /// The code the authenticator app shows now.
    pub fn totp(&self, secret: &AuthenticatorSecret) -> String {
        code_at(secret, self.clock.now()).as_str().to_owned()
    }

    /// Six digits that the app shows neither at the previous, current nor next step.
    pub fn wrong_totp(&self, secret: &AuthenticatorSecret) -> String {
        let now = self.clock.now();
        let valid: Vec<String> = [-STEP_SECONDS, 0, STEP_SECONDS]
            .iter()
            .map(|d| code_at(secret, now + d).as_str().to_owned())
            .collect();
        (0..10)
            .map(|d| d.to_string().repeat(6))
            .find(|c| !valid.contains(c))
            .unwrap()
    }

    /// Moves the clock to the start of the next 30-second step: the step of the
    /// code that confirmed the set-up counts as used, and a test about one step
    /// gets the whole of it before real time moves on.
    pub fn start_of_next_step(&self) {
        self.clock
            .advance(STEP_SECONDS - self.clock.now().rem_euclid(STEP_SECONDS));
    }
}

impl Browser {
    /// Create account: Email, Password → Create account.
    pub async fn sign_up(&self, email: &str, password: &str) -> Page {
        self.post("/sign-up", &[("email", email), ("password", password)])
            .await
    }

    /// The link from the e-mail → Confirm; the signed-in owner lands on the
    /// Security tab, told that the address is confirmed.
    pub async fn confirm_email(&self, app: &TestApp, email: &str) {
        let token = app.confirmation_token(email).await;
        let page = self.get(&format!("/confirm-email?token={token}")).await;
        assert_eq!(page.status, 200, "{}", page.body);
        self.post("/confirm-email", &[("token", &token)])
            .await
            .assert_redirect_to("/account/settings/security?notice=email_confirmed");
    }

    pub async fn sign_in(&self, email: &str, password: &str) -> Page {
        self.post("/sign-in", &[("email", email), ("password", password)])
            .await
    }

    pub async fn sign_out(&self) -> Page {
        self.post("/sign-out", &[]).await
    }

    /// Security tab → Change password: Current password, New password → Save.
    pub async fn change_password(&self, current: &str, new: &str) -> Page {
        self.post(
            "/account/password",
            &[("current_password", current), ("new_password", new)],
        )
        .await
    }

    /// Security tab → Security question: question, answer, password → Save.
    pub async fn set_security_question(&self, question: &str, answer: &str) {
        self.post(
            "/account/security-question",
            &[
                ("question", question),
                ("answer", answer),
                ("password", PASSWORD),
            ],
        )
        .await
        .assert_redirect_to("/account/settings/security?notice=question_saved");
    }

    /// The second step of signing in: the code from the SMS or the app.
    pub async fn enter_sign_in_code(&self, code: &str) -> Page {
        self.post("/sign-in/verify", &[("code", code)]).await
    }

    /// The reset link's second step: the answer to the security question.
    pub async fn enter_reset_answer(&self, token: &str, answer: &str) -> Page {
        self.reset_step("/reset-password/verify", token, &[("answer", answer)])
            .await
    }

    /// The reset link's second step: the code by the method the page asks for.
    pub async fn enter_reset_code(&self, token: &str, code: &str) -> Page {
        self.reset_step("/reset-password/verify", token, &[("code", code)])
            .await
    }

    /// The reset link's second step: a code, claimed to be by `method`
    /// ("sms" or "authenticator", as the form sends it).
    pub async fn enter_reset_code_by(&self, token: &str, method: &str, code: &str) -> Page {
        let fields = [("method", method), ("code", code)];
        self.reset_step("/reset-password/verify", token, &fields)
            .await
    }

    /// The reset link's last step, as the person reaches it: the link opened
    /// (a verified one continues in the reset cookie) → New password → Save.
    pub async fn set_new_password(&self, token: &str, new_password: &str) -> Page {
        self.get(&format!("/reset-password?token={token}")).await;
        self.post("/reset-password", &[("new_password", new_password)])
            .await
    }

    /// A form of the reset link's pages: each carries the link's token.
    async fn reset_step(&self, action: &str, token: &str, fields: &[(&str, &str)]) -> Page {
        let mut form = vec![("token", token)];
        form.extend_from_slice(fields);
        self.post(action, &form).await
    }

    /// The sign-in code step's link to the other method ("Use the code from
    /// SMS", "… from your authenticator app"): back to the code step.
    pub async fn switch_sign_in_to(&self, method: Method) {
        self.get_as_link(&format!("/sign-in/verify/use/{}", method.as_str()))
            .await
            .assert_redirect_to("/sign-in/verify");
    }

    /// "Send a new code" on the sign-in code step, which must be allowed.
    pub async fn resend_sign_in_code(&self) {
        self.get_as_link("/sign-in/verify/resend")
            .await
            .assert_redirect_to("/sign-in/verify?notice=code_sent");
    }

    /// Enters a sign-in code that must be accepted: straight to the account.
    pub async fn assert_sign_in_code_accepted(&self, code: &str) {
        self.enter_sign_in_code(code)
            .await
            .assert_redirect_to("/account");
    }

    /// Enters a sign-in code that must be refused: the page says why (422) and
    /// the account stays closed. Returns the page for its message.
    pub async fn assert_sign_in_code_refused(&self, code: &str) -> Page {
        let page = self.enter_sign_in_code(code).await;
        assert_eq!(page.status, 422, "{}", page.body);
        self.get("/account").await.assert_signed_out();
        page
    }

    /// Set up (or the pencil) → Password → Continue: the phone number step.
    pub async fn enter_phone_password(&self, flow: PhoneFlow, password: &str) -> Page {
        self.post(&flow.path(""), &[("password", password)]).await
    }

    pub async fn enter_phone_number(&self, flow: PhoneFlow, phone: &str) -> Page {
        self.post(&flow.path("number"), &[("phone", phone)]).await
    }

    pub async fn enter_phone_code(&self, flow: PhoneFlow, code: &str) -> Page {
        self.post(&flow.path("code"), &[("code", code)]).await
    }

    /// Password → Continue → Phone number → Get code: a code is on its way to `phone`.
    pub async fn ask_for_phone_code(&self, flow: PhoneFlow, phone: &str) {
        self.enter_phone_password(flow, PASSWORD)
            .await
            .assert_redirect_to(&flow.path("number"));
        self.enter_phone_number(flow, phone)
            .await
            .assert_redirect_to(&flow.path("code"));
    }

    /// Security tab → Set up → password → phone number → code from the SMS → Confirm.
    /// Answers the recovery codes the portal shows once.
    pub async fn set_up_sms(&self, app: &TestApp, phone: &str) -> Vec<String> {
        self.ask_for_phone_code(PhoneFlow::SetUp, phone).await;
        let e164 = domain::PhoneNumber::parse(phone, None)
            .unwrap()
            .e164()
            .to_owned();
        self.enter_phone_code(PhoneFlow::SetUp, &app.last_sms_code(&e164))
            .await
            .assert_two_step_turned_on()
    }

    /// Authenticator app → Set up → Password → Continue: the scan page with the
    /// QR code and the secret key.
    pub async fn open_the_scan_page(&self) -> Page {
        self.post(AUTHENTICATOR_SET_UP, &[("password", PASSWORD)])
            .await
            .assert_redirect_to(AUTHENTICATOR_SCAN);
        let page = self.get(AUTHENTICATOR_SCAN).await;
        assert_eq!(page.status, 200);
        page
    }

    /// The scan page → a code computed from the secret key shown → Confirm.
    pub async fn set_up_authenticator(&self, app: &TestApp) -> AuthenticatorSecret {
        let secret = secret_from(&secret_key_on(&self.open_the_scan_page().await));
        self.post(AUTHENTICATOR_SCAN, &[("code", &app.totp(&secret))])
            .await
            .assert_redirect_to("/account/settings/security?notice=authenticator_on");
        secret
    }
}

pub const AUTHENTICATOR_SET_UP: &str = "/account/security/authenticator/set-up";
pub const AUTHENTICATOR_SCAN: &str = "/account/security/authenticator/scan";

/// The text inside the element labelled "Secret key".
pub fn secret_key_on(page: &Page) -> String {
    let labelled = page
        .body
        .split("aria-labelledby=\"secret-key-label\"")
        .nth(1)
        .expect("an element labelled Secret key");
    let inside = &labelled[labelled.find('>').unwrap() + 1..];
    let inside = inside.trim_start().strip_prefix("<code>").unwrap_or(inside);
    inside[..inside.find('<').unwrap()].trim().to_owned()
}

pub fn secret_from(key: &str) -> AuthenticatorSecret {
    AuthenticatorSecret::from_base32(&key.replace(' ', "")).expect("the secret key is base32")
}

/// Six digits that are not `right`.
pub fn wrong_code(right: &str) -> &'static str {
    if right == "000000" {
        "111111"
    } else {
        "000000"
    }
}

/// Posts `attempts` wrong codes to the sign-in code step at once, the i-th to
/// `url(i)`, all with one browser's client and CSRF token, and asserts that the
/// store let exactly five be checked (told 4, 3, 2 and 1 attempts left, then
/// too many) and refused the rest unchecked.
pub async fn assert_parallel_wrong_codes_checked_five_times(
    client: &reqwest::Client,
    token: &str,
    attempts: usize,
    url: impl Fn(usize) -> String,
    wrong: &'static str,
) {
    let tasks: Vec<_> = (0..attempts)
        .map(|attempt| {
            let (client, url, token) = (client.clone(), url(attempt), token.to_owned());
            tokio::spawn(async move {
                let fields = [("csrf_token", token.as_str()), ("code", wrong)];
                let page = client.post(url).form(&fields).send().await.unwrap();
                page.text().await.unwrap()
            })
        })
        .collect();
    let mut attempts_left = Vec::new();
    let mut too_many = 0;
    for task in tasks {
        let page = task.await.unwrap();
        // The apostrophe of "isn't" is escaped in the HTML: look past it.
        if let Some(at) = page.find(" right. ") {
            attempts_left.push(page[at..].chars().find(char::is_ascii_digit));
        } else {
            assert!(page.contains("Too many wrong codes."), "{page}");
            too_many += 1;
        }
    }
    attempts_left.sort();
    assert_eq!(
        attempts_left,
        [Some('1'), Some('2'), Some('3'), Some('4')],
        "four wrong entries were told what is left, once each; the fifth checked one was told too many"
    );
    assert_eq!(too_many, attempts - 4);
}
