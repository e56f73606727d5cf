//! What a person typed into the phone number field, read before any numbering
//! plan is consulted: its digits, and whether it names its own country.
//!
//! A number that starts with `+`, with `00`, or with the default region's own
//! international prefix (`011` in the USA) is international whatever the default
//! region says; only the rest is completed with the default region.

use phonenumber::{country, metadata::DATABASE};

/// How a number was typed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Typed {
    /// Country code first: the digits after `+` or after an international prefix.
    International(String),
    /// The national form of a region, possibly with its national prefix (`0…`).
    National(String),
}

/// Why the input is not a number at all.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum NotANumber {
    /// Letters, or symbols that are not written between digit groups.
    Characters,
    /// A `+` anywhere but at the start.
    MisplacedPlus,
}

/// Spaces, dashes, dots, brackets and slashes: what people put between digit
/// groups (`(030) 1234-567`, `+44 (0)20 …`, `06.12.34.56.78`, `0151/2345678`).
fn is_separator(c: char) -> bool {
    c.is_whitespace()
        || matches!(
            c,
            '-' | '.' | '(' | ')' | '[' | ']' | '/' | '\u{2010}'..='\u{2015}' | '\u{2212}'
        )
}

/// The decimal digits of the scripts in which people in the regions of the data
/// write numbers: ASCII, Arabic-Indic (Egypt), Extended Arabic-Indic (Iran,
/// Pakistan), Devanagari, Bengali (Bangladesh) and full-width forms.
fn digit_value(c: char) -> Option<char> {
    const ZEROS: [char; 6] = [
        '0', '\u{0660}', '\u{06F0}', '\u{0966}', '\u{09E6}', '\u{FF10}',
    ];
    ZEROS.iter().find_map(|&zero| {
        let offset = (c as u32).checked_sub(zero as u32)?;
        (offset < 10).then(|| char::from_digit(offset, 10).expect("offset below ten"))
    })
}

/// The digits of `input` with a leading `+` if it had one.
fn read(input: &str) -> Result<(bool, String), NotANumber> {
    let mut plus = false;
    let mut digits = String::with_capacity(input.len());
    for c in input.chars() {
        if let Some(digit) = digit_value(c) {
            digits.push(digit);
        } else if c == '+' || c == '\u{FF0B}' {
            if plus || !digits.is_empty() {
                return Err(NotANumber::MisplacedPlus);
            }
            plus = true;
        } else if !is_separator(c) {
            return Err(NotANumber::Characters);
        }
    }
    Ok((plus, digits))
}

/// The length of the international prefix that `digits` start with, if any.
///
/// The default region's own prefix is tried first, because it may be longer than
/// `00` (`0011` in Australia); `00` is international everywhere people type it.
/// A prefix followed by `0` is not one: no country code starts with 0.
fn international_prefix(digits: &str, default_region: Option<country::Id>) -> Option<usize> {
    let own = default_region
        .and_then(|region| DATABASE.by_id(region.as_ref()))
        .and_then(|meta| meta.international_prefix())
        .and_then(|pattern| pattern.find(digits))
        .filter(|found| found.start() == 0)
        .map(|found| found.end());
    let end = own.or_else(|| digits.starts_with("00").then_some(2))?;
    (!digits[end..].starts_with('0')).then_some(end)
}

impl Typed {
    pub(super) fn read(
        input: &str,
        default_region: Option<country::Id>,
    ) -> Result<Self, NotANumber> {
        let (plus, digits) = read(input)?;
        Ok(if plus {
            Typed::International(digits)
        } else if let Some(end) = international_prefix(&digits, default_region) {
            Typed::International(digits[end..].to_owned())
        } else {
            Typed::National(digits)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn region(code: &str) -> Option<country::Id> {
        Some(code.parse().unwrap())
    }

    fn international(digits: &str) -> Typed {
        Typed::International(digits.to_owned())
    }

    /// Each typed text reads, with no default region, as the international
    /// number of those digits.
    fn assert_all_international(cases: &[(&str, &str)]) {
        for (typed, digits) in cases {
            assert_eq!(
                Typed::read(typed, None),
                Ok(international(digits)),
                "{typed}"
            );
        }
    }

    fn national(digits: &str) -> Typed {
        Typed::National(digits.to_owned())
    }

    /// What `typed` reads as with that default region; a refusal fails the test, naming the text.
    fn read(typed: &str, default: Option<country::Id>) -> Typed {
        Typed::read(typed, default).unwrap_or_else(|why| panic!("{typed}: {why:?}"))
    }

    #[test]
    fn a_plus_makes_a_number_international_whatever_the_default_region() {
        for default in [None, region("US"), region("GB"), region("DE")] {
            assert_eq!(
                read("+49 151 23456789", default),
                international("4915123456789")
            );
        }
    }

    #[test]
    fn double_zero_makes_a_number_international_whatever_the_default_region() {
        for default in [None, region("US"), region("GB"), region("JP")] {
            assert_eq!(
                read("0049 151 23456789", default),
                international("4915123456789")
            );
        }
    }

    #[test]
    fn the_default_regions_own_international_prefix_is_understood() {
        assert_eq!(
            read("011 49 151 23456789", region("US")),
            international("4915123456789")
        );
        // Australia's 0011 is longer than 00: 0011 44 … is the UK, not +11 44 ….
        assert_eq!(
            read("0011 44 7400 123456", region("AU")),
            international("447400123456")
        );
    }

    #[test]
    fn a_number_without_an_international_prefix_is_national() {
        assert_eq!(
            read("0151 2345 6789", region("DE")),
            national("015123456789")
        );
        assert_eq!(read("(650) 253-0000", region("US")), national("6502530000"));
        // 011 is the USA's prefix, not Germany's: in Germany it is an area code.
        assert_eq!(read("011 234567", region("DE")), national("011234567"));
    }

    #[test]
    fn separators_people_type_between_digit_groups_are_ignored() {
        let cases = [
            ("+33 6.12.34-56/78", "33612345678"),
            ("(+44) (0)7400 123456", "4407400123456"),
            ("+1\u{00A0}650\u{2013}253\u{2013}0000", "16502530000"),
        ];
        assert_all_international(&cases);
    }

    #[test]
    fn digits_of_other_scripts_are_read_as_digits() {
        let cases = [
            // +20 100 123 4567 in Arabic-Indic digits, as typed in Egypt.
            ("+٢٠ ١٠٠ ١٢٣ ٤٥٦٧", "201001234567"),
            ("＋８８ ０１８１２ ３４５６７８", "8801812345678"),
        ];
        assert_all_international(&cases);
    }

    #[test]
    fn letters_and_stray_symbols_are_not_a_number() {
        let cases = [
            ("+1 650 CALL NOW", NotANumber::Characters),
            ("*100#", NotANumber::Characters),
            ("49 +151 23456789", NotANumber::MisplacedPlus),
            ("++49 151 23456789", NotANumber::MisplacedPlus),
        ];
        for (typed, why) in cases {
            assert_eq!(Typed::read(typed, None), Err(why), "{typed}");
        }
    }
}
