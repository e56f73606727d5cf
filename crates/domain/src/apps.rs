//! The company's client applications: which versions support two-step
//! verification, and so which may connect to an account that has it on.
//!
//! "If you use an older application that does not support two-step verification,
//! you might not be able to connect it to your account."

use std::cmp::Ordering;
use std::fmt;

/// A semantic version (MAJOR.MINOR.PATCH with an optional pre-release), compared
/// by semver precedence. Applications may report "2" or "2.1" for "2.0.0"/"2.1.0".
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Version {
    numbers: [u64; 3],
    pre_release: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not a version like 2.4.1")]
pub struct InvalidVersion(pub String);

impl Version {
    pub fn parse(text: &str) -> Result<Self, InvalidVersion> {
        let invalid = || InvalidVersion(text.to_owned());
        let trimmed = text.trim();
        let without_build = trimmed.split('+').next().unwrap_or_default();
        let (core, pre) = match without_build.split_once('-') {
            Some((core, pre)) => (core, Some(pre)),
            None => (without_build, None),
        };
        let parts: Vec<&str> = core.split('.').collect();
        if parts.is_empty() || parts.len() > 3 {
            return Err(invalid());
        }
        let mut numbers = [0u64; 3];
        for (slot, part) in numbers.iter_mut().zip(&parts) {
            if part.is_empty() || !part.bytes().all(|b| b.is_ascii_digit()) || part.len() > 18 {
                return Err(invalid());
            }
            *slot = part.parse().map_err(|_| invalid())?;
        }
        let pre_release = match pre {
            None => Vec::new(),
            Some(pre) => {
                let identifiers: Vec<String> = pre.split('.').map(str::to_owned).collect();
                if identifiers.iter().any(|i| {
                    i.is_empty() || !i.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
                }) {
                    return Err(invalid());
                }
                identifiers
            }
        };
        Ok(Self {
            numbers,
            pre_release,
        })
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let [major, minor, patch] = self.numbers;
        write!(f, "{major}.{minor}.{patch}")?;
        if !self.pre_release.is_empty() {
            write!(f, "-{}", self.pre_release.join("."))?;
        }
        Ok(())
    }
}

impl PartialOrd for Version {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// Semver §11: a pre-release sorts before its release; identifiers compare
/// numerically when both are numbers, numbers sort before words.
impl Ord for Version {
    fn cmp(&self, other: &Self) -> Ordering {
        self.numbers.cmp(&other.numbers).then_with(|| {
            match (self.pre_release.is_empty(), other.pre_release.is_empty()) {
                (true, true) => Ordering::Equal,
                (true, false) => Ordering::Greater,
                (false, true) => Ordering::Less,
                (false, false) => {
                    for (a, b) in self.pre_release.iter().zip(&other.pre_release) {
                        let order = match (a.parse::<u64>(), b.parse::<u64>()) {
                            (Ok(a), Ok(b)) => a.cmp(&b),
                            (Ok(_), Err(_)) => Ordering::Less,
                            (Err(_), Ok(_)) => Ordering::Greater,
                            (Err(_), Err(_)) => a.cmp(b),
                        };
                        if order != Ordering::Equal {
                            return order;
                        }
                    }
                    self.pre_release.len().cmp(&other.pre_release.len())
                }
            }
        })
    }
}

/// One application of the catalogue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct App {
    pub id: String,
    pub name: String,
    pub platforms: Vec<String>,
    pub latest_version: Version,
    pub download_url: String,
    /// The first version that supports two-step verification; `None`: no version does.
    pub two_step_since: Option<Version>,
    /// The first version that obeys Anti-Theft commands; `None`: no version does.
    pub anti_theft_since: Option<Version>,
}

impl App {
    pub fn supports_two_step(&self, version: &Version) -> bool {
        self.two_step_since
            .as_ref()
            .is_some_and(|since| version >= since)
    }

    pub fn latest_supports_two_step(&self) -> bool {
        self.supports_two_step(&self.latest_version)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("application catalogue entry {entry}: {reason}")]
pub struct CatalogError {
    pub entry: String,
    pub reason: String,
}

#[derive(Debug, Clone, Default)]
pub struct AppCatalog {
    apps: Vec<App>,
}

impl AppCatalog {
    pub fn new(apps: Vec<App>) -> Result<Self, CatalogError> {
        for (index, app) in apps.iter().enumerate() {
            let entry = if app.id.is_empty() {
                format!("#{}", index + 1)
            } else {
                format!("{:?}", app.id)
            };
            let fail = |reason: &str| {
                Err(CatalogError {
                    entry: entry.clone(),
                    reason: reason.to_owned(),
                })
            };
            if app.id.is_empty()
                || !app
                    .id
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
            {
                return fail("id must be letters, digits, '-' or '_'");
            }
            if app.name.trim().is_empty() {
                return fail("name is empty");
            }
            if apps[..index].iter().any(|other| other.id == app.id) {
                return fail("id is used twice");
            }
            if !(app.download_url.starts_with("https://")
                || app.download_url.starts_with("http://"))
            {
                return fail("download_url must be an http(s) URL");
            }
            if app
                .two_step_since
                .as_ref()
                .is_some_and(|since| since > &app.latest_version)
            {
                return fail("two_step_since is later than latest_version");
            }
            if app
                .anti_theft_since
                .as_ref()
                .is_some_and(|since| since > &app.latest_version)
            {
                return fail("anti_theft_since is later than latest_version");
            }
        }
        Ok(Self { apps })
    }

    pub fn apps(&self) -> &[App] {
        &self.apps
    }

    pub fn find(&self, id: &str) -> Option<&App> {
        self.apps.iter().find(|app| app.id == id)
    }
}

/// What happens when an application asks to connect to an account.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Connection {
    /// No two-step verification on the account: the password is enough.
    Connect,
    /// The application must also pass the second step.
    TwoStepRequired,
    /// The application cannot do the second step: refused, and the owner is told
    /// to update it from the Downloads section.
    UpdateRequired,
}

pub fn connection(two_step_on: bool, app: &App, version: &Version) -> Connection {
    match (two_step_on, app.supports_two_step(version)) {
        (false, _) => Connection::Connect,
        (true, true) => Connection::TwoStepRequired,
        (true, false) => Connection::UpdateRequired,
    }
}

/// At most one e-mail about a refused application per app and device a day.
pub const REFUSAL_NOTICE_INTERVAL_SECONDS: i64 = 24 * 60 * 60;

#[cfg(test)]
mod tests {
    use super::*;

    fn v(text: &str) -> Version {
        Version::parse(text).unwrap()
    }

    fn app(two_step_since: Option<&str>) -> App {
        App {
            id: "photon".into(),
            name: "Photon Desktop".into(),
            platforms: vec!["Windows".into()],
            latest_version: v("3.2.0"),
            download_url: "https://example.com/photon".into(),
            two_step_since: two_step_since.map(v),
            anti_theft_since: None,
        }
    }

    #[test]
    fn versions_compare_as_semantic_versions() {
        assert!(v("1.10.0") > v("1.9.9"));
        assert!(v("2.0.0") > v("2.0.0-rc.1"));
        assert!(v("2.0.0-rc.2") > v("2.0.0-rc.1"));
        assert!(v("2.0.0-rc.10") > v("2.0.0-rc.9"));
        assert!(v("1.0.0-alpha.beta") > v("1.0.0-alpha.1"));
        assert!(v("1.0.0-alpha.1") > v("1.0.0-alpha"));
        assert_eq!(v("2"), v("2.0.0"));
        assert_eq!(v("2.1+build.7"), v("2.1.0"));
        assert_eq!(v("2.1.0-rc.1").to_string(), "2.1.0-rc.1");
    }

    #[test]
    fn malformed_versions_are_rejected() {
        for bad in [
            "",
            "v2",
            "1..2",
            "1.2.3.4",
            "1.x",
            "1.2.3-",
            "1.2.3-a..b",
            "-1.0",
        ] {
            assert!(Version::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn an_app_supports_two_step_from_its_first_capable_version() {
        let app = app(Some("2.0.0"));
        assert!(!app.supports_two_step(&v("1.9.3")));
        assert!(!app.supports_two_step(&v("2.0.0-beta")));
        assert!(app.supports_two_step(&v("2.0.0")));
        assert!(app.supports_two_step(&v("3.1")));
        assert!(!self::app(None).supports_two_step(&v("99.0.0")));
    }

    #[test]
    fn older_applications_cannot_connect_to_an_account_with_two_step() {
        let app = app(Some("2.0.0"));
        assert_eq!(connection(false, &app, &v("1.0.0")), Connection::Connect);
        assert_eq!(
            connection(true, &app, &v("1.0.0")),
            Connection::UpdateRequired
        );
        assert_eq!(
            connection(true, &app, &v("2.0.0")),
            Connection::TwoStepRequired
        );
        assert_eq!(
            connection(true, &self::app(None), &v("3.2.0")),
            Connection::UpdateRequired
        );
    }

    #[test]
    fn a_malformed_catalogue_names_the_entry() {
        let mut bad = app(Some("4.0.0"));
        bad.id = "photon".into();
        let error = AppCatalog::new(vec![bad]).unwrap_err();
        assert_eq!(error.entry, "\"photon\"");
        assert!(error.reason.contains("two_step_since"));
        let twice = AppCatalog::new(vec![app(None), app(None)]).unwrap_err();
        assert!(twice.reason.contains("twice"));
        let mut no_url = app(None);
        no_url.download_url = "ftp://x".into();
        assert!(AppCatalog::new(vec![no_url]).is_err());
    }
}
