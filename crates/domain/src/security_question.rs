//! The security question: a question and its answer, used in password reset,
//! permanently disabled once two-step verification is set up.

use crate::two_step::TwoStep;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SecurityQuestionError {
    #[error("Write a question of at least 5 characters.")]
    QuestionTooShort,
    #[error("Use at most 200 characters.")]
    QuestionTooLong,
    #[error("Enter the answer.")]
    AnswerEmpty,
    #[error("Use at most 200 characters.")]
    AnswerTooLong,
    #[error(
        "The security question is no longer available for this account, because two-step verification has been set up."
    )]
    PermanentlyDisabled,
    #[error("That answer isn't right.")]
    WrongAnswer,
    #[error("Too many wrong answers. Ask for a new link to reset your password.")]
    TooManyWrongAnswers,
}

/// A reset link allows this many wrong answers and is then spent: an answer is a
/// guessable secret, so guesses must stay few.
pub const MAX_WRONG_ANSWERS: i64 = 5;

pub fn wrong_answer(wrong_answers_so_far: i64) -> SecurityQuestionError {
    if wrong_answers_so_far >= MAX_WRONG_ANSWERS {
        SecurityQuestionError::TooManyWrongAnswers
    } else {
        SecurityQuestionError::WrongAnswer
    }
}

/// Whether a reset link may take one more answer. Reserve, then check: an answer
/// first counts itself as wrong (the store's `wrong_answers + 1 … WHERE
/// wrong_answers < MAX_WRONG_ANSWERS`), and the right one gives its place back.
pub fn may_answer(wrong_answers_so_far: i64) -> Result<(), SecurityQuestionError> {
    if wrong_answers_so_far >= MAX_WRONG_ANSWERS {
        Err(SecurityQuestionError::TooManyWrongAnswers)
    } else {
        Ok(())
    }
}

/// The security question's place in an account's life. Once `PermanentlyDisabled`,
/// nothing leads back: not even turning two-step verification off.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SecurityQuestionState {
    NotSet,
    Set { question: String },
    PermanentlyDisabled,
}

impl SecurityQuestionState {
    /// Builds the state from storage, applying the rule on every read: with
    /// two-step verification on, the question is disabled whatever the columns
    /// say, so that an impossible combination is repaired in the safe direction
    /// (a reset never asks a question that should be gone).
    pub fn from_stored(question: Option<String>, disabled: bool, two_step: TwoStep) -> Self {
        let stored = match (question, disabled) {
            (_, true) => Self::PermanentlyDisabled,
            (Some(question), false) => Self::Set { question },
            (None, false) => Self::NotSet,
        };
        if two_step.is_on() {
            stored.after_two_step_set_up()
        } else {
            stored
        }
    }

    pub fn may_be_changed(&self) -> Result<(), SecurityQuestionError> {
        match self {
            Self::PermanentlyDisabled => Err(SecurityQuestionError::PermanentlyDisabled),
            _ => Ok(()),
        }
    }

    /// "If you set up two-step verification, the security question feature will be
    /// permanently disabled."
    pub fn after_two_step_set_up(&self) -> Self {
        Self::PermanentlyDisabled
    }
}

/// The question as it will be shown: control characters (a NUL, a line feed)
/// have no place in one line of text, and PostgreSQL's text cannot hold a NUL.
pub fn parse_question(input: &str) -> Result<String, SecurityQuestionError> {
    let question: String = input.trim().chars().filter(|c| !c.is_control()).collect();
    let question = question.trim();
    match question.chars().count() {
        0..5 => Err(SecurityQuestionError::QuestionTooShort),
        5..=200 => Ok(question.to_owned()),
        _ => Err(SecurityQuestionError::QuestionTooLong),
    }
}

/// Answers are compared after trimming, folding inner spaces and case, so that
/// "  Paris " and "paris" are the same answer; the result is what gets hashed.
pub fn normalise_answer(input: &str) -> Result<String, SecurityQuestionError> {
    let folded = input
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase();
    match folded.chars().count() {
        0 => Err(SecurityQuestionError::AnswerEmpty),
        1..=200 => Ok(folded),
        _ => Err(SecurityQuestionError::AnswerTooLong),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_question_keeps_its_text_without_control_characters() {
        assert_eq!(
            parse_question(" Ünïcödé \u{202E}question\u{0}?\n").as_deref(),
            Ok("Ünïcödé \u{202E}question?")
        );
        assert_eq!(
            parse_question("\u{0}\u{0}\u{0}\u{0}\u{0}ab"),
            Err(SecurityQuestionError::QuestionTooShort)
        );
    }

    #[test]
    fn a_reset_link_takes_five_answers_at_most() {
        assert_eq!(may_answer(MAX_WRONG_ANSWERS - 1), Ok(()));
        assert_eq!(
            may_answer(MAX_WRONG_ANSWERS),
            Err(SecurityQuestionError::TooManyWrongAnswers)
        );
    }

    #[test]
    fn answers_are_trimmed_and_case_folded() {
        assert_eq!(normalise_answer("  New   York ").unwrap(), "new york");
        assert_eq!(normalise_answer("ÉCOLE").unwrap(), "école");
        assert_eq!(
            normalise_answer("   "),
            Err(SecurityQuestionError::AnswerEmpty)
        );
        assert_eq!(
            normalise_answer(&"a".repeat(201)),
            Err(SecurityQuestionError::AnswerTooLong)
        );
    }

    #[test]
    fn five_wrong_answers_spend_a_reset_link() {
        assert_eq!(wrong_answer(1), SecurityQuestionError::WrongAnswer);
        assert_eq!(wrong_answer(4), SecurityQuestionError::WrongAnswer);
        assert_eq!(wrong_answer(5), SecurityQuestionError::TooManyWrongAnswers);
    }

    #[test]
    fn questions_have_sensible_lengths() {
        assert_eq!(
            parse_question(" Who? "),
            Err(SecurityQuestionError::QuestionTooShort)
        );
        assert_eq!(
            parse_question("  Name of your first pet? ").unwrap(),
            "Name of your first pet?"
        );
        assert_eq!(
            parse_question(&"q".repeat(201)),
            Err(SecurityQuestionError::QuestionTooLong)
        );
    }

    #[test]
    fn setting_up_two_step_disables_the_security_question_for_good() {
        let set = SecurityQuestionState::Set {
            question: "Name of your first pet?".into(),
        };
        let disabled = set.after_two_step_set_up();
        assert_eq!(disabled, SecurityQuestionState::PermanentlyDisabled);
        assert_eq!(
            disabled.may_be_changed(),
            Err(SecurityQuestionError::PermanentlyDisabled)
        );
        assert_eq!(
            SecurityQuestionState::NotSet.after_two_step_set_up(),
            SecurityQuestionState::PermanentlyDisabled
        );
        assert!(SecurityQuestionState::NotSet.may_be_changed().is_ok());
    }

    #[test]
    fn a_stored_question_counts_as_disabled_once_two_step_is_on() {
        let sms = TwoStep::OFF.with_sms_set_up().unwrap();
        let pet = || Some("Name of your first pet?".to_owned());
        assert_eq!(
            SecurityQuestionState::from_stored(pet(), false, TwoStep::OFF),
            SecurityQuestionState::Set {
                question: "Name of your first pet?".into()
            }
        );
        assert_eq!(
            SecurityQuestionState::from_stored(None, false, TwoStep::OFF),
            SecurityQuestionState::NotSet
        );
        assert_eq!(
            SecurityQuestionState::from_stored(pet(), false, sms),
            SecurityQuestionState::PermanentlyDisabled
        );
        assert_eq!(
            SecurityQuestionState::from_stored(None, true, TwoStep::OFF),
            SecurityQuestionState::PermanentlyDisabled,
            "turning two-step off again does not bring the question back"
        );
    }
}
