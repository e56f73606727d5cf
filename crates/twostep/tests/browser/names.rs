//! Finding things the way a person or a screen reader does: by label text,
//! button and link text, and accessible names (aria-label, aria-labelledby),
//! never by CSS class or id.
//!
//! If something cannot be found by its name, the page breaks the contract of
//! the issues' "Names on the page": fix the template, not the test.

use fantoccini::elements::Element;
use fantoccini::wd::Locator;

use crate::browser::Browser;

impl Browser {
    /// The form control whose `<label>` reads exactly `label`.
    pub async fn field(&mut self, label: &str) -> Element {
        self.field_in(Scope::Page, label).await
    }

    pub async fn field_in(&mut self, scope: Scope<'_>, label: &str) -> Element {
        let xpath = format!(
            "{}//label[normalize-space()={}]",
            scope.xpath(),
            literal(label)
        );
        let label_element = self
            .unique_in(scope, &xpath, &format!("the label {label:?}"))
            .await;
        let control = match label_element.attr("for").await.expect("label for") {
            Some(id) => self.client.find(Locator::Id(&id)).await.ok(),
            None => label_element
                .find(Locator::XPath(".//input|.//textarea|.//select"))
                .await
                .ok(),
        };
        match control {
            Some(control) => control,
            None => {
                self.fail(&format!(
                    "the label {label:?} is not tied to any control (for=… or nested)"
                ))
                .await
            }
        }
    }

    pub async fn fill(&mut self, label: &str, value: &str) {
        self.fill_in(Scope::Page, label, value).await;
    }

    pub async fn fill_in(&mut self, scope: Scope<'_>, label: &str, value: &str) {
        let field = self.field_in(scope, label).await;
        field.clear().await.expect("clear the field");
        field.send_keys(value).await.expect("type into the field");
    }

    pub async fn field_value(&mut self, label: &str) -> String {
        let field = self.field(label).await;
        field
            .prop("value")
            .await
            .expect("value")
            .unwrap_or_default()
    }

    /// The field labelled `label` is marked as refused (`aria-invalid`), so a
    /// screen reader says so too.
    pub async fn assert_marked_invalid(&mut self, label: &str) {
        let field = self.field(label).await;
        let invalid = field.attr("aria-invalid").await.expect("aria-invalid");
        if invalid.as_deref() != Some("true") {
            self.fail(&format!(
                "the refused field {label:?} is not marked invalid"
            ))
            .await;
        }
    }

    /// A button whose text or accessible name is `name`.
    pub async fn button(&mut self, scope: Scope<'_>, name: &str) -> Element {
        self.named(scope, Control::Button, name).await
    }

    /// A link whose text or accessible name is `name`.
    pub async fn link(&mut self, scope: Scope<'_>, name: &str) -> Element {
        self.named(scope, Control::Link, name).await
    }

    /// Anything a person can activate (link or button) with the accessible name `name`.
    pub async fn control(&mut self, scope: Scope<'_>, name: &str) -> Element {
        self.named(scope, Control::Either, name).await
    }

    async fn named(&mut self, scope: Scope<'_>, control: Control, name: &str) -> Element {
        let xpath = control.xpath(&scope.xpath(), &literal(name));
        let what = format!("{} named {name:?}", control.what());
        self.unique_in(scope, &xpath, &what).await
    }

    /// `unique`, saying where it looked.
    async fn unique_in(&mut self, scope: Scope<'_>, xpath: &str, what: &str) -> Element {
        self.unique(xpath, &format!("{what}{}", scope.describe()))
            .await
    }

    /// An image whose text alternative is `alt`.
    pub async fn image(&mut self, alt: &str) -> Element {
        let xpath = format!("//img[@alt={}]", literal(alt));
        self.unique(&xpath, &format!("an image with alt text {alt:?}"))
            .await
    }

    /// An element whose accessible name, by `aria-label` or `aria-labelledby`, is `name`.
    pub async fn labelled(&mut self, name: &str) -> Element {
        let n = literal(name);
        let xpath =
            format!("//*[@aria-label={n} or @aria-labelledby=//*[@id][normalize-space()={n}]/@id]");
        self.unique(&xpath, &format!("an element labelled {name:?}"))
            .await
    }

    pub async fn has_button(&self, scope: Scope<'_>, name: &str) -> bool {
        let n = literal(name);
        let xpath = format!(
            "{}//button[normalize-space()={n} or @aria-label={n}]",
            scope.xpath()
        );
        !self.displayed(&xpath).await.is_empty()
    }

    async fn displayed(&self, xpath: &str) -> Vec<Element> {
        let mut shown = Vec::new();
        for element in self
            .client
            .find_all(Locator::XPath(xpath))
            .await
            .unwrap_or_default()
        {
            if element.is_displayed().await.unwrap_or(false) {
                shown.push(element);
            }
        }
        shown
    }

    /// Exactly one visible match, or the test fails with what the page offers instead.
    pub(crate) async fn unique(&mut self, xpath: &str, what: &str) -> Element {
        let mut found = self.displayed(xpath).await;
        match found.len() {
            1 => found.remove(0),
            0 => {
                let offers = self.names_on_page().await;
                self.fail(&format!(
                    "no {what} is visible on this page.\nThe page offers: {offers}"
                ))
                .await
            }
            n => {
                self.fail(&format!(
                    "{n} elements match {what}; a person could not tell which one is meant"
                ))
                .await
            }
        }
    }

    /// Visible labels, buttons and links: the names a person could use instead.
    async fn names_on_page(&self) -> String {
        let mut names = Vec::new();
        for (kind, xpath) in [
            ("label", "//label"),
            ("button", "//button"),
            ("link", "//a"),
        ] {
            for element in self.displayed(xpath).await {
                let text = match element.attr("aria-label").await.ok().flatten() {
                    Some(label) => label,
                    None => element.text().await.unwrap_or_default(),
                };
                names.push(format!("{kind} {:?}", text.trim()));
            }
        }
        names.join(", ")
    }

    /// Clicks the e-mail address in the upper-right corner; the drop-down opens.
    pub async fn open_account_menu(&mut self, email: &str) {
        let e = literal(email);
        let xpath = format!(
            "//header//*[(self::a or self::summary or self::button) and normalize-space()={e}]"
        );
        let link = self
            .unique(&xpath, &format!("the e-mail link {email:?} in the header"))
            .await;
        let (x, y, width, _) = self.rectangle(&link).await;
        let (window_width, _) = self.client.get_window_size().await.expect("window size");
        if x + width < window_width as f64 * 0.6 || y > 120.0 {
            self.fail(&format!(
                "the e-mail link is at ({x}, {y}), not in the upper-right corner"
            ))
            .await;
        }
        self.click_in_place(link, "account-menu-open").await;
        let manage = self.button(Scope::Header, "Manage account").await;
        self.assert_on_top(&manage).await;
    }
}

/// Where to look: the whole page, the header, or a section with an accessible name.
#[derive(Clone, Copy)]
pub enum Scope<'a> {
    Page,
    Header,
    Section(&'a str),
    /// A navigation landmark, such as the settings window's tabs.
    Navigation(&'a str),
}

impl Scope<'_> {
    pub(crate) fn xpath(self) -> String {
        match self {
            Scope::Page => String::new(),
            Scope::Header => "//header".into(),
            Scope::Navigation(name) => format!("//nav[@aria-label={}]", literal(name)),
            Scope::Section(name) => {
                let n = literal(name);
                format!(
                    "//*[(self::section or self::form or self::fieldset or @role='region' or @role='group' or @role='dialog') and (@aria-label={n} or @aria-labelledby=//*[@id][normalize-space()={n}]/@id)]"
                )
            }
        }
    }

    fn describe(self) -> String {
        match self {
            Scope::Page => String::new(),
            Scope::Header => " in the header".into(),
            Scope::Section(name) => format!(" in the section {name:?}"),
            Scope::Navigation(name) => format!(" in the navigation {name:?}"),
        }
    }
}

/// `text` as an XPath 1.0 string literal, whatever quotes it contains.
pub(crate) fn literal(text: &str) -> String {
    if !text.contains('\'') {
        format!("'{text}'")
    } else if !text.contains('"') {
        format!("\"{text}\"")
    } else {
        let parts: Vec<String> = text.split('\'').map(|part| format!("'{part}'")).collect();
        format!("concat({})", parts.join(", \"'\", "))
    }
}

/// What a person activates, found by its text or accessible name.
#[derive(Clone, Copy)]
enum Control {
    Button,
    Link,
    /// A link or a button, whichever the page uses.
    Either,
}

impl Control {
    /// The XPath of such a control below `scope` named `n` (an XPath literal).
    fn xpath(self, scope: &str, n: &str) -> String {
        match self {
            Control::Button => format!(
                "{scope}//button[normalize-space()={n} or @aria-label={n}] | {scope}//input[(@type='submit' or @type='button') and @value={n}]"
            ),
            Control::Link => format!("{scope}//a[normalize-space()={n} or @aria-label={n}]"),
            Control::Either => format!(
                "{scope}//*[(self::a or self::button or @role='button') and (@aria-label={n} or (not(@aria-label) and normalize-space()={n}))]"
            ),
        }
    }

    fn what(self) -> &'static str {
        match self {
            Control::Button => "a button",
            Control::Link => "a link",
            Control::Either => "a control",
        }
    }
}
