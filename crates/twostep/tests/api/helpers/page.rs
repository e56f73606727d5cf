//! A browser-like client (its own cookie jar, no automatic redirects: tests
//! follow them) and the pages it receives, read the way a person reads them.

use std::sync::Arc;

use reqwest::cookie::{CookieStore, Jar};
use reqwest::redirect::Policy;

use crate::app::TestApp;

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

impl TestApp {
    pub fn browser(&self) -> Browser {
        Browser::new(&self.address)
    }

    /// A fresh browser that names itself with `user_agent`, as real ones do.
    pub fn browser_as(&self, user_agent: &str) -> Browser {
        Browser::build(&self.address, Some(user_agent))
    }
}

impl Page {
    pub fn csrf_token(&self) -> String {
        field_value(&self.body, "csrf_token").expect("the page has a form with a CSRF token")
    }

    /// Whether the markup holds `html` as written: for tags, attributes and
    /// labels. For what a person reads, use `reads`.
    pub fn contains(&self, html: &str) -> bool {
        self.body.contains(html)
    }

    /// Whether the text a person reads (tags removed, entities decoded, white
    /// space collapsed) contains `text`.
    pub fn reads(&self, text: &str) -> bool {
        visible_text(&self.body).contains(text)
    }

    /// Asserts that this page redirects to `path`, and opens `path` in
    /// `browser` as a browser following the redirect would.
    pub async fn follow(&self, browser: &Browser, path: &str) -> Page {
        self.assert_redirect_to(path);
        browser.get(path).await
    }

    /// Asserts `contains(html)`, showing the page when it does not.
    #[track_caller]
    pub fn assert_contains(&self, html: &str) {
        assert!(
            self.contains(html),
            "{html:?} is not in the markup:\n{}",
            self.body
        );
    }

    /// The form was refused (422) because the password entered is not the account's.
    #[track_caller]
    pub fn assert_wrong_password(&self) {
        assert_eq!(self.status, 422, "{}", self.body);
        assert!(self.reads("That password isn't right."), "{}", self.body);
    }

    /// Asserts `reads(text)`, showing the page when it does not.
    #[track_caller]
    pub fn assert_reads(&self, text: &str) {
        assert!(
            self.reads(text),
            "{text:?} is not on the page:\n{}",
            self.body
        );
    }

    /// The `href` of the link whose text is `text`, as a person would find it.
    pub fn link(&self, text: &str) -> Option<String> {
        let end = self.body.find(&format!("\">{text}</a>"))?;
        let start = self.body[..end].rfind("href=\"")? + "href=\"".len();
        Some(decode_entities(&self.body[start..end]))
    }

    #[track_caller]
    pub fn assert_redirect_to(&self, path: &str) {
        assert!(
            matches!(self.status, 302 | 303 | 307),
            "expected a redirect to {path}, got {} with {}",
            self.status,
            self.body.chars().take(1500).collect::<String>()
        );
        assert_eq!(self.location.as_deref(), Some(path));
    }

    /// The page headed Recovery codes, shown once after two-step verification
    /// is turned on or new codes were asked for; answers its codes as shown.
    #[track_caller]
    pub fn assert_recovery_codes_shown(&self) -> Vec<String> {
        assert_eq!(self.status, 200, "{}", self.body);
        self.assert_contains("<h2 id=\"recovery-codes-heading\">Recovery codes</h2>");
        self.assert_contains(">Download</button>");
        let codes: Vec<String> = field_value(&self.body, "codes")
            .expect("the Download form carries the codes")
            .split(' ')
            .map(str::to_owned)
            .collect();
        for code in &codes {
            self.assert_contains(&format!("<li><code>{code}</code></li>"));
        }
        codes
    }

    /// Two-step verification was turned on: the notice says so above the
    /// first set of recovery codes. Answers the codes.
    #[track_caller]
    pub fn assert_two_step_turned_on(&self) -> Vec<String> {
        self.assert_reads("Your phone number is confirmed and set up to receive security codes.");
        let codes = self.assert_recovery_codes_shown();
        assert_eq!(codes.len(), 10);
        codes
    }

    /// What every sign-up answers, new address or not: the "Check your e-mail"
    /// page, nobody signed in.
    #[track_caller]
    pub fn assert_checks_email(&self) {
        assert_eq!(self.status, 200, "{}", self.body);
        assert!(self.reads("Check your e-mail"), "{}", self.body);
        assert!(self.location.is_none());
    }

    /// The page a visitor who is not signed in gets instead: the sign-in page.
    #[track_caller]
    pub fn assert_signed_out(&self) {
        self.assert_redirect_to("/sign-in");
    }
}

/// The `value` of the input named `name` in an HTML page.
pub fn field_value(html: &str, name: &str) -> Option<String> {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html.find(&marker)? + marker.len();
    let end = html[start..].find('"')? + start;
    Some(html[start..end].to_owned())
}

/// The page as a person reads it: tags removed, entities decoded, runs of white
/// space as one space.
pub fn visible_text(html: &str) -> String {
    let mut text = String::with_capacity(html.len());
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => in_tag = true,
            '>' if in_tag => in_tag = false,
            _ if !in_tag => text.push(c),
            _ => {}
        }
    }
    decode_entities(&text)
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// The entities askama's escaping writes; `&amp;` last, so that an escaped
/// entity stays as written.
fn decode_entities(text: &str) -> String {
    [
        ("&#39;", "'"),
        ("&#x27;", "'"),
        ("&#34;", "\""),
        ("&quot;", "\""),
        ("&#60;", "<"),
        ("&lt;", "<"),
        ("&#62;", ">"),
        ("&gt;", ">"),
        ("&#38;", "&"),
        ("&amp;", "&"),
    ]
    .iter()
    .fold(text.to_owned(), |text, (entity, character)| {
        text.replace(entity, character)
    })
}

impl Browser {
    /// A fresh browser (empty cookie jar) whose paths go to `base`.
    pub fn new(base: &str) -> Self {
        Self::build(base, None)
    }

    fn build(base: &str, user_agent: Option<&str>) -> Self {
        let jar = Arc::new(Jar::default());
        let mut client = reqwest::Client::builder()
            .cookie_provider(jar.clone())
            .redirect(Policy::none());
        if let Some(user_agent) = user_agent {
            client = client.user_agent(user_agent);
        }
        let client = client.build().unwrap();
        Browser {
            client,
            jar,
            base: base.to_owned(),
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub async fn get(&self, path: &str) -> Page {
        to_page(self.get_response(path).await).await
    }

    /// GET, keeping the whole response for its headers.
    pub async fn get_response(&self, path: &str) -> reqwest::Response {
        self.client.get(self.url(path)).send().await.expect("GET")
    }

    /// Loads `form_page` for its CSRF token, then posts `fields` to `action`.
    pub async fn post_form(&self, form_page: &str, action: &str, fields: &[(&str, &str)]) -> Page {
        to_page(self.post_form_response(form_page, action, fields).await).await
    }

    /// Posts `fields` to `action` with the CSRF token of a page every visitor
    /// can open: the token belongs to the browser, not to one form.
    pub async fn post(&self, action: &str, fields: &[(&str, &str)]) -> Page {
        self.post_form("/forgot-password", action, fields).await
    }

    /// Like `post_form`, keeping the whole response for its headers.
    pub async fn post_form_response(
        &self,
        form_page: &str,
        action: &str,
        fields: &[(&str, &str)],
    ) -> reqwest::Response {
        let token = self.get(form_page).await.csrf_token();
        self.post_with_token_response(action, &token, fields).await
    }

    /// POSTs nothing to `action`, not even the CSRF token.
    pub async fn post_form_response_without_token(&self, action: &str) -> reqwest::Response {
        self.client
            .post(self.url(action))
            .send()
            .await
            .expect("POST")
    }

    pub async fn post_with_token(
        &self,
        action: &str,
        token: &str,
        fields: &[(&str, &str)],
    ) -> Page {
        to_page(self.post_with_token_response(action, token, fields).await).await
    }

    async fn post_with_token_response(
        &self,
        action: &str,
        token: &str,
        fields: &[(&str, &str)],
    ) -> reqwest::Response {
        let mut form: Vec<(&str, &str)> = vec![("csrf_token", token)];
        form.extend_from_slice(fields);
        self.client
            .post(self.url(action))
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
            .post(self.url(action))
            .header("content-type", content_type)
            .body(body)
            .send()
            .await
            .expect("POST");
        to_page(response).await
    }

    /// Follows a link that changes something: such links carry the CSRF token,
    /// which any page of this browser's forms shows.
    pub async fn get_as_link(&self, path: &str) -> Page {
        let token = self.get("/sign-in").await.csrf_token();
        let separator = if path.contains('?') { '&' } else { '?' };
        self.get(&format!("{path}{separator}csrf_token={token}"))
            .await
    }

    pub fn cookie(&self, name: &str) -> Option<String> {
        let url = self.base.parse().unwrap();
        let header = self.jar.cookies(&url)?;
        header
            .to_str()
            .ok()?
            .split("; ")
            .find_map(|pair| pair.strip_prefix(&format!("{name}=")).map(str::to_owned))
    }

    /// Puts a cookie in this browser's jar, as if the site (or an attacker) had set it.
    pub fn set_cookie(&self, name: &str, value: &str) {
        let url = self.base.parse().unwrap();
        self.jar
            .add_cookie_str(&format!("{name}={value}; Path=/"), &url);
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
