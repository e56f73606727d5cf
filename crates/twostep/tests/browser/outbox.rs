//! Reading the development outbox (/dev/outbox) in the browser, as a developer
//! does: through the header's "Outbox" link.

use std::time::{Duration, Instant};

use fantoccini::wd::Locator;

use crate::browser::{Browser, PATIENCE};
use crate::names::Scope;

impl Browser {
    /// Opens the outbox with the header's "Outbox" link and waits for a message
    /// on `channel` ("SMS" or "E-mail") to `to` that has not been read yet; then
    /// returns its text. `subject` narrows e-mails down.
    pub async fn read_outbox(&mut self, channel: &str, to: &str, subject: Option<&str>) -> String {
        self.click_link_in(
            Scope::Header,
            "Outbox",
            &format!("outbox-{}", channel.to_lowercase()),
        )
        .await;
        let key = (
            channel.to_owned(),
            format!("{to}|{}", subject.unwrap_or_default()),
        );
        let already_read = self.read.get(&key).copied().unwrap_or(0);
        let deadline = Instant::now() + PATIENCE;
        loop {
            let messages = self.outbox_messages(channel, to, subject).await;
            if messages.len() > already_read {
                self.read.insert(key, messages.len());
                return messages.into_iter().next().expect("the newest message");
            }
            if Instant::now() > deadline {
                self.fail(&format!(
                    "no new {channel} to {to} in the outbox (read before: {already_read})"
                ))
                .await;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
            self.refresh().await;
            self.screenshot(&format!("outbox-{}-reloaded", channel.to_lowercase()))
                .await;
        }
    }

    /// The newest unread e-mail to `to` whose subject holds `subject` says `words`;
    /// returns its text.
    pub async fn assert_email_says(&mut self, to: &str, subject: &str, words: &str) -> String {
        let email = self.read_outbox("E-mail", to, Some(subject)).await;
        if !email.contains(words) {
            self.fail(&format!(
                "expected the e-mail {subject:?} to say {words:?}; it says:\n{email}"
            ))
            .await;
        }
        email
    }

    /// The number of messages on `channel` to `to`, as the outbox page lists them.
    pub async fn outbox_count(&mut self, channel: &str, to: &str) -> usize {
        self.outbox_messages(channel, to, None).await.len()
    }

    pub fn already_read(&self, channel: &str, to: &str) -> usize {
        self.read
            .get(&(channel.to_owned(), format!("{to}|")))
            .copied()
            .unwrap_or(0)
    }

    /// Texts, newest first. The outbox page is a developer's tool, outside the
    /// names contract, so its parts are found by their classes.
    async fn outbox_messages(
        &mut self,
        channel: &str,
        to: &str,
        subject: Option<&str>,
    ) -> Vec<String> {
        self.assert_sees("Development outbox").await;
        let mut texts = Vec::new();
        for message in self
            .client
            .find_all(Locator::Css("li.message"))
            .await
            .expect("messages")
        {
            let part = |css: &'static str| {
                let message = message.clone();
                async move {
                    match message.find(Locator::Css(css)).await {
                        Ok(element) => element.text().await.unwrap_or_default(),
                        Err(_) => String::new(),
                    }
                }
            };
            if !part(".channel").await.eq_ignore_ascii_case(channel) || part(".to").await != to {
                continue;
            }
            if let Some(wanted) = subject
                && !part(".subject").await.contains(wanted)
            {
                continue;
            }
            texts.push(part(".text").await);
        }
        texts
    }
}
