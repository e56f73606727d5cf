//! Integration tests: the real portal on port 0, driven over HTTP.

#[path = "../common/app.rs"]
mod app;
#[path = "../../../storage/tests/shared/database_url.rs"]
mod database_url;
#[path = "../common/examples.rs"]
mod examples;
mod helpers;
#[path = "../common/output.rs"]
mod output;
#[path = "../common/says.rs"]
mod says;

mod abuse_limits;
mod accounts;
mod anti_theft;
mod anti_theft_signed_out;
mod api_error_codes;
mod apps;
mod authenticator;
mod cli;
mod confirm_email;
mod connections;
mod errors;
mod every_country;
mod follow_the_account;
mod key_rotation;
mod limits;
mod load_shedding;
mod lockout;
mod metrics;
mod migrations;
mod openapi_constraints;
mod operator_cli;
mod password_reset;
mod phone_numbers;
mod postgres;
mod postgres_restart;
mod postgres_tls;
mod production;
mod recovery_codes;
mod remembered_devices;
mod resend;
mod retry_after;
mod sessions;
mod sms_guard;
mod smtp;
#[path = "../../../delivery/tests/shared/stand_ins.rs"]
mod stand_ins;
mod startup;
mod two_instances;
mod two_step_sms;
mod where_signed_in;
