//! One error for the whole benchmark: any failure ends the run with a message,
//! because a figure measured over failing requests would be meaningless.

use std::fmt;

pub struct BenchError(pub String);

pub type Result<T> = std::result::Result<T, BenchError>;

impl BenchError {
    pub fn new(message: impl Into<String>) -> Self {
        Self(message.into())
    }
}

impl fmt::Display for BenchError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for BenchError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

// Not an `std::error::Error` itself, so that every error type converts into it.
impl<E: std::error::Error> From<E> for BenchError {
    fn from(error: E) -> Self {
        let mut message = error.to_string();
        let mut source = error.source();
        while let Some(cause) = source {
            message.push_str(": ");
            message.push_str(&cause.to_string());
            source = cause.source();
        }
        Self(message)
    }
}
