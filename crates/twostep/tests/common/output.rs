//! What a program a test stands on printed (psql, oathtool, zbarimg, the
//! example client), once it has succeeded: a failure names the program and how
//! it was called, and shows its stderr.

use std::fmt::Display;
use std::process::Output;

/// The standard output of a finished program, asserting it succeeded; `what`
/// names the program (and its arguments) in the failure.
pub fn stdout_of(what: impl Display, output: Output) -> String {
    assert!(
        output.status.success(),
        "{what}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).expect("the program prints UTF-8")
}
