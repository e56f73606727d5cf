//! What kind of line a number is, according to libphonenumber's data, and which
//! kinds a text message reaches.
//!
//! The `phonenumber` crate's own `PhoneNumber::number_type` drops the leading
//! zeros of the national significant number before matching it against the data,
//! so every number whose national part starts with 0 comes out `Unknown`: all of
//! Benin's (01…), the Republic of the Congo's (0…) and Côte d'Ivoire's (01/05/07…)
//! mobiles, although the data knows them. This module matches the whole national
//! significant number, zeros included, in libphonenumber's order.

use phonenumber::{Metadata, Type, country, metadata::DATABASE};

/// The region whose numbering plan `national` belongs to among those that share
/// the country code `code`: as libphonenumber chooses, the main region first, then
/// the first whose leading digits match or whose plan knows the number.
pub(super) fn region_of(code: u16, national: &str) -> Option<&'static Metadata> {
    let regions = DATABASE.by_code(&code)?;
    if let [only] = regions[..] {
        return Some(only);
    }
    regions
        .into_iter()
        .find(|region| match region.leading_digits() {
            Some(leading) => leading.find(national).is_some_and(|at| at.start() == 0),
            None => kind_of(region, national) != Type::Unknown,
        })
}

/// The country code of `region` (49 for Germany).
pub(super) fn country_code_of(region: country::Id) -> u16 {
    DATABASE
        .by_id(region.as_ref())
        .map_or(0, |plan| plan.country_code())
}

/// The length of the shortest national significant number of any kind in any
/// region with the country code `code` (4 digits in Tokelau, 10 in the USA).
pub(super) fn shortest_number(code: u16) -> usize {
    DATABASE
        .by_code(&code)
        .into_iter()
        .flatten()
        .flat_map(|region| {
            let descriptors = region.descriptors();
            SERVICES
                .into_iter()
                .chain([Type::FixedLine, Type::Mobile])
                .filter_map(|kind| descriptors.get(kind)?.possible_length().first())
        })
        .min()
        .map_or(0, |&length| usize::from(length))
}

/// Numbers for a service rather than a line, checked before fixed line and
/// mobile because their ranges may overlap them.
const SERVICES: [Type; 8] = [
    Type::PremiumRate,
    Type::TollFree,
    Type::SharedCost,
    Type::Voip,
    Type::PersonalNumber,
    Type::Pager,
    Type::Uan,
    Type::Voicemail,
];

/// The kind of line `national` (the national significant number, leading zeros
/// included) is in `region`'s plan; `Unknown` if the plan has no such number.
pub(super) fn kind_of(region: &Metadata, national: &str) -> Type {
    let descriptors = region.descriptors();
    if !descriptors.general().is_match(national) {
        return Type::Unknown;
    }
    let is = |kind: Type| descriptors.get(kind).is_some_and(|d| d.is_match(national));
    if let Some(service) = SERVICES.into_iter().find(|&kind| is(kind)) {
        return service;
    }
    // Where the plan has one pattern for both, nobody can tell them apart.
    let same_pattern = match (descriptors.fixed_line(), descriptors.mobile()) {
        (Some(fixed), Some(mobile)) => {
            fixed.national_number().as_str() == mobile.national_number().as_str()
        }
        _ => false,
    };
    match (is(Type::FixedLine), is(Type::Mobile)) {
        (true, true) => Type::FixedLineOrMobile,
        (true, false) if same_pattern => Type::FixedLineOrMobile,
        (true, false) => Type::FixedLine,
        (false, true) => Type::Mobile,
        (false, false) => Type::Unknown,
    }
}

/// Text messages reach mobile phones. Where the data cannot tell a mobile from a
/// fixed line (the USA, Canada, …) the person is taken at their word, and a
/// personal number forwards to the person's own phone. Fixed lines, toll-free,
/// premium-rate, shared-cost, VoIP, pager, UAN and voicemail numbers are refused:
/// a code sent there would most likely never arrive.
pub(super) fn takes_sms(kind: Type) -> bool {
    matches!(
        kind,
        Type::Mobile | Type::FixedLineOrMobile | Type::PersonalNumber
    )
}
