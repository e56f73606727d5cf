//! Two-step verification set up with mobile numbers of other countries on a portal
//! left at its default region, the USA: the numbers issue 12 saw refused.

use crate::helpers::*;

/// Typed as people do, and the E.164 number the code must go to.
const ONCE_REFUSED: [(&str, &str); 5] = [
    // Germany: the USA's national prefix 1 was stripped from 151….
    ("+49 151 23456789", "+4915123456789"),
    ("0049 (0)151 2345 6789", "+4915123456789"),
    ("+86 131 2345 6789", "+8613123456789"),
    // Benin and Côte d'Ivoire: national numbers that start with 0.
    ("+229 01 90 01 12 34", "+2290190011234"),
    ("+225 07 07 12 34 56", "+2250707123456"),
];

#[tokio::test]
async fn two_step_verification_is_set_up_with_mobile_numbers_of_other_countries() {
    for (typed, e164) in ONCE_REFUSED {
        let app = spawn_app().await;
        assert_eq!(
            app.config.default_region,
            Some(domain::phone_number::parse_region("US").unwrap())
        );
        let browser = app.signed_up("ann@example.com").await;

        browser.set_up_sms(&app, typed).await;

        assert!(
            app.sms.last_to(e164).is_some(),
            "{typed:?}: the code goes to {e164}"
        );
    }
}
