//! How a client application connects to a twostep account.
//!
//! ```text
//! cargo run -p twostep --example connect_app -- http://127.0.0.1:8080 EMAIL PASSWORD APP_ID VERSION [CODE_COMMAND]
//! ```
//!
//! It posts the e-mail and password; an account without two-step verification is
//! connected at once. With two-step verification on, a new enough application
//! gets a challenge and passes the second step: with the authenticator app when
//! that is the default (the code comes from CODE_COMMAND, e.g. `oathtool --totp -b KEY`),
//! else by SMS (CODE_COMMAND is then run after the SMS is sent, to read it). An
//! application too old for two-step verification is refused with
//! `two_step_unsupported`, and the account's owner receives an e-mail.
//! It prints one line: `connected <token>` or `refused <error> <downloads_url>`.

use std::process::{Command, ExitCode};

use serde_json::{Value, json};

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [base, email, password, app_id, version, rest @ ..] = args.as_slice() else {
        eprintln!("usage: connect_app BASE_URL EMAIL PASSWORD APP_ID VERSION [CODE_COMMAND]");
        return ExitCode::from(2);
    };
    let app = Application {
        app_id,
        version,
        device: "example device",
        platform: None,
    };
    match run(
        base,
        email,
        password,
        &app,
        rest.first().map(String::as_str),
    )
    .await
    {
        Ok(line) => {
            println!("{line}");
            ExitCode::SUCCESS
        }
        Err(message) => {
            eprintln!("connect_app: {message}");
            ExitCode::FAILURE
        }
    }
}

/// Who connects: the catalogue's id, the version, the device's name and,
/// for an Anti-Theft device, its platform.
pub struct Application<'a> {
    pub app_id: &'a str,
    pub version: &'a str,
    pub device: &'a str,
    pub platform: Option<&'a str>,
}

pub async fn run(
    base: &str,
    email: &str,
    password: &str,
    app: &Application<'_>,
    code_command: Option<&str>,
) -> Result<String, String> {
    let client = reqwest::Client::new();
    let post = |path: &str, body: Value| {
        let request = client.post(format!("{base}/api/v1{path}")).json(&body);
        async move {
            let response = request.send().await.map_err(|e| e.to_string())?;
            let status = response.status().as_u16();
            let body: Value = response.json().await.map_err(|e| e.to_string())?;
            Ok::<_, String>((status, body))
        }
    };
    let mut connect = json!({"email": email, "password": password, "app_id": app.app_id, "app_version": app.version, "device_name": app.device});
    if let Some(platform) = app.platform {
        connect["platform"] = platform.into();
    }
    let (status, body) = post("/apps/connect", connect).await?;
    if status == 403 {
        return Ok(format!(
            "refused {} {}",
            body["error"].as_str().unwrap_or(""),
            body["downloads_url"].as_str().unwrap_or("")
        ));
    }
    if status != 200 {
        return Err(format!("{status}: {body}"));
    }
    if body["status"] == "connected" {
        return Ok(format!(
            "connected {}",
            body["token"].as_str().unwrap_or("")
        ));
    }
    let challenge = body["challenge"].as_str().ok_or("no challenge")?.to_owned();
    let method = body["default_method"].as_str().unwrap_or("sms").to_owned();
    if method == "sms" {
        let (status, body) = post("/apps/connect/sms", json!({"challenge": challenge})).await?;
        if status != 200 {
            return Err(format!("sending the SMS failed: {status}: {body}"));
        }
    }
    let code = read_code(code_command)?;
    let (status, body) = post(
        "/apps/connect/verify",
        json!({"challenge": challenge, "method": method, "code": code}),
    )
    .await?;
    match (status, body["status"].as_str()) {
        (200, Some("connected")) => Ok(format!(
            "connected {}",
            body["token"].as_str().unwrap_or("")
        )),
        _ => Err(format!("the second step failed: {status}: {body}")),
    }
}

/// Runs CODE_COMMAND (through `sh -c`) and takes the first six-digit word it prints.
fn read_code(command: Option<&str>) -> Result<String, String> {
    let command = command.ok_or("a second step is needed: give CODE_COMMAND")?;
    let output = Command::new("sh")
        .arg("-c")
        .arg(command)
        .output()
        .map_err(|e| e.to_string())?;
    let text = String::from_utf8_lossy(&output.stdout);
    text.split(|c: char| !c.is_ascii_digit())
        .find(|w| w.len() == 6)
        .map(str::to_owned)
        .ok_or_else(|| format!("no code in the output of {command:?}"))
}
