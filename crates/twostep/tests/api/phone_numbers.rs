//! Phone numbers typed into the set-up form: what is accepted, and what is refused
//! with a message beside the field, the typed value kept.

use crate::helpers::*;

const NUMBER_STEP: &str = "/account/security/phone/set-up/number";

/// A signed-in browser at the set-up's phone number step.
async fn at_the_number_step(app: &TestApp) -> Browser {
    let browser = app.signed_up("ann@example.com").await;
    browser
        .enter_phone_password(PhoneFlow::SetUp, PASSWORD)
        .await
        .assert_redirect_to(NUMBER_STEP);
    browser
}

/// Submits `typed` and checks it is refused beside the field with one of `messages`,
/// the value kept, and no SMS sent.
async fn assert_refused(typed: &str, messages: &[&str]) -> Page {
    let app = spawn_app().await;
    let browser = at_the_number_step(&app).await;

    let page = browser.post(NUMBER_STEP, &[("phone", typed)]).await;

    assert_eq!(page.status, 422, "{typed:?} should be refused");
    let beside_the_field = page
        .body
        .split("id=\"phone-error\">")
        .nth(1)
        .expect("an error beside the phone field");
    let message = &beside_the_field[..beside_the_field.find("</p>").unwrap()];
    assert!(
        messages.contains(&message),
        "{typed:?}: unexpected message {message:?}"
    );
    assert!(
        page.contains("aria-describedby=\"phone-hint phone-error\""),
        "the field points to its error"
    );
    assert_eq!(
        phone_field_value(&page.body).as_deref(),
        Some(escape(typed).as_str()),
        "the typed value is kept"
    );
    assert_eq!(app.sms_count(), 0, "no SMS for a refused number");
    page
}

/// The `value` of the phone number input, as the page has it.
fn phone_field_value(html: &str) -> Option<String> {
    let input = &html[html.find("<input id=\"phone\"")?..];
    let input = &input[..input.find('>')?];
    let value = &input[input.find(" value=\"")? + " value=\"".len()..];
    Some(value[..value.find('"')?].to_owned())
}

/// HTML escaping as askama does it.
fn escape(text: &str) -> String {
    text.replace('&', "&#38;")
        .replace('<', "&#60;")
        .replace('>', "&#62;")
        .replace('"', "&#34;")
        .replace('\'', "&#39;")
}

const INVALID: &str = "Enter a valid phone number, with the country code, like +1 650 253 0000.";
const TOO_SHORT: &str = "This phone number is too short.";
const NOT_MOBILE: &str =
    "This number can&#39;t receive text messages. Enter a mobile phone number.";

/// Submits `typed`, checks that it leads to the code step with the code sent
/// to `e164`, and returns the app and the browser at the code step.
async fn assert_accepted(typed: &str, e164: &str) -> (TestApp, Browser) {
    let app = spawn_app().await;
    let browser = at_the_number_step(&app).await;

    let page = browser.post(NUMBER_STEP, &[("phone", typed)]).await;

    page.assert_redirect_to("/account/security/phone/set-up/code");
    let sms = app
        .sms
        .last_to(e164)
        .expect("the SMS goes to the number in E.164");
    assert!(sms.text.contains("security code"));
    (app, browser)
}

#[tokio::test]
async fn a_us_number_in_international_form_is_accepted_and_gets_the_code() {
    assert_accepted("+1 650 253 0000", "+16502530000").await;
}

/// One test per refused number: its name, what is typed, and the message
/// expected beside the field.
macro_rules! refused {
    ($($name:ident: $typed:expr => $message:expr;)*) => {$(
        #[tokio::test]
        async fn $name() {
            assert_refused($typed, &[$message]).await;
        }
    )*};
}

refused! {
    a_landline_typed_with_00_is_read_as_international_and_refused_as_not_mobile:
        "0044 20 7946 0958" => NOT_MOBILE;
    a_number_with_letters_is_refused_beside_the_field: "+1 650 CALL NOW" => INVALID;
    a_three_digit_number_is_refused_as_too_short: "123" => TOO_SHORT;
    a_london_landline_is_refused_as_not_a_mobile_number: "+44 20 7946 0958" => NOT_MOBILE;
    an_empty_number_is_refused_beside_the_field: "   " => "Enter your phone number.";
}

#[tokio::test]
async fn markup_typed_as_a_number_is_kept_escaped() {
    let page = assert_refused("<b>+1 650</b>", &[INVALID]).await;
    assert!(!page.contains("<b>+1 650</b>"));
}

#[tokio::test]
async fn a_uk_mobile_number_is_accepted() {
    let (_app, browser) = assert_accepted("+44 7400 123456", "+447400123456").await;
    browser
        .get("/account/security/phone/set-up/code")
        .await
        .assert_contains("+44 ••• ••• 3456");
}
