//! Real clients standing in for the phone: `oathtool` computes the codes an
//! authenticator app would show, `zbarimg` reads the QR code as a camera would.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::output::stdout_of;

const STEP_SECONDS: u64 = 30;

fn current_step() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("after 1970")
        .as_secs()
        / STEP_SECONDS
}

/// The code `oathtool --totp -b KEY` shows now, and the 30-second step it belongs to.
pub fn oathtool_code(secret_key: &str) -> (String, u64) {
    let key: String = secret_key.split_whitespace().collect();
    loop {
        let before = current_step();
        let output = Command::new("oathtool")
            .args(["--totp", "-b", &key])
            .output()
            .expect("oathtool runs (apt-get install oathtool)");
        let code = stdout_of("oathtool", output).trim().to_owned();
        if current_step() == before {
            return (code, before);
        }
    }
}

/// A code from a step later than `used`: the portal refuses a code from a step
/// it has already accepted (RFC 6238 §5.2), so wait for the next step if needed.
pub async fn fresh_code(secret_key: &str, used: u64) -> (String, u64) {
    while current_step() <= used {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .expect("after 1970");
        let next = (used + 1) * STEP_SECONDS;
        let wait = Duration::from_secs(next).saturating_sub(now) + Duration::from_millis(200);
        tokio::time::sleep(wait).await;
    }
    oathtool_code(secret_key)
}

/// What `zbarimg` reads from the QR image: an SVG straight, or once converted to
/// PNG with `rsvg-convert` when this zbarimg cannot read SVG. The PNG is kept.
pub fn decode_qr(image: &[u8], content_type: &str, folder: &Path) -> String {
    let extension = if content_type.contains("svg") {
        "svg"
    } else {
        "png"
    };
    let original = folder.join(format!("qr-code.{extension}"));
    std::fs::write(&original, image).expect("write the QR image");
    if let Some(text) = zbarimg(&original) {
        return text;
    }
    let png = folder.join("qr-code.png");
    let converted = Command::new("rsvg-convert")
        .args(["--width", "480", "--background-color", "white", "-o"])
        .arg(&png)
        .arg(&original)
        .status()
        .expect("rsvg-convert runs (apt-get install librsvg2-bin)");
    assert!(
        converted.success(),
        "rsvg-convert could not convert the QR image"
    );
    zbarimg(&png).expect("zbarimg decodes the QR code")
}

fn zbarimg(path: &Path) -> Option<String> {
    let output = Command::new("zbarimg")
        .args(["--raw", "--quiet"])
        .arg(path)
        .output()
        .expect("zbarimg runs (apt-get install zbar-tools)");
    let text = String::from_utf8_lossy(&output.stdout).trim().to_owned();
    (output.status.success() && !text.is_empty()).then_some(text)
}
