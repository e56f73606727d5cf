//! What a message a test reads (an e-mail, an SMS, an API message) must say:
//! every phrase, each failure naming the phrase that is missing.

/// Asserts that `text` contains each of `phrases`; a failure names the
/// missing phrase and shows the whole text.
pub fn assert_says_all(text: &str, phrases: &[&str]) {
    for phrase in phrases {
        assert!(text.contains(phrase), "{phrase:?} missing from {text}");
    }
}
