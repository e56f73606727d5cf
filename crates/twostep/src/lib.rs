//! The twostep service as a library: configuration and start-up, used by the
//! `twostep` binary and by the integration tests (which start the real app).

pub mod app;
pub mod catalog;
pub mod cli;
pub mod config;
mod operator;
pub mod rotate;
pub mod server;
