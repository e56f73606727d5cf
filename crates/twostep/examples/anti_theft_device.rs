//! A small Anti-Theft device: it connects to an account (passing the second
//! step like any application), fetches the commands its owner sent from the
//! Anti-Theft page, obeys them by printing what it would do, and answers each.
//!
//! ```text
//! cargo run -p twostep --example anti_theft_device -- http://127.0.0.1:8080 \
//!     --email anna@example.com --password '…' --code-command 'oathtool --totp -b KEY' \
//!     --device "Anna's phone" --at 52.520008,13.404954,25
//! cargo run -p twostep --example anti_theft_device -- http://127.0.0.1:8080 --token TOKEN --at …
//! ```
//!
//! Options: `--app` (photon-mobile), `--version` (5.1.4), `--platform`
//! (Android), `--device` ("example phone"), `--at LAT,LON,ACCURACY_M` (the
//! position a Locate answers; without it a Locate fails: "no position"),
//! `--polls N` (1) and `--every-ms MS` (500) between them, `--fail REASON`
//! (answer every command as failed). Without `--token` it connects first and
//! prints `connected <token>`; then for each command one line of what it does
//! and `answered <id> <done|failed>`.

#[allow(dead_code)] // its `main` is the other example's
#[path = "connect_app.rs"]
mod connect_app;

use std::collections::HashMap;
use std::process::ExitCode;
use std::time::Duration;

use serde_json::{Value, json};

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    match run(std::env::args().skip(1).collect()).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("anti_theft_device: {message}");
            ExitCode::FAILURE
        }
    }
}

const USAGE: &str = "usage: anti_theft_device BASE_URL (--token TOKEN | --email E --password P [--code-command C]) [--app ID] [--version V] [--platform P] [--device NAME] [--at LAT,LON,ACC] [--polls N] [--every-ms MS] [--fail REASON]";

async fn run(args: Vec<String>) -> Result<(), String> {
    let (base, options) = args.split_first().ok_or(USAGE)?;
    let options = read_options(options)?;
    let option = |name: &str, default: &'static str| {
        options.get(name).map_or(default, String::as_str).to_owned()
    };
    let token = match options.get("token") {
        Some(token) => token.clone(),
        None => {
            let app = connect_app::Application {
                app_id: &option("app", "photon-mobile"),
                version: &option("version", "5.1.4"),
                device: &option("device", "example phone"),
                platform: Some(&option("platform", "Android")),
            };
            let line = connect_app::run(
                base,
                options.get("email").ok_or(USAGE)?,
                options.get("password").ok_or(USAGE)?,
                &app,
                options.get("code-command").map(String::as_str),
            )
            .await?;
            let token = line
                .strip_prefix("connected ")
                .ok_or_else(|| format!("could not connect: {line}"))?
                .to_owned();
            println!("connected {token}");
            token
        }
    };
    let device = Device {
        base: base.clone(),
        token,
        client: reqwest::Client::new(),
        position: options.get("at").map(|at| read_position(at)).transpose()?,
        failure: options.get("fail").cloned(),
    };
    let polls: u32 = option("polls", "1").parse().map_err(|_| USAGE)?;
    let every = Duration::from_millis(option("every-ms", "500").parse().map_err(|_| USAGE)?);
    for poll in 0..polls {
        if poll > 0 {
            tokio::time::sleep(every).await;
        }
        device.poll().await?;
    }
    Ok(())
}

fn read_options(args: &[String]) -> Result<HashMap<String, String>, String> {
    let mut options = HashMap::new();
    let mut args = args.iter();
    while let Some(name) = args.next() {
        let name = name.strip_prefix("--").ok_or(USAGE)?;
        let value = args.next().ok_or(USAGE)?;
        options.insert(name.to_owned(), value.clone());
    }
    Ok(options)
}

fn read_position(text: &str) -> Result<Value, String> {
    let numbers: Vec<f64> = text
        .split(',')
        .map(|n| n.trim().parse::<f64>())
        .collect::<Result<_, _>>()
        .map_err(|_| format!("--at {text:?}: give LAT,LON,ACCURACY_M"))?;
    let [latitude, longitude, accuracy_m] = numbers[..] else {
        return Err(format!("--at {text:?}: give LAT,LON,ACCURACY_M"));
    };
    Ok(json!({"latitude": latitude, "longitude": longitude, "accuracy_m": accuracy_m}))
}

struct Device {
    base: String,
    token: String,
    client: reqwest::Client,
    position: Option<Value>,
    failure: Option<String>,
}

impl Device {
    /// Fetches the waiting commands and obeys and answers each, oldest first.
    async fn poll(&self) -> Result<(), String> {
        let response = self
            .client
            .get(format!("{}/api/v1/devices/commands", self.base))
            .bearer_auth(&self.token)
            .send()
            .await
            .map_err(|e| e.to_string())?;
        let (status, body) = answer_of(response).await?;
        if status != 200 {
            return Err(format!("fetching commands: {status}: {body}"));
        }
        for command in body["commands"].as_array().into_iter().flatten() {
            self.obey(command).await?;
        }
        Ok(())
    }

    async fn obey(&self, command: &Value) -> Result<(), String> {
        let id = command["id"].as_i64().ok_or("a command without an id")?;
        let kind = command["kind"].as_str().unwrap_or_default();
        let result = match (self.failure.as_ref(), kind, self.position.as_ref()) {
            (Some(reason), _, _) => {
                println!("{kind}: cannot ({reason})");
                json!({"status": "failed", "reason": reason})
            }
            (None, "locate", Some(position)) => {
                println!(
                    "locate: at {},{} within {} m",
                    position["latitude"], position["longitude"], position["accuracy_m"]
                );
                json!({"status": "done", "location": position})
            }
            (None, "locate", None) => {
                println!("locate: no position");
                json!({"status": "failed", "reason": "no position"})
            }
            (None, "lock", _) => {
                let message = command["message"].as_str().unwrap_or("");
                println!("lock: locking the screen, showing {message:?}");
                json!({"status": "done"})
            }
            (None, "alarm", _) => {
                println!("alarm: ringing at full volume");
                json!({"status": "done"})
            }
            (None, "wipe", _) => {
                println!("wipe: erasing all data");
                json!({"status": "done"})
            }
            (None, other, _) => {
                println!("{other}: unknown command");
                json!({"status": "failed", "reason": format!("unknown command {other}")})
            }
        };
        let response = self
            .client
            .post(format!("{}/api/v1/devices/commands/{id}/result", self.base))
            .bearer_auth(&self.token)
            .json(&result)
            .send()
            .await
            .map_err(|e| e.to_string())?;
        let (status, body) = answer_of(response).await?;
        if status != 200 {
            return Err(format!("answering command {id}: {status}: {body}"));
        }
        println!("answered {id} {}", result["status"].as_str().unwrap_or(""));
        Ok(())
    }
}

async fn answer_of(response: reqwest::Response) -> Result<(u16, Value), String> {
    let status = response.status().as_u16();
    let body = response.json().await.map_err(|e| e.to_string())?;
    Ok((status, body))
}
