//! The examples of authenticator apps the portal lists ("You can find the list
//! of app examples here"), with the platforms each runs on. The operator may
//! replace the list in the configuration; this one is the default.

/// One example app and where it runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthenticatorApp {
    pub name: String,
    pub platforms: Vec<String>,
}

impl AuthenticatorApp {
    pub fn new(name: &str, platforms: &[&str]) -> Self {
        Self {
            name: name.to_owned(),
            platforms: platforms.iter().map(|p| (*p).to_owned()).collect(),
        }
    }
}

/// The help page's reason for a second device, quoted where the list is shown.
pub const WHY_A_SECOND_DEVICE: &str = "We recommend that you set up an authenticator app also on a device other than your mobile phone. This will allow you to sign in to your account and use the Anti-Theft features if your mobile phone is lost or stolen.";

/// Well-known apps that speak RFC 6238, phones and computers both, so that a
/// second device is always among them.
pub fn default_authenticator_apps() -> Vec<AuthenticatorApp> {
    vec![
        AuthenticatorApp::new("Google Authenticator", &["Android", "iOS"]),
        AuthenticatorApp::new("Microsoft Authenticator", &["Android", "iOS"]),
        AuthenticatorApp::new("Aegis", &["Android"]),
        AuthenticatorApp::new("2FAS", &["Android", "iOS"]),
        AuthenticatorApp::new("FreeOTP", &["Android", "iOS"]),
        AuthenticatorApp::new("KeePassXC", &["Windows", "macOS", "Linux"]),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_list_offers_a_device_other_than_a_phone() {
        let apps = default_authenticator_apps();
        assert!(apps.len() >= 6);
        let computer = ["Windows", "macOS", "Linux"];
        assert!(
            apps.iter()
                .any(|app| app.platforms.iter().any(|p| computer.contains(&p.as_str())))
        );
        assert!(apps.iter().all(|app| !app.platforms.is_empty()));
    }
}
