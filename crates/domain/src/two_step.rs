//! Which verification methods an account has, and the rules between them:
//! SMS first; the authenticator app only on top of SMS; turning SMS off turns
//! the authenticator off too; the authenticator is the default method at sign-in.

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Method {
    Sms,
    Authenticator,
    /// One of the account's recovery codes, for when the phone is gone.
    RecoveryCode,
}

impl Method {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Sms => "sms",
            Self::Authenticator => "authenticator",
            Self::RecoveryCode => "recovery_code",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "sms" => Some(Self::Sms),
            "authenticator" => Some(Self::Authenticator),
            "recovery_code" => Some(Self::RecoveryCode),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TwoStepError {
    #[error("Set up two-step verification by SMS first.")]
    SmsNotSetUp,
    #[error("Two-step verification by SMS is already set up.")]
    SmsAlreadySetUp,
    #[error("The authenticator app is already set up.")]
    AuthenticatorAlreadySetUp,
    #[error("The authenticator app is not set up.")]
    AuthenticatorNotSetUp,
}

/// The verification methods that are on. Invariant: `authenticator` implies `sms`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TwoStep {
    sms: bool,
    authenticator: bool,
}

impl TwoStep {
    pub const OFF: TwoStep = TwoStep {
        sms: false,
        authenticator: false,
    };

    /// Builds the state from storage, repairing an impossible combination in the
    /// safe direction (an authenticator without SMS counts as off).
    pub fn from_stored(sms: bool, authenticator: bool) -> Self {
        Self {
            sms,
            authenticator: sms && authenticator,
        }
    }

    /// Two-step verification is on exactly when a phone number is confirmed.
    pub fn is_on(self) -> bool {
        self.sms
    }

    pub fn has_authenticator(self) -> bool {
        self.authenticator
    }

    /// "You will be prompted to enter the code from the authenticator app … by default."
    pub fn default_method(self) -> Option<Method> {
        if self.authenticator {
            Some(Method::Authenticator)
        } else if self.sms {
            Some(Method::Sms)
        } else {
            None
        }
    }

    /// The methods a person may choose between on the sign-in page, default
    /// first. A recovery code is not among them: it is offered apart, as the
    /// way in when neither can be used.
    pub fn methods(self) -> Vec<Method> {
        let mut methods = Vec::with_capacity(2);
        if self.authenticator {
            methods.push(Method::Authenticator);
        }
        if self.sms {
            methods.push(Method::Sms);
        }
        methods
    }

    pub fn offers(self, method: Method) -> bool {
        match method {
            Method::Sms => self.sms,
            Method::Authenticator => self.authenticator,
            // Whether any is left is the store's to answer, at the code's use.
            Method::RecoveryCode => self.sms,
        }
    }

    /// Setting up SMS is what turns two-step verification on; it is done once.
    pub fn with_sms_set_up(self) -> Result<Self, TwoStepError> {
        if self.sms {
            return Err(TwoStepError::SmsAlreadySetUp);
        }
        Ok(Self { sms: true, ..self })
    }

    /// "To change your phone number …": only a number that is set up can be
    /// changed, and a new number leaves every method as it was.
    pub fn with_phone_number_changed(self) -> Result<Self, TwoStepError> {
        if !self.sms {
            return Err(TwoStepError::SmsNotSetUp);
        }
        Ok(self)
    }

    /// "Authenticator apps cannot be used … as a standalone verification method.
    /// You must first set up two-step verification via your mobile phone number."
    pub fn with_authenticator_set_up(self) -> Result<Self, TwoStepError> {
        match (self.sms, self.authenticator) {
            (false, _) => Err(TwoStepError::SmsNotSetUp),
            (true, true) => Err(TwoStepError::AuthenticatorAlreadySetUp),
            (true, false) => Ok(Self {
                authenticator: true,
                ..self
            }),
        }
    }

    /// "If you turn off two-step verification via your mobile phone number,
    /// verification via an authenticator app is turned off automatically."
    pub fn turning_off_sms_turns_off_authenticator(self) -> Result<Self, TwoStepError> {
        if !self.sms {
            return Err(TwoStepError::SmsNotSetUp);
        }
        Ok(Self::OFF)
    }

    /// Turning the authenticator off keeps SMS: two-step verification stays on.
    pub fn without_authenticator(self) -> Result<Self, TwoStepError> {
        if !self.authenticator {
            return Err(TwoStepError::AuthenticatorNotSetUp);
        }
        Ok(Self {
            authenticator: false,
            ..self
        })
    }
}

#[cfg(test)]
mod tests {
    use super::TwoStepError::*;
    use super::*;

    const SMS_ONLY: TwoStep = TwoStep {
        sms: true,
        authenticator: false,
    };
    const BOTH: TwoStep = TwoStep {
        sms: true,
        authenticator: true,
    };

    #[test]
    fn two_step_is_on_once_sms_is_set_up() {
        assert!(!TwoStep::OFF.is_on());
        assert!(SMS_ONLY.is_on());
        assert!(BOTH.is_on());
    }

    /// A test for each change of the two-step state: its answers from off,
    /// from SMS only and from both, in that order.
    macro_rules! from_each_state {
        ($($test:ident: $change:ident => $answers:expr;)*) => {$(
            #[test]
            fn $test() {
                let answers: [Result<TwoStep, TwoStepError>; 3] = $answers;
                for (from, answer) in [TwoStep::OFF, SMS_ONLY, BOTH].into_iter().zip(answers) {
                    assert_eq!(TwoStep::$change(from), answer, "from {from:?}");
                }
            }
        )*};
    }

    from_each_state! {
        sms_is_set_up_only_once: with_sms_set_up => [Ok(SMS_ONLY), Err(SmsAlreadySetUp), Err(SmsAlreadySetUp)];
        the_authenticator_is_set_up_only_after_sms: with_authenticator_set_up => [Err(SmsNotSetUp), Ok(BOTH), Err(AuthenticatorAlreadySetUp)];
        turning_off_sms_turns_off_the_authenticator_too: turning_off_sms_turns_off_authenticator => [Err(SmsNotSetUp), Ok(TwoStep::OFF), Ok(TwoStep::OFF)];
        only_a_phone_number_that_is_set_up_can_be_changed: with_phone_number_changed => [Err(SmsNotSetUp), Ok(SMS_ONLY), Ok(BOTH)];
        turning_off_the_authenticator_keeps_sms: without_authenticator => [Err(AuthenticatorNotSetUp), Err(AuthenticatorNotSetUp), Ok(SMS_ONLY)];
    }

    #[test]
    fn the_authenticator_is_the_default_method_when_set_up() {
        assert_eq!(BOTH.default_method(), Some(Method::Authenticator));
        assert_eq!(SMS_ONLY.default_method(), Some(Method::Sms));
        assert_eq!(TwoStep::OFF.default_method(), None);
        assert_eq!(BOTH.methods(), vec![Method::Authenticator, Method::Sms]);
        assert_eq!(SMS_ONLY.methods(), vec![Method::Sms]);
    }

    #[test]
    fn a_stored_authenticator_without_sms_counts_as_off() {
        assert_eq!(TwoStep::from_stored(false, true), TwoStep::OFF);
        assert!(!TwoStep::from_stored(false, true).offers(Method::Authenticator));
    }

    #[test]
    fn a_recovery_code_is_offered_exactly_when_two_step_is_on() {
        for (sms, authenticator) in [(false, false), (true, false), (true, true), (false, true)] {
            let two_step = TwoStep::from_stored(sms, authenticator);
            assert_eq!(two_step.offers(Method::RecoveryCode), two_step.is_on());
            assert!(!two_step.methods().contains(&Method::RecoveryCode));
        }
        assert_eq!(
            Method::parse(Method::RecoveryCode.as_str()),
            Some(Method::RecoveryCode)
        );
    }

    #[test]
    fn methods_round_trip_through_their_names() {
        for method in [Method::Sms, Method::Authenticator] {
            assert_eq!(Method::parse(method.as_str()), Some(method));
        }
        assert_eq!(Method::parse("email"), None);
    }
}
