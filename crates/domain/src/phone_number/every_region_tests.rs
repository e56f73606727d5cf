//! The rule tested against every region in libphonenumber's data, not one example:
//! each region's example mobile number is accepted however the default region is
//! set, its example fixed line refused where the data says a fixed line is not a
//! mobile, and national numbers are completed with the default region.

use super::*;
use phonenumber::{Metadata, Mode, metadata::DATABASE};

/// Every numbering plan in the data: each region, and each non-geographic
/// entity (+800, +870, +882, …), which all share the id "001" and so are
/// reachable only by their country code.
fn every_plan() -> Vec<&'static Metadata> {
    (1..1000u16)
        .filter_map(|code| DATABASE.by_code(&code))
        .flatten()
        .collect()
}

fn region(id: &str) -> Option<country::Id> {
    Some(id.parse().unwrap())
}

/// The defaults an operator is likely to configure, and none.
fn defaults() -> [(&'static str, Option<country::Id>); 4] {
    [
        ("US", region("US")),
        ("GB", region("GB")),
        ("DE", region("DE")),
        ("none", None),
    ]
}

fn name(plan: &Metadata) -> String {
    format!("{} (+{})", plan.id(), plan.country_code())
}

/// The plans the data gives no example mobile number, and why: none has mobiles.
const WITHOUT_MOBILES: [(&str, &str); 7] = [
    (
        "TA (+290)",
        "Tristan da Cunha: the data knows only its fixed lines",
    ),
    ("001 (+800)", "international freephone numbers"),
    ("001 (+808)", "international shared-cost numbers"),
    ("001 (+878)", "Universal Personal Telecommunications: VoIP"),
    ("001 (+883)", "international networks: VoIP"),
    ("001 (+888)", "OCHA's humanitarian numbers: UAN"),
    ("001 (+979)", "international premium-rate numbers"),
];

#[test]
fn the_only_plans_without_an_example_mobile_number_are_those_without_mobiles() {
    let without: Vec<String> = every_plan()
        .into_iter()
        .filter(|plan| {
            plan.descriptors()
                .mobile()
                .and_then(|d| d.example())
                .is_none()
        })
        .map(name)
        .collect();
    let named: Vec<&str> = WITHOUT_MOBILES.iter().map(|(plan, _)| *plan).collect();
    assert_eq!(without, named);
}

#[test]
fn every_regions_example_mobile_number_is_accepted_with_any_default_region() {
    let mut refused = Vec::new();
    let mut checked = 0;
    for plan in every_plan() {
        let Some(mobile) = plan.descriptors().mobile().and_then(|d| d.example()) else {
            continue;
        };
        let code = plan.country_code();
        let e164 = format!("+{code}{mobile}");
        for typed in [format!("+{code} {mobile}"), format!("00{code} {mobile}")] {
            for (default_name, default) in defaults() {
                checked += 1;
                match PhoneNumber::parse(&typed, default) {
                    Ok(number) if number.e164() == e164 => {}
                    other => refused.push(format!(
                        "{}: {typed:?} with default {default_name}: {other:?}",
                        name(plan)
                    )),
                }
            }
        }
    }
    assert!(checked > 8 * 240, "only {checked} numbers checked");
    assert!(refused.is_empty(), "refused:\n{}", refused.join("\n"));
}

#[test]
fn every_regions_example_fixed_line_is_refused_where_the_data_says_it_is_not_a_mobile() {
    let mut wrong = Vec::new();
    let mut refused = 0;
    for plan in every_plan() {
        let descriptors = plan.descriptors();
        let Some(fixed) = descriptors.fixed_line().and_then(|d| d.example()) else {
            continue;
        };
        // The data's own word: a fixed line that the mobile pattern also
        // describes may be a mobile (the USA's numbers are both).
        let maybe_mobile = descriptors.mobile().is_some_and(|mobile| {
            mobile.is_match(fixed)
                || descriptors.fixed_line().unwrap().national_number().as_str()
                    == mobile.national_number().as_str()
        });
        let typed = format!("+{} {fixed}", plan.country_code());
        let outcome = PhoneNumber::parse(&typed, None);
        let right = if maybe_mobile {
            outcome.is_ok()
        } else {
            refused += 1;
            outcome == Err(PhoneNumberError::NotMobile)
        };
        if !right {
            wrong.push(format!(
                "{}: {typed:?} (maybe mobile: {maybe_mobile}): {outcome:?}",
                name(plan)
            ));
        }
    }
    assert!(refused > 150, "only {refused} fixed lines refused");
    assert!(wrong.is_empty(), "wrong:\n{}", wrong.join("\n"));
}

#[test]
fn every_regions_national_mobile_number_is_completed_with_that_default_region() {
    let mut refused = Vec::new();
    let mut checked = 0;
    for plan in every_plan().into_iter().filter(|plan| plan.id() != "001") {
        let Some(mobile) = plan.descriptors().mobile().and_then(|d| d.example()) else {
            continue;
        };
        let e164 = format!("+{}{mobile}", plan.country_code());
        // The national form as the region writes it, national prefix included.
        let national = phonenumber::parse(None, &e164)
            .map(|number| number.format().mode(Mode::National).to_string())
            .unwrap_or_else(|_| mobile.to_owned());
        checked += 1;
        match PhoneNumber::parse(&national, region(plan.id())) {
            Ok(number) if number.e164() == e164 => {}
            other => refused.push(format!("{}: {national:?}: {other:?}", name(plan))),
        }
    }
    assert!(checked > 230, "only {checked} regions checked");
    assert!(refused.is_empty(), "refused:\n{}", refused.join("\n"));
}

/// Pseudo-random German numbers that the data calls mobile: the same 175 every
/// run (a linear congruential generator), spread over 015…, 016… and 017….
fn german_mobile_numbers() -> Vec<String> {
    let germany = DATABASE.by_id("DE").unwrap();
    let mobile = germany.descriptors().mobile().unwrap();
    let mut state: u64 = 12;
    let mut next = move || {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        state >> 33
    };
    let mut numbers = Vec::new();
    while numbers.len() < 175 {
        let length = 10 + (next() % 2) as usize;
        let mut number = format!("1{}", 5 + next() % 3);
        while number.len() < length {
            number.push(char::from_digit((next() % 10) as u32, 10).unwrap());
        }
        if mobile.is_match(&number) {
            numbers.push(number);
        }
    }
    numbers
}

#[test]
fn german_mobile_numbers_are_accepted_with_any_default_region_and_nationally_in_germany() {
    let mut refused = Vec::new();
    for mobile in german_mobile_numbers() {
        let e164 = format!("+49{mobile}");
        let mut forms: Vec<(String, Option<country::Id>)> = Vec::new();
        for (_, default) in defaults() {
            forms.push((format!("+49 {mobile}"), default));
            forms.push((format!("0049 {mobile}"), default));
        }
        forms.push((format!("0{mobile}"), region("DE")));
        for (typed, default) in forms {
            match PhoneNumber::parse(&typed, default) {
                Ok(number) if number.e164() == e164 => {}
                other => refused.push(format!("{typed:?} with {default:?}: {other:?}")),
            }
        }
    }
    assert!(refused.is_empty(), "refused:\n{}", refused.join("\n"));
}
