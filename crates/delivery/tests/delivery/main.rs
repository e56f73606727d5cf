//! The delivery crate's tests, in one binary. Those marked `#[ignore]` run real software (Debian's
//! Kannel, Python's aiosmtpd) and are run by `.ci/run` with `cargo test -p delivery -- --ignored`.

mod helpers;
mod kannel;
mod kannel_stub;
mod memory;
mod outbox;
mod settings;
mod smtp;
#[path = "../shared/stand_ins.rs"]
mod stand_ins;
