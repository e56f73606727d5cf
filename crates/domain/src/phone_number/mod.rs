//! Phone numbers that can receive security codes: parsed with libphonenumber's
//! data, kept in E.164, shown masked.
//!
//! `typed` reads what the person typed (digits, and whether it names its own
//! country); the `phonenumber` crate finds the country code and strips national
//! prefixes; `line` decides from the data whether a text message reaches it.

mod line;
mod typed;

use phonenumber::{Type, country};
use typed::Typed;

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
    /// Accepts a number typed with its country code (after `+`, `00` or the
    /// default region's international prefix) whatever the default region, or the
    /// national form of `default_region`. Refuses numbers that libphonenumber's
    /// data knows cannot take an SMS (landlines, toll-free, premium rate, …);
    /// where the data cannot tell mobile from fixed line (e.g. the USA) the number
    /// is accepted.
    pub fn parse(
        input: &str,
        default_region: Option<country::Id>,
    ) -> Result<Self, PhoneNumberError> {
        let trimmed = input.trim();
        if trimmed.is_empty() {
            return Err(PhoneNumberError::Empty);
        }
        let typed = Typed::read(trimmed, default_region).map_err(|_| PhoneNumberError::Invalid)?;
        let parsed = split_country_code(&typed, default_region)?;
        let code = parsed.code().value();
        // The national significant number with its leading zeros (Benin's 01…).
        let national = parsed.national().to_string();
        if national.len() < line::shortest_number(code) {
            return Err(PhoneNumberError::TooShort);
        }
        let region = line::region_of(code, &national).ok_or(PhoneNumberError::Invalid)?;
        match line::kind_of(region, &national) {
            Type::Unknown => Err(PhoneNumberError::Invalid),
            kind if line::takes_sms(kind) => Ok(Self(format!("+{code}{national}"))),
            _ => Err(PhoneNumberError::NotMobile),
        }
    }

    /// Restores a number stored in E.164 by this module.
    pub fn from_e164(stored: &str) -> Self {
        Self(stored.to_owned())
    }

    pub fn e164(&self) -> &str {
        &self.0
    }

    /// The country calling code (44 for the UK), as the number was stored.
    pub fn calling_code(&self) -> u16 {
        self.split().map_or(0, |(code, _)| code)
    }

    /// The region whose numbering plan the number belongs to ("CA" for a
    /// Canadian number, though the USA shares its calling code).
    pub fn region(&self) -> Option<country::Id> {
        let (code, national) = self.split()?;
        line::region_of(code, &national)?.id().parse().ok()
    }

    /// The number without its last four digits: a block of 10,000 numbers,
    /// which a pumping run walks through.
    pub fn prefix(&self) -> &str {
        let cut = self.0.len().saturating_sub(4);
        self.0.get(..cut).unwrap_or_default()
    }

    /// Whether the data still says a text message reaches this number: a
    /// number stored before a rule changed is judged again before each SMS.
    pub fn takes_sms(&self) -> bool {
        Self::parse(&self.0, None).is_ok_and(|again| again == *self)
    }

    fn split(&self) -> Option<(u16, String)> {
        let parsed = phonenumber::parse(None, &self.0).ok()?;
        let code = parsed.code().value();
        let national = self.0.strip_prefix(&format!("+{code}"))?.to_owned();
        Some((code, national))
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

/// The country code and national significant number of what was typed, as the
/// `phonenumber` crate reads them (national prefixes and carrier codes removed).
fn split_country_code(
    typed: &Typed,
    default_region: Option<country::Id>,
) -> Result<phonenumber::PhoneNumber, PhoneNumberError> {
    match typed {
        // Parsed without a region: the crate would otherwise strip the default
        // region's national prefix from the other country's number (the USA's 1
        // from Germany's 151…).
        Typed::International(digits) => phonenumber::parse(None, format!("+{digits}")),
        Typed::National(digits) => {
            let region = default_region.ok_or(PhoneNumberError::Invalid)?;
            // Checked before the crate, which calls "123" no number at all.
            if digits.len() < line::shortest_number(line::country_code_of(region)) {
                return Err(PhoneNumberError::TooShort);
            }
            phonenumber::parse(Some(region), digits)
        }
    }
    .map_err(|error| match error {
        phonenumber::ParseError::TooShortNsn | phonenumber::ParseError::TooShortAfterIdd => {
            PhoneNumberError::TooShort
        }
        _ => PhoneNumberError::Invalid,
    })
}

#[cfg(test)]
mod tests;

#[cfg(test)]
mod every_region_tests;
