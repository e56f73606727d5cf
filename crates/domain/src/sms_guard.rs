//! The SMS guard: what may stop a code being texted before any budget is
//! spent. A number must still take text messages, its country must be one the
//! operator allows, and its calling code must not be held by the conversion
//! guard (`budgets::ConversionGuard`). The budgets themselves are in `budgets`.

use phonenumber::country;

use crate::budgets::wait_in_words;
use crate::phone_number::{PhoneNumber, UnknownRegion, parse_region};

/// Why no SMS was sent; each message tells the person what to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SmsRefused {
    #[error("Too many codes requested. Try again in {}.", wait_in_words(*retry_after_seconds))]
    TooManyCodes { retry_after_seconds: i64 },
    #[error(
        "We can't send text messages to phone numbers in this country. Use a mobile number from another country."
    )]
    CountryNotAllowed,
    #[error("This number can't receive text messages. Use a mobile phone number.")]
    CannotTakeSms,
}

/// `[sms] allowed_countries`: the regions whose numbers may be texted; empty,
/// every region.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AllowedCountries(Vec<country::Id>);

impl AllowedCountries {
    pub fn parse<S: AsRef<str>>(codes: &[S]) -> Result<Self, UnknownRegion> {
        codes
            .iter()
            .map(|code| parse_region(code.as_ref()))
            .collect::<Result<_, _>>()
            .map(Self)
    }

    pub fn allows(&self, phone: &PhoneNumber) -> bool {
        self.0.is_empty()
            || phone
                .region()
                .is_some_and(|region| self.0.contains(&region))
    }
}

/// The checks that need no counting: the line type, then the country.
pub fn may_text(phone: &PhoneNumber, allowed: &AllowedCountries) -> Result<(), SmsRefused> {
    if !phone.takes_sms() {
        return Err(SmsRefused::CannotTakeSms);
    }
    if !allowed.allows(phone) {
        return Err(SmsRefused::CountryNotAllowed);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn number(e164: &str) -> PhoneNumber {
        PhoneNumber::parse(e164, None).unwrap()
    }

    #[test]
    fn only_the_listed_countries_are_texted_and_an_empty_list_allows_all() {
        let uk_and_germany = AllowedCountries::parse(&["GB", "de"]).unwrap();
        assert_eq!(may_text(&number("+447400123456"), &uk_and_germany), Ok(()));
        assert_eq!(may_text(&number("+4915112345678"), &uk_and_germany), Ok(()));
        assert_eq!(
            may_text(&number("+33612345678"), &uk_and_germany),
            Err(SmsRefused::CountryNotAllowed)
        );
        let all = AllowedCountries::default();
        assert_eq!(may_text(&number("+33612345678"), &all), Ok(()));
    }

    #[test]
    fn a_country_sharing_a_calling_code_is_told_apart() {
        let usa = AllowedCountries::parse(&["US"]).unwrap();
        assert_eq!(may_text(&number("+16502530000"), &usa), Ok(()));
        assert_eq!(
            may_text(&number("+14165550123"), &usa),
            Err(SmsRefused::CountryNotAllowed),
            "Toronto shares +1 with the USA"
        );
    }

    #[test]
    fn an_unknown_region_is_a_configuration_error() {
        assert!(AllowedCountries::parse(&["GB", "XX"]).is_err());
    }

    #[test]
    fn a_stored_number_that_no_longer_takes_sms_is_refused() {
        let landline = PhoneNumber::from_e164("+442079460000");
        assert_eq!(
            may_text(&landline, &AllowedCountries::default()),
            Err(SmsRefused::CannotTakeSms)
        );
    }

    #[test]
    fn the_number_is_split_into_its_calling_code_and_prefix() {
        let phone = number("+447400123456");
        assert_eq!(phone.calling_code(), 44);
        assert_eq!(phone.prefix(), "+44740012");
        assert_eq!(phone.region(), Some(country::Id::GB));
    }

    #[test]
    fn the_refusal_says_how_long_to_wait() {
        assert_eq!(
            SmsRefused::TooManyCodes {
                retry_after_seconds: 12 * 60
            }
            .to_string(),
            "Too many codes requested. Try again in 12 minutes."
        );
    }
}
