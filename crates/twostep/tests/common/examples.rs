//! The example programs in crates/twostep/examples, which `cargo test` builds
//! next to the test binaries: the tests run them as a client would.

// Each test binary includes this file and uses a part of it.
#![allow(dead_code)]

use std::path::PathBuf;

use crate::output::stdout_of;

/// target/<profile>/examples/<name>, beside target/<profile>/deps/<this test>.
pub fn example_binary(name: &str) -> PathBuf {
    let deps = std::env::current_exe()
        .expect("the test binary's path")
        .parent()
        .expect("its folder")
        .to_owned();
    deps.parent()
        .expect("the profile folder")
        .join("examples")
        .join(name)
}

/// Runs the example `name` with `args` to its end; what it printed.
pub async fn run_example(name: &str, args: &[&str]) -> String {
    let output = tokio::process::Command::new(example_binary(name))
        .args(args)
        .output()
        .await
        .unwrap_or_else(|error| {
            panic!("the example {name} runs (`cargo test` or `cargo build --examples` builds it): {error}")
        });
    stdout_of(format!("the example {name}"), output)
}

/// Connects the example Anti-Theft device (`anti_theft_device`) to the portal
/// at `base` as `email` under the name `device`, polling nothing yet; `more`
/// adds options (`--code-command` for the second step). The token it printed.
pub async fn connect_example_device(
    base: &str,
    email: &str,
    password: &str,
    device: &str,
    more: &[&str],
) -> String {
    let mut args = vec![
        base,
        "--email",
        email,
        "--password",
        password,
        "--device",
        device,
        "--polls",
        "0",
    ];
    args.extend_from_slice(more);
    let connected = run_example("anti_theft_device", &args).await;
    connected
        .trim()
        .strip_prefix("connected ")
        .unwrap_or_else(|| panic!("the device connects: {connected}"))
        .to_owned()
}
