//! `spawn_app()`: the real portal on port 0 with a fresh SQLite file, memory
//! senders and a clock the test can move; plus a browser-like client.

use std::sync::Arc;

use delivery::{Email, EmailSender, MemoryOutbox, Sms, SmsSender};
use reqwest::cookie::Jar;
use reqwest::redirect::Policy;
use twostep::app::{self, Senders};
use twostep::config::{Config, Overrides};
use web::{AppState, Clock};

pub const PASSWORD: &str = "correct horse battery staple";
pub const PHONE: &str = "+1 650 253 0000";
pub const PHONE_E164: &str = "+16502530000";

pub struct TestApp {
    pub address: String,
    pub state: AppState,
    pub sms: MemoryOutbox<Sms>,
    pub email: MemoryOutbox<Email>,
    pub clock: Clock,
    pub config: Config,
    _data_dir: tempfile::TempDir,
}

/// Fast Argon2 parameters: tests check behaviour, the benchmark checks cost.
fn test_config(data_dir: &std::path::Path) -> Config {
    let env = [
        (
            "TWOSTEP_PASSWORD_HASH__MEMORY_KIB".to_owned(),
            "256".to_owned(),
        ),
        (
            "TWOSTEP_PASSWORD_HASH__ITERATIONS".to_owned(),
            "1".to_owned(),
        ),
    ];
    let overrides = Overrides {
        listen: Some("127.0.0.1:0".parse().unwrap()),
        data_dir: Some(data_dir.to_owned()),
    };
    Config::load(None, env, &overrides).expect("test configuration")
}

pub async fn spawn_app() -> TestApp {
    let data_dir = tempfile::tempdir().expect("temp dir");
    let (sms_sender, sms) = SmsSender::memory();
    let (email_sender, email) = EmailSender::memory();
    spawn_with(
        data_dir,
        Senders {
            sms: sms_sender,
            email: email_sender,
        },
        sms,
        email,
    )
    .await
}

/// The app with the development outbox providers, as `cargo run` starts it.
pub async fn spawn_app_with_outbox() -> TestApp {
    let data_dir = tempfile::tempdir().expect("temp dir");
    let config = test_config(data_dir.path());
    let senders = Senders::from_config(&config).expect("outbox senders");
    spawn_with(data_dir, senders, MemoryOutbox::new(), MemoryOutbox::new()).await
}

async fn spawn_with(
    data_dir: tempfile::TempDir,
    senders: Senders,
    sms: MemoryOutbox<Sms>,
    email: MemoryOutbox<Email>,
) -> TestApp {
    spawn_configured(data_dir, senders, sms, email, |_| {}).await
}

/// The app with memory senders on another database, e.g. PostgreSQL.
pub async fn spawn_app_on_database(database_url: &str) -> TestApp {
    let data_dir = tempfile::tempdir().expect("temp dir");
    let (sms_sender, sms) = SmsSender::memory();
    let (email_sender, email) = EmailSender::memory();
    let senders = Senders {
        sms: sms_sender,
        email: email_sender,
    };
    spawn_configured(data_dir, senders, sms, email, |config| {
        config.database_url = database_url.into()
    })
    .await
}

async fn spawn_configured(
    data_dir: tempfile::TempDir,
    senders: Senders,
    sms: MemoryOutbox<Sms>,
    email: MemoryOutbox<Email>,
    configure: impl FnOnce(&mut Config),
) -> TestApp {
    let mut config = test_config(data_dir.path());
    configure(&mut config);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind port 0");
    let address = format!("http://{}", listener.local_addr().unwrap());
    config.public_url = address.clone();
    let clock = Clock::default();
    let state = app::build(&config, senders, clock.clone())
        .await
        .expect("app starts");
    let router = web::router(state.clone());
    tokio::spawn(async move { axum::serve(listener, router).await.expect("server runs") });
    TestApp {
        address,
        state,
        sms,
        email,
        clock,
        config,
        _data_dir: data_dir,
    }
}

/// A browser: its own cookie jar, no automatic redirects (tests follow them).
pub struct Browser {
    pub client: reqwest::Client,
    pub jar: Arc<Jar>,
    pub base: String,
}

pub struct Page {
    pub status: u16,
    pub location: Option<String>,
    pub body: String,
}

impl Page {
    pub fn csrf_token(&self) -> String {
        field_value(&self.body, "csrf_token").expect("the page has a form with a CSRF token")
    }

    pub fn contains(&self, text: &str) -> bool {
        self.body.contains(text)
    }

    #[track_caller]
    pub fn assert_redirect_to(&self, path: &str) {
        assert!(
            matches!(self.status, 302 | 303 | 307),
            "expected a redirect to {path}, got {} with {}",
            self.status,
            excerpt(&self.body)
        );
        assert_eq!(self.location.as_deref(), Some(path));
    }
}

fn excerpt(body: &str) -> String {
    body.chars().take(1500).collect()
}

/// The `value` of the input named `name` in an HTML page.
pub fn field_value(html: &str, name: &str) -> Option<String> {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html.find(&marker)? + marker.len();
    let end = html[start..].find('"')? + start;
    Some(html[start..end].to_owned())
}

impl TestApp {
    pub fn browser(&self) -> Browser {
        let jar = Arc::new(Jar::default());
        let client = reqwest::Client::builder()
            .cookie_provider(jar.clone())
            .redirect(Policy::none())
            .build()
            .unwrap();
        Browser {
            client,
            jar,
            base: self.address.clone(),
        }
    }

    /// The last SMS sent to `e164`, and the six-digit code in it.
    pub fn last_sms_code(&self, e164: &str) -> String {
        let sms = self
            .sms
            .last_to(e164)
            .expect("an SMS was sent to this number");
        sms.text
            .split_whitespace()
            .next()
            .expect("the SMS starts with the code")
            .to_owned()
    }

    pub fn sms_count(&self) -> usize {
        self.sms.messages().len()
    }

    /// E-mails are sent in the background; wait until one with `subject` arrives.
    pub async fn wait_for_email(&self, to: &str, subject: &str) -> Email {
        for _ in 0..100 {
            if let Some(email) = self
                .email
                .messages()
                .into_iter()
                .rev()
                .find(|e| e.to == to && e.subject.contains(subject))
            {
                return email;
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        panic!(
            "no e-mail to {to} with subject containing {subject:?}; got {:?}",
            self.email
                .messages()
                .iter()
                .map(|e| e.subject.clone())
                .collect::<Vec<_>>()
        );
    }

    /// A browser already signed up (and so signed in) with `email`.
    pub async fn signed_up(&self, email: &str) -> Browser {
        let browser = self.browser();
        browser
            .post_form(
                "/sign-up",
                "/sign-up",
                &[("email", email), ("password", PASSWORD)],
            )
            .await
            .assert_redirect_to("/account");
        browser
    }

    /// A signed-in browser whose account has SMS two-step verification on.
    pub async fn with_sms_two_step(&self, email: &str) -> Browser {
        let browser = self.signed_up(email).await;
        browser.set_up_sms(self, PHONE).await;
        browser
    }
}

impl Browser {
    pub async fn get(&self, path: &str) -> Page {
        let response = self
            .client
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .expect("GET");
        to_page(response).await
    }

    /// Loads `form_page` for its CSRF token, then posts `fields` to `action`.
    pub async fn post_form(&self, form_page: &str, action: &str, fields: &[(&str, &str)]) -> Page {
        let token = self.get(form_page).await.csrf_token();
        self.post_with_token(action, &token, fields).await
    }

    pub async fn post_with_token(
        &self,
        action: &str,
        token: &str,
        fields: &[(&str, &str)],
    ) -> Page {
        let mut form: Vec<(&str, &str)> = vec![("csrf_token", token)];
        form.extend_from_slice(fields);
        let response = self
            .client
            .post(format!("{}{action}", self.base))
            .form(&form)
            .send()
            .await
            .expect("POST");
        to_page(response).await
    }

    pub fn cookie(&self, name: &str) -> Option<String> {
        use reqwest::cookie::CookieStore;
        let url = self.base.parse().unwrap();
        let header = self.jar.cookies(&url)?;
        header
            .to_str()
            .ok()?
            .split("; ")
            .find_map(|pair| pair.strip_prefix(&format!("{name}=")).map(str::to_owned))
    }

    pub async fn sign_in(&self, email: &str, password: &str) -> Page {
        self.post_form(
            "/sign-in",
            "/sign-in",
            &[("email", email), ("password", password)],
        )
        .await
    }

    pub async fn sign_out(&self) -> Page {
        self.post_form("/account", "/sign-out", &[]).await
    }

    /// Security tab → Set up → password → phone number → code from the SMS → Confirm.
    pub async fn set_up_sms(&self, app: &TestApp, phone: &str) {
        self.post_form(
            "/account/security/phone/set-up",
            "/account/security/phone/set-up",
            &[("password", PASSWORD)],
        )
        .await
        .assert_redirect_to("/account/security/phone/set-up/number");
        self.post_form(
            "/account/security/phone/set-up/number",
            "/account/security/phone/set-up/number",
            &[("phone", phone)],
        )
        .await
        .assert_redirect_to("/account/security/phone/set-up/code");
        let e164 = domain::PhoneNumber::parse(phone, None)
            .unwrap()
            .e164()
            .to_owned();
        let code = app.last_sms_code(&e164);
        self.post_form(
            "/account/security/phone/set-up/code",
            "/account/security/phone/set-up/code",
            &[("code", &code)],
        )
        .await
        .assert_redirect_to("/account/settings/security?notice=two_step_on");
    }
}

async fn to_page(response: reqwest::Response) -> Page {
    let status = response.status().as_u16();
    let location = response
        .headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let body = response.text().await.unwrap_or_default();
    Page {
        status,
        location,
        body,
    }
}

/// Raw HTTP for tests about headers, cookies and malformed requests.
impl Browser {
    /// GET, keeping the whole response for its headers.
    pub async fn get_response(&self, path: &str) -> reqwest::Response {
        self.client
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .expect("GET")
    }

    /// Like `post_form`, keeping the whole response for its headers.
    pub async fn post_form_response(
        &self,
        form_page: &str,
        action: &str,
        fields: &[(&str, &str)],
    ) -> reqwest::Response {
        let token = self.get(form_page).await.csrf_token();
        let mut form: Vec<(&str, &str)> = vec![("csrf_token", &token)];
        form.extend_from_slice(fields);
        self.client
            .post(format!("{}{action}", self.base))
            .form(&form)
            .send()
            .await
            .expect("POST")
    }

    /// POSTs `body` exactly as given, with whatever content type a client might claim.
    pub async fn post_raw(
        &self,
        action: &str,
        content_type: &str,
        body: impl Into<reqwest::Body>,
    ) -> Page {
        let response = self
            .client
            .post(format!("{}{action}", self.base))
            .header("content-type", content_type)
            .body(body)
            .send()
            .await
            .expect("POST");
        to_page(response).await
    }

    /// Puts a cookie in this browser's jar, as if the site (or an attacker) had set it.
    pub fn set_cookie(&self, name: &str, value: &str) {
        let url = self.base.parse().unwrap();
        self.jar
            .add_cookie_str(&format!("{name}={value}; Path=/"), &url);
    }
}

impl Page {
    /// Whether the page shows `text` as a person reads it (HTML entities decoded).
    pub fn shows(&self, text: &str) -> bool {
        let decoded = self
            .body
            .replace("&#39;", "'")
            .replace("&#x27;", "'")
            .replace("&quot;", "\"")
            .replace("&#34;", "\"")
            .replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&amp;", "&");
        decoded.contains(text)
    }
}

/// The app sending SMS through `sms` (a real Kannel, or one that cannot be reached);
/// e-mails stay in memory. `app.sms` stays empty: read the gateway instead.
pub async fn spawn_app_with_sms(sms: SmsSender) -> TestApp {
    let data_dir = tempfile::tempdir().expect("temp dir");
    let (email_sender, email) = EmailSender::memory();
    spawn_with(
        data_dir,
        Senders {
            sms,
            email: email_sender,
        },
        MemoryOutbox::new(),
        email,
    )
    .await
}

impl Page {
    /// Whether the text a person reads (tags removed, entities decoded, white space
    /// collapsed) contains `text`: for sentences that markup may split.
    pub fn reads(&self, text: &str) -> bool {
        let mut visible = String::with_capacity(self.body.len());
        let mut in_tag = false;
        for c in self.body.chars() {
            match c {
                '<' => in_tag = true,
                '>' if in_tag => in_tag = false,
                _ if !in_tag => visible.push(c),
                _ => {}
            }
        }
        let decoded = visible
            .replace("&#39;", "'")
            .replace("&#34;", "\"")
            .replace("&quot;", "\"")
            .replace("&#60;", "<")
            .replace("&lt;", "<")
            .replace("&#62;", ">")
            .replace("&gt;", ">")
            .replace("&#38;", "&")
            .replace("&amp;", "&");
        decoded
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
            .contains(text)
    }
}

/// The app with a real e-mail sender (SMTP); `app.email` stays empty.
pub async fn spawn_app_with_email(email: EmailSender) -> TestApp {
    let data_dir = tempfile::tempdir().expect("temp dir");
    let (sms_sender, sms) = SmsSender::memory();
    spawn_with(
        data_dir,
        Senders {
            sms: sms_sender,
            email,
        },
        sms,
        MemoryOutbox::new(),
    )
    .await
}

impl Page {
    /// The `href` of the link whose text is `text`, as a person would find it.
    pub fn link(&self, text: &str) -> Option<String> {
        let end = self.body.find(&format!("\">{text}</a>"))?;
        let start = self.body[..end].rfind("href=\"")? + "href=\"".len();
        Some(self.body[start..end].replace("&amp;", "&"))
    }
}

impl Browser {
    /// Follows a link that changes something: such links carry the CSRF token,
    /// which any page of this browser's forms shows.
    pub async fn get_as_link(&self, path: &str) -> Page {
        let token = self.get("/sign-in").await.csrf_token();
        let separator = if path.contains('?') { '&' } else { '?' };
        self.get(&format!("{path}{separator}csrf_token={token}"))
            .await
    }
}
