//! What the simulated browsers do, with every response checked: its status, its
//! redirect target and the cookie it must set. One unexpected answer ends the run.

use std::sync::Arc;
use std::time::Instant;

use reqwest::cookie::{CookieStore, Jar};
use reqwest::header::{COOKIE, HeaderMap, LOCATION, SET_COOKIE};
use reqwest::{Response, StatusCode, Url};

use crate::accounts::{self, AccountPool};
use crate::error::{BenchError, Result};
use crate::load::{Gate, Sample};

const PENDING: &str = "twostep_pending";
const SESSION: &str = "twostep_session";
const CSRF: &str = "twostep_csrf";

/// One HTTP client (keep-alive connections, no automatic redirects) for a server.
#[derive(Clone)]
pub struct Http {
    client: reqwest::Client,
    base: Url,
}

/// A half-finished sign-in seeded in the store: the account and the cookie value.
pub struct Pending {
    pub account_id: i64,
    pub token: String,
}

/// A browser's CSRF cookie and the token its forms carry.
#[derive(Clone)]
pub struct Csrf {
    seed: String,
    token: String,
}

impl Http {
    pub fn new(base: &str, concurrency: usize) -> Result<Self> {
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .pool_max_idle_per_host(concurrency.max(1))
            .tcp_nodelay(true)
            .build()?;
        Ok(Self {
            client,
            base: Url::parse(base)?,
        })
    }

    fn url(&self, path: &str) -> String {
        format!("{}{}", self.base.as_str().trim_end_matches('/'), path)
    }

    pub async fn healthz(&self) -> Result<()> {
        let response = self.client.get(self.url("/healthz")).send().await?;
        let status = response.status();
        let body = response.text().await?;
        if status != StatusCode::OK || body != "ok" {
            return Err(BenchError::new(format!(
                "GET /healthz answered {status}: {body}"
            )));
        }
        Ok(())
    }

    /// A complete sign-in by a new browser: the sign-in page, the password, the
    /// code from the authenticator app; it must end on /account with a session.
    pub async fn sign_in(&self, pool: &AccountPool) -> Result<()> {
        let id = pool.claim().ok_or_else(|| {
            BenchError::new(format!(
                "all {} accounts have signed in during this 30-second step: use more accounts",
                pool.len()
            ))
        })?;
        let jar = Jar::default();
        let page = self.client.get(self.url("/sign-in")).send().await?;
        let page = expect_status(page, StatusCode::OK, "GET /sign-in").await?;
        remember(&jar, page.headers(), &self.base);
        let token = csrf_field(&page.text().await?)?;
        let email = accounts::email(id);
        let response = self
            .with_cookies(self.client.post(self.url("/sign-in")), &jar)
            .form(&[
                ("email", email.as_str()),
                ("password", accounts::PASSWORD),
                ("csrf_token", token.as_str()),
            ])
            .send()
            .await?;
        let response = expect_redirect(response, "/sign-in/verify", "POST /sign-in").await?;
        expect_cookie(response.headers(), PENDING, "POST /sign-in")?;
        remember(&jar, response.headers(), &self.base);
        let code = pool.code_for(id);
        let response = self
            .with_cookies(self.client.post(self.url("/sign-in/verify")), &jar)
            .form(&[("code", code.as_str()), ("csrf_token", token.as_str())])
            .send()
            .await?;
        let response = expect_redirect(response, "/account", "POST /sign-in/verify").await?;
        expect_cookie(response.headers(), SESSION, "POST /sign-in/verify")?;
        Ok(())
    }

    /// What a browser holds after opening the sign-in page once.
    pub async fn csrf(&self) -> Result<Csrf> {
        let page = self.client.get(self.url("/sign-in")).send().await?;
        let page = expect_status(page, StatusCode::OK, "GET /sign-in").await?;
        let seed = expect_cookie(page.headers(), CSRF, "GET /sign-in")?;
        let token = csrf_field(&page.text().await?)?;
        Ok(Csrf { seed, token })
    }

    /// Only the second step: the code for a sign-in already past the password.
    pub async fn check_code(
        &self,
        csrf: &Csrf,
        pending: &Pending,
        pool: &AccountPool,
    ) -> Result<()> {
        let code = pool.code_for(pending.account_id);
        let response = self
            .client
            .post(self.url("/sign-in/verify"))
            .header(
                COOKIE,
                format!("{CSRF}={}; {PENDING}={}", csrf.seed, pending.token),
            )
            .form(&[("code", code.as_str()), ("csrf_token", csrf.token.as_str())])
            .send()
            .await?;
        let response = expect_redirect(response, "/account", "POST /sign-in/verify").await?;
        expect_cookie(response.headers(), SESSION, "POST /sign-in/verify")?;
        Ok(())
    }

    /// The account page for a live session: 200 and the account's e-mail on it.
    pub async fn account_page(&self, session_token: &str, account_id: i64) -> Result<()> {
        let response = self
            .client
            .get(self.url("/account"))
            .header(COOKIE, format!("{SESSION}={session_token}"))
            .send()
            .await?;
        let response = expect_status(response, StatusCode::OK, "GET /account").await?;
        let email = accounts::email(account_id);
        if !response.text().await?.contains(&email) {
            return Err(BenchError::new(format!(
                "GET /account does not show {email}"
            )));
        }
        Ok(())
    }

    fn with_cookies(&self, request: reqwest::RequestBuilder, jar: &Jar) -> reqwest::RequestBuilder {
        match jar.cookies(&self.base) {
            Some(cookies) => request.header(COOKIE, cookies),
            None => request,
        }
    }
}

/// A worker loop for full sign-ins.
pub async fn sign_in_worker(http: Http, pool: Arc<AccountPool>, gate: Gate) -> Result<Vec<Sample>> {
    let mut samples = Vec::new();
    while gate.admit() {
        let start = Instant::now();
        http.sign_in(&pool).await?;
        samples.push(Sample::since(start));
    }
    Ok(samples)
}

fn remember(jar: &Jar, headers: &HeaderMap, url: &Url) {
    jar.set_cookies(&mut headers.get_all(SET_COOKIE).iter(), url);
}

/// The value a response sets for cookie `name`; an error when it sets none.
fn expect_cookie(headers: &HeaderMap, name: &str, what: &str) -> Result<String> {
    headers
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .filter_map(|cookie| cookie.split(';').next()?.split_once('='))
        .find(|(key, value)| *key == name && !value.is_empty())
        .map(|(_, value)| value.to_owned())
        .ok_or_else(|| BenchError::new(format!("{what} did not set the {name} cookie")))
}

fn csrf_field(html: &str) -> Result<String> {
    const MARKER: &str = "name=\"csrf_token\" value=\"";
    let start = html
        .find(MARKER)
        .map(|i| i + MARKER.len())
        .ok_or_else(|| BenchError::new("the sign-in page has no csrf_token field"))?;
    let end = html[start..]
        .find('"')
        .ok_or_else(|| BenchError::new("the csrf_token field is not closed"))?;
    Ok(html[start..start + end].to_owned())
}

async fn expect_status(response: Response, status: StatusCode, what: &str) -> Result<Response> {
    if response.status() == status {
        Ok(response)
    } else {
        Err(unexpected(response, what, &format!("{status}")).await)
    }
}

async fn expect_redirect(response: Response, target: &str, what: &str) -> Result<Response> {
    let location = response
        .headers()
        .get(LOCATION)
        .and_then(|value| value.to_str().ok());
    if response.status() == StatusCode::SEE_OTHER && location == Some(target) {
        Ok(response)
    } else {
        Err(unexpected(response, what, &format!("303 to {target}")).await)
    }
}

async fn unexpected(response: Response, what: &str, expected: &str) -> BenchError {
    let status = response.status();
    let location = response
        .headers()
        .get(LOCATION)
        .and_then(|value| value.to_str().ok())
        .map(|l| format!(" to {l}"))
        .unwrap_or_default();
    let body = response.text().await.unwrap_or_default();
    let excerpt = page_message(&body);
    BenchError::new(format!(
        "{what}: expected {expected}, got {status}{location}{excerpt}"
    ))
}

/// The error or notice a page shows, for the failure message.
fn page_message(body: &str) -> String {
    for marker in ["role=\"alert\">", "<h1>"] {
        if let Some(start) = body.find(marker).map(|i| i + marker.len())
            && let Some(end) = body[start..].find('<')
        {
            return format!(" ({})", &body[start..start + end]);
        }
    }
    String::new()
}
