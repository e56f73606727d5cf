//! The rules of two-step verification, as the help page states them.
//!
//! This crate is the product's core: it does no I/O and never reads the clock.
//! Every function that depends on time takes `now` (seconds since the Unix epoch),
//! so that every expiry, lockout and replay rule is testable without sleeping.
//! Storage, delivery and HTTP live in other crates and call into this one.

pub mod account;
pub mod anti_theft;
pub mod apps;
pub mod authenticator;
pub mod authenticator_apps;
pub mod budgets;
pub mod digests;
pub mod email;
pub mod email_confirmation;
pub mod ids;
pub mod lockout;
pub mod one_time_code;
pub mod password;
pub mod phone_number;
pub mod recovery_codes;
pub mod secrets;
pub mod security_question;
pub mod server_key;
pub mod session;
pub mod sms_guard;
pub mod text;
pub mod throttle;
pub mod two_step;
pub mod user_agent;

/// Seconds since the Unix epoch. Time is always an argument in the core.
pub type UnixTime = i64;

pub use email::{Email, EmailError};
pub use ids::AccountId;
pub use one_time_code::{CodeError, CodePurpose, IssuedCode, OtpCode};
pub use password::{Argon2Params, Password, PasswordError, PasswordHasher};
pub use phone_number::{PhoneNumber, PhoneNumberError};
pub use secrets::ServerKey;
pub use two_step::{Method, TwoStep, TwoStepError};
