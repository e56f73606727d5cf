//! Numbers as people type them: forms, separators, refusals, the masked form.

use super::*;

fn us() -> Option<country::Id> {
    region("US")
}

fn region(code: &str) -> Option<country::Id> {
    Some(parse_region(code).unwrap())
}

/// The number `typed` is, in E.164; a refusal fails the test, naming the text.
fn e164(typed: &str, default: Option<country::Id>) -> String {
    match PhoneNumber::parse(typed, default) {
        Ok(number) => number.e164().to_owned(),
        Err(why) => panic!("{typed:?} refused: {why:?}"),
    }
}

/// Why `typed` is refused; an accepted number fails the test.
fn refusal(typed: &str, default: Option<country::Id>) -> PhoneNumberError {
    match PhoneNumber::parse(typed, default) {
        Ok(number) => panic!("{typed:?} accepted as {number:?}"),
        Err(why) => why,
    }
}

#[test]
fn an_international_number_is_kept_in_e164() {
    assert_eq!(e164("+1 650 253 0000", None), "+16502530000");
    assert_eq!(e164("+44 7400 123456", None), "+447400123456");
}

#[test]
fn a_national_number_uses_the_default_region() {
    assert_eq!(e164("(650) 253-0000", us()), "+16502530000");
    assert_eq!(e164("07400 123456", region("gb")), "+447400123456");
}

#[test]
fn a_national_number_without_a_default_region_is_invalid() {
    assert_eq!(refusal("650 253 0000", None), PhoneNumberError::Invalid);
}

#[test]
fn letters_are_invalid() {
    assert_eq!(refusal("+1 650 CALL NOW", us()), PhoneNumberError::Invalid);
    assert_eq!(refusal("my number", us()), PhoneNumberError::Invalid);
}

#[test]
fn three_digits_are_too_short() {
    assert_eq!(refusal("123", us()), PhoneNumberError::TooShort);
    assert_eq!(refusal("", us()), PhoneNumberError::Empty);
}

#[test]
fn a_landline_cannot_receive_codes() {
    // London numbers (020) are fixed lines in libphonenumber's data.
    assert_eq!(
        refusal("+44 20 7946 0958", None),
        PhoneNumberError::NotMobile
    );
    assert_eq!(
        refusal("0044 20 7946 0958", region("GB")),
        PhoneNumberError::NotMobile
    );
}

#[test]
fn toll_free_numbers_cannot_receive_codes() {
    assert_eq!(
        refusal("+1 800 253 0000", None),
        PhoneNumberError::NotMobile
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

/// Numbers of many countries, typed the ways people write them, with the default region they are
/// typed under and the number they are: rows of data, one a line.
const AS_PEOPLE_TYPE_THEM: &str = include_str!("as_people_type_them.tsv");

#[test]
fn mobile_numbers_of_many_countries_are_accepted_as_people_type_them() {
    let rows: Vec<&str> = AS_PEOPLE_TYPE_THEM
        .lines()
        .filter(|line| !line.starts_with('#'))
        .collect();
    assert_eq!(rows.len(), 38, "the whole table is read");
    for row in rows {
        let [typed, default, e164] = row.split('\t').collect::<Vec<_>>()[..] else {
            panic!("not three tab-separated columns: {row:?}");
        };
        let default = (default != "-").then(|| parse_region(default).unwrap());
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
    assert_eq!(e164("+49 151 23456789", us()), "+4915123456789");
}

#[test]
fn landlines_abroad_are_refused_whatever_the_default_region() {
    for default in [us(), region("DE"), None] {
        assert_eq!(
            refusal("+49 30 123456", default),
            PhoneNumberError::NotMobile
        );
        assert_eq!(
            refusal("0033 1 23 45 67 89", default),
            PhoneNumberError::NotMobile
        );
    }
}

#[test]
fn a_national_number_of_another_region_is_invalid() {
    // A French mobile typed nationally means nothing in the USA.
    assert_eq!(refusal("06 12 34 56 78", us()), PhoneNumberError::Invalid);
}

#[test]
fn a_short_national_number_is_too_short_by_the_regions_own_plan() {
    // Tokelau's numbers have four digits: short there, not too short.
    assert_eq!(e164("7290", region("TK")), "+6907290");
    assert_eq!(refusal("201 555", us()), PhoneNumberError::TooShort);
}
