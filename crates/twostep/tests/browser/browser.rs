//! A person with a browser: what they see (a screenshot of every page they
//! visit lands in target/screenshots/<test>/) and what they do (open, click,
//! go back). How they find things by name is in `names`.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use fantoccini::Client;
use fantoccini::elements::Element;
use fantoccini::wd::Locator;
use serde_json::json;
use tokio::sync::{Mutex, MutexGuard};

use crate::app::TestApp;
use crate::driver::Chromedriver;
use crate::names::Scope;
use crate::screenshots::Screenshots;

/// One Chromium at a time, even if the tests are run in parallel: two browsers
/// and the portal on a 2-core machine make every wait a race.
static ONE_BROWSER_AT_A_TIME: Mutex<()> = Mutex::const_new(());

pub(crate) const PATIENCE: Duration = Duration::from_secs(15);
/// The window size chromium is started with (`--window-size`).
const WIDTH: u32 = 1280;
const HEIGHT: u32 = 900;

pub struct Browser {
    pub client: Client,
    pub app: TestApp,
    pub(crate) shots: Screenshots,
    /// How many outbox messages to each recipient have been read already, so
    /// that "the newest message" is always one that arrived after the last read.
    pub(crate) read: HashMap<(String, String), usize>,
    /// The window's size between screenshots; starts as `--window-size`.
    window: (u32, u32),
    driver: Chromedriver,
    _turn: MutexGuard<'static, ()>,
}

impl Browser {
    pub async fn start(test: &str) -> Browser {
        let turn = ONE_BROWSER_AT_A_TIME.lock().await;
        let shots = Screenshots::for_test(test);
        let app = TestApp::builder().outbox().spawn().await;
        let driver = Chromedriver::start(&shots.file("chromedriver.log")).await;
        let client = driver.new_session().await;
        Browser {
            client,
            app,
            shots,
            read: HashMap::new(),
            window: (WIDTH, HEIGHT),
            driver,
            _turn: turn,
        }
    }

    /// Closes Chromium the polite way; the driver guard then stops chromedriver.
    pub async fn finish(self) {
        let Browser { client, driver, .. } = self;
        let _ = client.close().await;
        drop(driver);
    }

    // ---- Seeing -------------------------------------------------------------

    /// The whole page, not only the part in the window: the window grows to the
    /// page's height for the picture and shrinks back afterwards.
    pub async fn screenshot(&mut self, step: &str) {
        let sizes = self
            .client
            .execute(
                "return [document.documentElement.scrollHeight, window.innerHeight, window.outerHeight];",
                vec![],
            )
            .await
            .ok()
            .and_then(|json| serde_json::from_value::<[u32; 3]>(json).ok());
        let grown = match sizes {
            Some([page, inner, outer]) if page > inner => {
                let height = (outer - inner + page).min(6000);
                self.client
                    .set_window_size(self.window.0, height)
                    .await
                    .is_ok()
            }
            _ => false,
        };
        let picture = self.client.screenshot().await;
        if grown {
            let _ = self
                .client
                .set_window_size(self.window.0, self.window.1)
                .await;
        }
        match picture {
            Ok(png) => self.shots.save(step, &png),
            Err(error) => eprintln!("screenshot {step} failed: {error}"),
        }
    }

    pub async fn path(&self) -> String {
        let url = self.client.current_url().await.expect("current URL");
        match url.query().filter(|q| !q.is_empty()) {
            Some(query) => format!("{}?{query}", url.path()),
            None => url.path().to_owned(),
        }
    }

    pub async fn assert_path_is(&mut self, expected: &str) {
        let path = self.path().await;
        if path.split('?').next() != Some(expected) {
            self.fail(&format!("expected to be on {expected}")).await;
        }
    }

    /// Nothing sticks out sideways: no horizontal scrolling, at any window width.
    pub async fn assert_fits_window(&mut self) {
        let script =
            "const root = document.documentElement; return [root.scrollWidth, root.clientWidth];";
        let widths = self
            .client
            .execute(script, vec![])
            .await
            .expect("page width");
        self.assert_no_sideways_scroll(widths, |page, window| {
            format!("the page is {page} px wide in a {window} px window: it scrolls sideways")
        })
        .await;
    }

    /// What the person reads: the rendered text of the page.
    pub async fn text(&self) -> String {
        self.client
            .find(Locator::Css("body"))
            .await
            .expect("a body")
            .text()
            .await
            .expect("body text")
    }

    pub async fn assert_sees(&mut self, words: &str) {
        let text = self.text().await;
        if !text.contains(words) {
            self.fail(&format!(
                "expected the page to say {words:?}; it says:\n{text}"
            ))
            .await;
        }
    }

    pub async fn assert_does_not_see(&mut self, words: &str) {
        let text = self.text().await;
        if text.contains(words) {
            self.fail(&format!(
                "expected the page not to say {words:?}; it says:\n{text}"
            ))
            .await;
        }
    }

    /// The section (or group or form) whose accessible name is `name`.
    pub async fn section(&mut self, name: &str) -> Element {
        self.unique(
            &Scope::Section(name).xpath(),
            &format!("the section {name:?}"),
        )
        .await
    }

    /// The text of the section whose accessible name is `name`.
    pub async fn section_text(&mut self, name: &str) -> String {
        let section = self.section(name).await;
        section.text().await.expect("section text")
    }

    pub async fn assert_section_says(&mut self, name: &str, words: &str) {
        let text = self.section_text(name).await;
        if !text.contains(words) {
            self.fail(&format!(
                "expected the section {name:?} to say {words:?}; it says:\n{text}"
            ))
            .await;
        }
    }

    /// Runs `script` with `element` as `arguments[0]`.
    pub async fn execute_on(&self, script: &str, element: &Element) -> serde_json::Value {
        let element = serde_json::to_value(element).expect("element as JSON");
        self.client
            .execute(script, vec![element])
            .await
            .expect("the script runs")
    }

    /// Fails with `message` (given the two widths) when content wider than its room
    /// would scroll sideways; `widths` is [content, room] as a script answered it.
    pub(crate) async fn assert_no_sideways_scroll(
        &mut self,
        widths: serde_json::Value,
        message: impl FnOnce(u32, u32) -> String,
    ) {
        let [content, room]: [u32; 2] = serde_json::from_value(widths).expect("two widths");
        if content > room {
            self.fail(&message(content, room)).await;
        }
    }

    /// The heading the person sees first on the page.
    pub async fn heading(&self) -> String {
        match self.client.find(Locator::XPath("(//h1)[1]")).await {
            Ok(h1) => h1.text().await.unwrap_or_default(),
            Err(_) => String::new(),
        }
    }

    /// Where this test's screenshots go, for files that belong beside them.
    pub fn screenshots_folder(&self) -> std::path::PathBuf {
        self.shots.file("")
    }

    /// Takes a screenshot of the failure and panics with where the browser is.
    pub async fn fail(&mut self, message: &str) -> ! {
        self.screenshot("failure").await;
        let path = self.path().await;
        panic!("at {path} (\"{}\"): {message}", self.heading().await);
    }

    // ---- Acting ---------------------------------------------------------------

    /// Resizes the window, e.g. to a phone's size.
    pub async fn resize(&mut self, width: u32, height: u32) {
        self.client
            .set_window_size(width, height)
            .await
            .expect("resize the window");
        self.window = (width, height);
    }

    /// Types the address into the address bar.
    pub async fn open(&mut self, path: &str, step: &str) {
        let url = if path.starts_with("http") {
            path.to_owned()
        } else {
            self.app.url(path)
        };
        self.client.goto(&url).await.expect("the page loads");
        self.screenshot(step).await;
        self.assert_fits_window().await;
    }

    /// The browser's Back button. The previous page may come back from the
    /// back/forward cache with its scripts' state intact, so the wait is for the
    /// address to change rather than for a fresh document.
    pub async fn back(&mut self, step: &str) {
        let before = self.client.current_url().await.expect("current URL");
        self.client.back().await.expect("back");
        let deadline = Instant::now() + PATIENCE;
        loop {
            let url = self.client.current_url().await.ok();
            let ready = self
                .client
                .execute("return document.readyState === 'complete';", vec![])
                .await
                .ok();
            if url.is_some_and(|url| url != before) && ready == Some(json!(true)) {
                break;
            }
            if Instant::now() > deadline {
                self.fail("Back did not lead to the previous page").await;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        self.screenshot(step).await;
        self.assert_fits_window().await;
    }

    pub async fn refresh(&mut self) {
        self.mark_page().await;
        self.client.refresh().await.expect("reload");
        self.wait_for_new_page().await;
    }

    pub async fn click_button(&mut self, name: &str, step: &str) {
        self.click_button_in(Scope::Page, name, step).await;
    }

    pub async fn click_button_in(&mut self, scope: Scope<'_>, name: &str, step: &str) {
        let button = self.button(scope, name).await;
        self.click_to_new_page(button, step).await;
    }

    pub async fn click_link(&mut self, name: &str, step: &str) {
        self.click_link_in(Scope::Page, name, step).await;
    }

    pub async fn click_link_in(&mut self, scope: Scope<'_>, name: &str, step: &str) {
        let link = self.link(scope, name).await;
        self.click_to_new_page(link, step).await;
    }

    pub async fn click_control_in(&mut self, scope: Scope<'_>, name: &str, step: &str) {
        let control = self.control(scope, name).await;
        self.click_to_new_page(control, step).await;
    }

    /// Clicks what leads to another page, waits for that page, screenshots it.
    pub async fn click_to_new_page(&mut self, element: Element, step: &str) {
        self.assert_on_top(&element).await;
        self.mark_page().await;
        element.click().await.expect("click");
        self.wait_for_new_page().await;
        self.screenshot(step).await;
        self.assert_fits_window().await;
    }

    /// Clicks something that changes the page in place (a `<details>` menu).
    pub async fn click_in_place(&mut self, element: Element, step: &str) {
        self.assert_on_top(&element).await;
        element.click().await.expect("click");
        self.screenshot(step).await;
        self.assert_fits_window().await;
    }

    /// The element is visible and nothing covers its centre: a person can click it.
    pub async fn assert_on_top(&mut self, element: &Element) {
        let script = "const e = arguments[0]; e.scrollIntoView({block: 'center'});
            const r = e.getBoundingClientRect();
            const top = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
            return r.width > 0 && r.height > 0 && top !== null && (top === e || e.contains(top));";
        let on_top = self.execute_on(script, element).await;
        if on_top != json!(true) {
            let text = element.text().await.unwrap_or_default();
            self.fail(&format!(
                "{text:?} is covered by something else or has no size"
            ))
            .await;
        }
    }

    /// Where the element is: (x, y, width, height) in CSS pixels.
    pub async fn rectangle(&self, element: &Element) -> (f64, f64, f64, f64) {
        element.rectangle().await.expect("element rectangle")
    }

    async fn mark_page(&self) {
        self.client
            .execute("window.__twostepOldPage = true; return null;", vec![])
            .await
            .expect("mark the current page");
    }

    /// Waits until the marked page is gone and the next one has loaded.
    async fn wait_for_new_page(&mut self) {
        let deadline = Instant::now() + PATIENCE;
        let probe =
            "return document.readyState === 'complete' && window.__twostepOldPage !== true;";
        while Instant::now() < deadline {
            if let Ok(json) = self.client.execute(probe, vec![]).await
                && json == json!(true)
            {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        self.fail("the click did not lead to a new page").await;
    }
}
