//! Phone numbers that can receive security codes: parsed with libphonenumber's
//! data, kept in E.164, shown masked.

use phonenumber::{Mode, Type, country};

#[derive(Clone, PartialEq, Eq)]
pub struct PhoneNumber(String);

/// Numbers are personal data: the debug form shows only the masked number.
impl std::fmt::Debug for PhoneNumber {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "PhoneNumber({})", self.masked())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PhoneNumberError {
    #[error("Enter your phone number.")]
    Empty,
    #[error("Enter a valid phone number, with the country code, like +1 650 253 0000.")]
    Invalid,
    #[error("This phone number is too short.")]
    TooShort,
    #[error("This number can't receive text messages. Enter a mobile phone number.")]
    NotMobile,
}

/// A configured default region ("US", "GB", …) that is not a CLDR region id.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown region {0:?}: use a two-letter region code such as \"US\" or \"GB\"")]
pub struct UnknownRegion(pub String);

pub fn parse_region(code: &str) -> Result<country::Id, UnknownRegion> {
    code.trim()
        .to_ascii_uppercase()
        .parse()
        .map_err(|_| UnknownRegion(code.to_owned()))
}

impl PhoneNumber {
    /// Accepts the international `+` form, or the national form of `default_region`.
    /// Refuses numbers that libphonenumber's data knows cannot take an SMS
    /// (landlines, toll-free, premium rate, …); where the data cannot tell mobile
    /// from fixed line (e.g. the USA) the number is accepted.
    pub fn parse(
        input: &str,
        default_region: Option<country::Id>,
    ) -> Result<Self, PhoneNumberError> {
        let trimmed = input.trim();
        if trimmed.is_empty() {
            return Err(PhoneNumberError::Empty);
        }
        if trimmed.chars().any(|c| c.is_alphabetic()) {
            return Err(PhoneNumberError::Invalid);
        }
        let digits = trimmed.chars().filter(char::is_ascii_digit).count();
        if digits < 5 {
            return Err(PhoneNumberError::TooShort);
        }
        let parsed = phonenumber::parse(default_region, trimmed).map_err(|error| match error {
            phonenumber::ParseError::TooShortNsn | phonenumber::ParseError::TooShortAfterIdd => {
                PhoneNumberError::TooShort
            }
            _ => PhoneNumberError::Invalid,
        })?;
        if !phonenumber::is_valid(&parsed) {
            return Err(PhoneNumberError::Invalid);
        }
        match parsed.number_type(&phonenumber::metadata::DATABASE) {
            Type::Mobile | Type::FixedLineOrMobile | Type::PersonalNumber => {}
            _ => return Err(PhoneNumberError::NotMobile),
        }
        Ok(Self(parsed.format().mode(Mode::E164).to_string()))
    }

    /// Restores a number stored in E.164 by this module.
    pub fn from_e164(stored: &str) -> Self {
        Self(stored.to_owned())
    }

    pub fn e164(&self) -> &str {
        &self.0
    }

    /// "+1 ••• ••• 4567": enough for the owner to recognise it, too little to misuse.
    pub fn masked(&self) -> String {
        let country_code = phonenumber::parse(None, &self.0)
            .map(|n| n.code().value().to_string())
            .unwrap_or_else(|_| self.0.chars().skip(1).take(1).collect());
        let last_four: String = self
            .0
            .chars()
            .rev()
            .take(4)
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .collect();
        format!("+{country_code} ••• ••• {last_four}")
    }
}

#[cfg(test)]
mod tests {
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
}
