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

/// Numbers of many countries, typed the ways people write them: national
/// prefixes in brackets, dashes, dots, slashes, other scripts' digits.
const AS_PEOPLE_TYPE_THEM: [(&str, Option<&str>, &str); 38] = [
    ("+49 (0)151 2345-6789", Some("US"), "+4915123456789"),
    ("0049 151/23456789", Some("GB"), "+4915123456789"),
    ("(0151) 234 567 89", Some("DE"), "+4915123456789"),
    ("011 49 151 23456789", Some("US"), "+4915123456789"),
    ("0011 49 151 23456789", Some("AU"), "+4915123456789"),
    ("06.12.34.56.78", Some("FR"), "+33612345678"),
    ("+33 (0)6 12 34 56 78", None, "+33612345678"),
    ("+44 (0)7400 123456", Some("US"), "+447400123456"),
    ("07400 123 456", Some("GB"), "+447400123456"),
    ("1 (201) 555-0123", Some("US"), "+12015550123"),
    ("+1-201-555-0123", Some("DE"), "+12015550123"),
    ("+86 131 2345 6789", Some("US"), "+8613123456789"),
    ("131-2345-6789", Some("CN"), "+8613123456789"),
    ("+55 (11) 96123-4567", Some("US"), "+5511961234567"),
    ("(11) 96123-4567", Some("BR"), "+5511961234567"),
    ("+82 10-2000-0000", Some("US"), "+821020000000"),
    ("010-2000-0000", Some("KR"), "+821020000000"),
    ("+60 12-345 6789", Some("US"), "+60123456789"),
    ("+20 100 123 4567", Some("US"), "+201001234567"),
    ("0100 123 4567", Some("EG"), "+201001234567"),
    ("+٢٠ ١٠٠ ١٢٣ ٤٥٦٧", None, "+201001234567"),
    ("+880 1812-345678", Some("US"), "+8801812345678"),
    ("01812-345678", Some("BD"), "+8801812345678"),
    ("098765 43210", Some("IN"), "+919876543210"),
    ("090-1234-5678", Some("JP"), "+819012345678"),
    ("+229 01 90 01 12 34", Some("US"), "+2290190011234"),
    ("01 90 01 12 34", Some("BJ"), "+2290190011234"),
    ("+225 07 07 12 34 56", Some("GB"), "+2250707123456"),
    ("+242 06 123 4567", Some("DE"), "+242061234567"),
    ("+39 312 345 6789", Some("US"), "+393123456789"),
    ("0803 123 4567", Some("NG"), "+2348031234567"),
    ("+54 9 11 2345-6789", Some("US"), "+5491123456789"),
    ("011 15-2345-6789", Some("AR"), "+5491123456789"),
    ("8 (912) 345-67-89", Some("RU"), "+79123456789"),
    ("+90 (532) 123 45 67", Some("US"), "+905321234567"),
    ("+62 812-3456-789", Some("US"), "+628123456789"),
    ("+۹۸ ۹۱۲ ۳۴۵ ۶۷۸۹", Some("US"), "+989123456789"),
    ("+31 6 12345678", Some("GB"), "+31612345678"),
];

#[test]
fn mobile_numbers_of_many_countries_are_accepted_as_people_type_them() {
    for (typed, default, e164) in AS_PEOPLE_TYPE_THEM {
        let default = default.map(|code| parse_region(code).unwrap());
        assert_eq!(
            PhoneNumber::parse(typed, default).map(|n| n.e164().to_owned()),
            Ok(e164.to_owned()),
            "{typed:?} with default {default:?}"
        );
    }
}

#[test]
fn a_german_mobile_number_is_accepted_with_the_default_region_us() {
    // The number of issue 12: the USA's national prefix 1 was stripped from 151….
    assert_eq!(
        PhoneNumber::parse("+49 151 23456789", us()).unwrap().e164(),
        "+4915123456789"
    );
}

#[test]
fn landlines_abroad_are_refused_whatever_the_default_region() {
    for default in [us(), Some(parse_region("DE").unwrap()), None] {
        assert_eq!(
            PhoneNumber::parse("+49 30 123456", default),
            Err(PhoneNumberError::NotMobile)
        );
        assert_eq!(
            PhoneNumber::parse("0033 1 23 45 67 89", default),
            Err(PhoneNumberError::NotMobile)
        );
    }
}

#[test]
fn a_national_number_of_another_region_is_invalid() {
    // A French mobile typed nationally means nothing in the USA.
    assert_eq!(
        PhoneNumber::parse("06 12 34 56 78", us()),
        Err(PhoneNumberError::Invalid)
    );
}

#[test]
fn a_short_national_number_is_too_short_by_the_regions_own_plan() {
    // Tokelau's numbers have four digits: short there, not too short.
    assert_eq!(
        PhoneNumber::parse("7290", Some(parse_region("TK").unwrap()))
            .unwrap()
            .e164(),
        "+6907290"
    );
    assert_eq!(
        PhoneNumber::parse("201 555", us()),
        Err(PhoneNumberError::TooShort)
    );
}
