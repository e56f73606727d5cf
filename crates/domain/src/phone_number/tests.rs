//! Numbers as people type them: forms, separators, refusals, the masked form.

use super::*;

fn us() -> Option<country::Id> {
    Some(parse_region("US").unwrap())
}

#[test]
fn an_international_number_is_kept_in_e164() {
    assert_eq!(
        PhoneNumber::parse("+1 650 253 0000", None).unwrap().e164(),
        "+16502530000"
    );
    assert_eq!(
        PhoneNumber::parse("+44 7400 123456", None).unwrap().e164(),
        "+447400123456"
    );
}

#[test]
fn a_national_number_uses_the_default_region() {
    assert_eq!(
        PhoneNumber::parse("(650) 253-0000", us()).unwrap().e164(),
        "+16502530000"
    );
    assert_eq!(
        PhoneNumber::parse("07400 123456", Some(parse_region("gb").unwrap()))
            .unwrap()
            .e164(),
        "+447400123456"
    );
}

#[test]
fn a_national_number_without_a_default_region_is_invalid() {
    assert_eq!(
        PhoneNumber::parse("650 253 0000", None),
        Err(PhoneNumberError::Invalid)
    );
}

#[test]
fn letters_are_invalid() {
    assert_eq!(
        PhoneNumber::parse("+1 650 CALL NOW", us()),
        Err(PhoneNumberError::Invalid)
    );
    assert_eq!(
        PhoneNumber::parse("my number", us()),
        Err(PhoneNumberError::Invalid)
    );
}

#[test]
fn three_digits_are_too_short() {
    assert_eq!(
        PhoneNumber::parse("123", us()),
        Err(PhoneNumberError::TooShort)
    );
    assert_eq!(PhoneNumber::parse("", us()), Err(PhoneNumberError::Empty));
}

#[test]
fn a_landline_cannot_receive_codes() {
    // London numbers (020) are fixed lines in libphonenumber's data.
    assert_eq!(
        PhoneNumber::parse("+44 20 7946 0958", None),
        Err(PhoneNumberError::NotMobile)
    );
    assert_eq!(
        PhoneNumber::parse("0044 20 7946 0958", Some(parse_region("GB").unwrap())),
        Err(PhoneNumberError::NotMobile)
    );
}

#[test]
fn toll_free_numbers_cannot_receive_codes() {
    assert_eq!(
        PhoneNumber::parse("+1 800 253 0000", None),
        Err(PhoneNumberError::NotMobile)
    );
}

#[test]
fn the_masked_form_shows_country_code_and_last_four_digits() {
    assert_eq!(
        PhoneNumber::from_e164("+16502534567").masked(),
        "+1 ••• ••• 4567"
    );
    assert_eq!(
        PhoneNumber::from_e164("+447400123456").masked(),
        "+44 ••• ••• 3456"
    );
    assert!(!format!("{:?}", PhoneNumber::from_e164("+16502534567")).contains("650"));
}

#[test]
fn an_unknown_region_is_an_error() {
    assert!(parse_region("XX1").is_err());
    assert!(parse_region("us").is_ok());
}
