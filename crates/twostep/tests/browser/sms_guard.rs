//! Issue 11: the SMS guard as a person meets it. A sixth code to one number in
//! an hour is refused on the code step, which says how long to wait.

use crate::browser::Browser;
use crate::steps::PASSWORD;

const EMAIL: &str = "ada@example.com";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs chromium and chromedriver; run by .ci/run"]
async fn a_sixth_code_to_one_number_in_an_hour_is_refused_with_the_wait() {
    let mut person = Browser::with_sms_two_step("sms_guard", EMAIL).await;
    person.sign_out(EMAIL).await;
    // The set-up's code and the sign-in's: two of the number's five an hour.
    person
        .enter_email_and_password(EMAIL, PASSWORD, "second-step")
        .await;
    for n in 3..=5 {
        person.app.clock.advance(60);
        person
            .click_link("Send a new code", &format!("code-{n}-sent"))
            .await;
        person.assert_sees("We sent a new code.").await;
    }
    person.app.clock.advance(60);
    person.click_link("Send a new code", "too-many-codes").await;
    // The number's hour opened four minutes ago.
    person
        .assert_sees("Too many codes requested. Try again in 56 minutes.")
        .await;
    person.assert_path_is("/sign-in/verify").await;
    person.assert_fits_window().await;
    person.finish().await;
}
