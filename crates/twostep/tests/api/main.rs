//! Integration tests: the real portal on port 0, driven over HTTP.

mod helpers;

mod accounts;
mod apps;
mod authenticator;
mod cli;
mod errors;
mod limits;
mod password_reset;
mod phone_numbers;
mod postgres;
mod sessions;
mod smtp;
mod two_step_sms;
