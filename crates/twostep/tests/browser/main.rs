//! Browser tests: a person follows the help page in headless Chromium, driven
//! over chromedriver, against the real portal on port 0 with the development
//! outbox. Codes and links are read from /dev/outbox in the same browser.
//!
//! Every test is ignored by default (it needs Debian's chromium, chromium-driver,
//! oathtool and zbar-tools); `scripts/browser-tests` installs them and runs
//!     cargo test -p twostep --test browser -- --ignored --test-threads=1
//! Screenshots of every page visited: target/screenshots/<test>/.

#[path = "../common/app.rs"]
mod app;
mod authenticator_app;
mod browser;
#[path = "../../../storage/tests/shared/database_url.rs"]
mod database_url;
mod driver;
#[path = "../common/examples.rs"]
mod examples;
mod names;
mod outbox;
#[path = "../common/output.rs"]
mod output;
#[path = "../common/says.rs"]
mod says;
mod screenshots;
mod steps;

mod anti_theft;
mod applications;
mod authenticator;
mod confirm_email;
mod lockout;
mod recovery;
mod security_question;
mod sessions_list;
mod sms_guard;
mod sms_two_step;
