//! What can go wrong when sending, named by meaning.
//!
//! Every reason is written so that the caller can log it as is: no reason carries the text of a
//! message (it may hold a one-time code), a full phone number or a password.

/// Why a message could not be sent (or a sender could not be built).
#[derive(Debug, thiserror::Error)]
pub enum DeliveryError {
    /// The SMS gateway answered, and said no.
    #[error("the SMS gateway refused the message: {reason}")]
    GatewayRefused { reason: String },
    /// The SMS gateway could not be reached or did not answer in time.
    #[error("the SMS gateway could not be reached: {reason}")]
    GatewayUnreachable { reason: String },
    /// The SMTP server could not be reached, did not answer in time or refused the message.
    #[error("the e-mail could not be sent: {reason}")]
    Smtp { reason: String },
    /// An e-mail address (the recipient or `from`) is not one we can send to or from.
    #[error("invalid e-mail address: {reason}")]
    InvalidAddress { reason: String },
    /// The settings cannot work; found when the sender is built, so at start-up.
    #[error("invalid delivery settings: {reason}")]
    InvalidSettings { reason: String },
    /// Writing to the development outbox failed.
    #[error("could not write to the outbox: {0}")]
    Io(#[from] std::io::Error),
}
