//! Integration tests: the real portal on port 0, driven over HTTP.

#[path = "../common/app.rs"]
mod app;
#[path = "../../../storage/tests/shared/database_url.rs"]
mod database_url;
mod helpers;
#[path = "../common/output.rs"]
mod output;
#[path = "../common/says.rs"]
mod says;

mod accounts;
mod api_error_codes;
mod apps;
mod authenticator;
mod cli;
mod confirm_email;
mod connections;
mod errors;
mod every_country;
mod follow_the_account;
mod limits;
mod load_shedding;
mod metrics;
mod migrations;
mod password_reset;
mod phone_numbers;
mod postgres;
mod postgres_restart;
mod postgres_tls;
mod production;
mod resend;
mod sessions;
mod smtp;
#[path = "../../../delivery/tests/shared/stand_ins.rs"]
mod stand_ins;
mod startup;
mod two_instances;
mod two_step_sms;
