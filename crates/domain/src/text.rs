//! Text that people read: names sent by applications end up in e-mails and on
//! pages, where invisible characters could make them read as something else.

/// Unicode's format characters (general category Cf, Unicode 15.1): bidi
/// overrides and isolates, zero-width spaces and joiners, the soft hyphen,
/// tags. Invisible, yet they reorder or hide what is around them. A table
/// rather than a dependency: the category changes rarely, and a test holds
/// the ranges in order.
const FORMAT_CHARACTERS: &[(u32, u32)] = &[
    (0x00AD, 0x00AD),
    (0x0600, 0x0605),
    (0x061C, 0x061C),
    (0x06DD, 0x06DD),
    (0x070F, 0x070F),
    (0x0890, 0x0891),
    (0x08E2, 0x08E2),
    (0x180E, 0x180E),
    (0x200B, 0x200F),
    (0x202A, 0x202E),
    (0x2060, 0x2064),
    (0x2066, 0x206F),
    (0xFEFF, 0xFEFF),
    (0xFFF9, 0xFFFB),
    (0x110BD, 0x110BD),
    (0x110CD, 0x110CD),
    (0x13430, 0x1343F),
    (0x1BCA0, 0x1BCA3),
    (0x1D173, 0x1D17A),
    (0xE0001, 0xE0001),
    (0xE0020, 0xE007F),
];

/// The ranges, first and last code point, for whoever states the rule
/// elsewhere (the OpenAPI document's patterns).
pub fn format_character_ranges() -> &'static [(u32, u32)] {
    FORMAT_CHARACTERS
}

/// What a name or message shown to someone else must not hold: a control
/// character, or a format character that could make it read as something else.
pub fn is_hidden(c: char) -> bool {
    c.is_control() || is_format_character(c)
}

pub fn is_format_character(c: char) -> bool {
    let c = u32::from(c);
    FORMAT_CHARACTERS
        .binary_search_by(|&(first, last)| {
            if last < c {
                std::cmp::Ordering::Less
            } else if first > c {
                std::cmp::Ordering::Greater
            } else {
                std::cmp::Ordering::Equal
            }
        })
        .is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_is_in_order_without_overlaps() {
        for pair in FORMAT_CHARACTERS.windows(2) {
            assert!(pair[0].0 <= pair[0].1 && pair[0].1 < pair[1].0, "{pair:?}");
        }
    }

    #[test]
    fn bidi_overrides_and_zero_width_characters_are_format_characters() {
        for c in [
            '\u{202E}', // right-to-left override
            '\u{202A}',
            '\u{2066}',
            '\u{2069}', // embeddings and isolates
            '\u{200B}',
            '\u{200D}',
            '\u{200E}', // zero-width space, joiner, LRM
            '\u{FEFF}',
            '\u{00AD}',
            '\u{061C}',
            '\u{E0041}',
        ] {
            assert!(is_format_character(c), "U+{:04X}", u32::from(c));
        }
    }

    #[test]
    fn letters_spaces_and_emoji_are_not() {
        for c in [
            'A', 'é', ' ', '’', 'д', '中', '😀', '\u{2065}', '\u{2070}', '\u{FFFC}',
        ] {
            assert!(!is_format_character(c), "U+{:04X}", u32::from(c));
        }
    }
}
