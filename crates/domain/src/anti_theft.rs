//! Anti-Theft: finding, locking, sounding and wiping a lost device from the
//! portal. The help page's reason for a second authenticator device is exactly
//! this: "This will allow you to sign in to your account and use the Anti-Theft
//! features if your mobile phone is lost or stolen."
//!
//! A device is a connected application whose catalogue entry says from which
//! version it obeys commands (`anti_theft_since`), on a platform the catalogue
//! lists. A command waits for the device for a day; one not fetched by then has
//! expired, and another of its kind may be sent.

use std::fmt;

use crate::UnixTime;
use crate::account::Notification;
use crate::apps::{App, Version};

/// A command the device has not fetched within a day is shown as expired and
/// no longer handed to it: a device found a week later must not wipe itself.
pub const COMMAND_EXPIRY_SECONDS: i64 = 24 * 60 * 60;

/// The lock screen shows a line or two, not a letter.
pub const LOCK_MESSAGE_MAX_CHARS: usize = 200;

/// A device's reason for a failure, as long as a lock message.
pub const REASON_MAX_CHARS: usize = 200;

/// Whether a connected application of `version` on `platform` obeys Anti-Theft
/// commands: its version is `anti_theft_since` or later, and its platform is
/// one the catalogue lists for it (compared without regard to case).
pub fn is_device(app: &App, version: &Version, platform: Option<&str>) -> bool {
    let supported = app
        .anti_theft_since
        .as_ref()
        .is_some_and(|since| version >= since);
    let listed = platform.is_some_and(|platform| {
        app.platforms
            .iter()
            .any(|listed| listed.eq_ignore_ascii_case(platform.trim()))
    });
    supported && listed
}

/// What a request with an application's token wants to reach.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenUse {
    /// The account: who it is, its methods, anything but Anti-Theft.
    Account,
    /// The device's own Anti-Theft commands: fetching and answering them.
    DeviceCommands,
}

/// Whether a connection's token reaches `wanted`. A password change or reset
/// signs every application out of the account, so a thief's application loses
/// it; but a device keeps answering its commands, since changing the password
/// is what the owner of a stolen phone is told to do, and the phone must stay
/// findable after it. A signed-out application that is no device reaches
/// nothing.
pub fn token_reaches(wanted: TokenUse, signed_out: bool, is_device: bool) -> bool {
    match wanted {
        TokenUse::Account => !signed_out,
        TokenUse::DeviceCommands => !signed_out || is_device,
    }
}

/// What the owner asks the device to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CommandKind {
    Locate,
    Lock,
    Alarm,
    Wipe,
}

impl CommandKind {
    pub const ALL: [Self; 4] = [Self::Locate, Self::Lock, Self::Alarm, Self::Wipe];

    /// The name stored and sent to the device.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Locate => "locate",
            Self::Lock => "lock",
            Self::Alarm => "alarm",
            Self::Wipe => "wipe",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|kind| kind.as_str() == text)
    }

    /// The name on the page's buttons.
    pub fn label(self) -> &'static str {
        match self {
            Self::Locate => "Locate",
            Self::Lock => "Lock",
            Self::Alarm => "Alarm",
            Self::Wipe => "Wipe",
        }
    }

    /// Lock and Wipe change what the device holds, so they are security changes
    /// and ask for the password; finding or ringing it needs a session only.
    pub fn asks_for_password(self) -> bool {
        matches!(self, Self::Lock | Self::Wipe)
    }

    /// Only a Locate answers with a position.
    pub fn answers_with_location(self) -> bool {
        self == Self::Locate
    }
}

/// Where a command stands, as stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CommandState {
    Waiting,
    Received,
    Done,
    Failed,
    /// Not fetched within [`COMMAND_EXPIRY_SECONDS`]; stored once another
    /// command of its kind replaces it, otherwise worked out by [`Self::at`].
    Expired,
}

impl CommandState {
    const ALL: [Self; 5] = [
        Self::Waiting,
        Self::Received,
        Self::Done,
        Self::Failed,
        Self::Expired,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Waiting => "waiting",
            Self::Received => "received",
            Self::Done => "done",
            Self::Failed => "failed",
            Self::Expired => "expired",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|state| state.as_str() == text)
    }

    /// The words on the page.
    pub fn label(self) -> &'static str {
        match self {
            Self::Waiting => "Waiting for the device",
            Self::Received => "Received",
            Self::Done => "Done",
            Self::Failed => "Failed",
            Self::Expired => "Expired",
        }
    }

    /// The state at `now` of a command issued at `issued_at`: a waiting one
    /// expires a day after it was issued.
    pub fn at(self, issued_at: UnixTime, now: UnixTime) -> Self {
        if self == Self::Waiting && !is_deliverable(issued_at, now) {
            Self::Expired
        } else {
            self
        }
    }
}

/// Whether a waiting command issued at `issued_at` may still go to its device.
pub fn is_deliverable(issued_at: UnixTime, now: UnixTime) -> bool {
    now < issued_at + COMMAND_EXPIRY_SECONDS
}

/// Waiting commands issued at or before this time have expired.
pub fn expired_if_issued_by(now: UnixTime) -> UnixTime {
    now - COMMAND_EXPIRY_SECONDS
}

/// How the device answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Done,
    Failed,
}

impl Outcome {
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "done" => Some(Self::Done),
            "failed" => Some(Self::Failed),
            _ => None,
        }
    }

    pub fn state(self) -> CommandState {
        match self {
            Self::Done => CommandState::Done,
            Self::Failed => CommandState::Failed,
        }
    }
}

/// A position a device reported, kept in millionths of a degree (about 11 cm)
/// and whole metres, so that it is stored exactly and compared as integers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Location {
    latitude_micro: i64,
    longitude_micro: i64,
    accuracy_m: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum LocationError {
    #[error("latitude must be a number from -90 to 90")]
    Latitude,
    #[error("longitude must be a number from -180 to 180")]
    Longitude,
    #[error("accuracy_m must be a number of metres from 0 to 20000000")]
    Accuracy,
}

impl Location {
    pub fn new(latitude: f64, longitude: f64, accuracy_m: f64) -> Result<Self, LocationError> {
        if !(latitude.is_finite() && (-90.0..=90.0).contains(&latitude)) {
            return Err(LocationError::Latitude);
        }
        if !(longitude.is_finite() && (-180.0..=180.0).contains(&longitude)) {
            return Err(LocationError::Longitude);
        }
        // Half the Earth's circumference: no position is less precise than that.
        if !(accuracy_m.is_finite() && (0.0..=20_000_000.0).contains(&accuracy_m)) {
            return Err(LocationError::Accuracy);
        }
        Ok(Self {
            latitude_micro: (latitude * 1e6).round() as i64,
            longitude_micro: (longitude * 1e6).round() as i64,
            accuracy_m: accuracy_m.ceil() as i64,
        })
    }

    /// As stored: micro-degrees and metres.
    pub fn from_stored(latitude_micro: i64, longitude_micro: i64, accuracy_m: i64) -> Self {
        Self {
            latitude_micro,
            longitude_micro,
            accuracy_m,
        }
    }

    pub fn latitude_micro(self) -> i64 {
        self.latitude_micro
    }

    pub fn longitude_micro(self) -> i64 {
        self.longitude_micro
    }

    pub fn accuracy_m(self) -> i64 {
        self.accuracy_m
    }

    /// Six decimals, e.g. "52.520008".
    pub fn latitude(self) -> String {
        micro_degrees(self.latitude_micro)
    }

    pub fn longitude(self) -> String {
        micro_degrees(self.longitude_micro)
    }

    /// The position on openstreetmap.org: a link only, nothing is loaded from it.
    pub fn map_url(self) -> String {
        let (lat, lon) = (self.latitude(), self.longitude());
        format!("https://www.openstreetmap.org/?mlat={lat}&mlon={lon}#map=16/{lat}/{lon}")
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}, {} (within {} m)",
            self.latitude(),
            self.longitude(),
            self.accuracy_m
        )
    }
}

fn micro_degrees(micro: i64) -> String {
    let sign = if micro < 0 { "-" } else { "" };
    let whole = micro.unsigned_abs();
    format!("{sign}{}.{:06}", whole / 1_000_000, whole % 1_000_000)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TextError {
    #[error("Use at most {0} characters.")]
    TooLong(usize),
    #[error("Use one line without control or invisible characters.")]
    ControlCharacters,
}

/// The optional message on the lock screen: trimmed, empty is none.
pub fn lock_message(text: &str) -> Result<Option<String>, TextError> {
    short_text(text, LOCK_MESSAGE_MAX_CHARS)
}

/// The device's optional reason for a failure: trimmed, empty is none.
pub fn failure_reason(text: &str) -> Result<Option<String>, TextError> {
    short_text(text, REASON_MAX_CHARS)
}

fn short_text(text: &str, max: usize) -> Result<Option<String>, TextError> {
    let text = text.trim();
    // Both are shown to the owner, and a reason comes from the device, which
    // may be in a thief's hands: nothing that could make it read otherwise.
    if text.chars().any(crate::text::is_hidden) {
        return Err(TextError::ControlCharacters);
    }
    if text.chars().count() > max {
        return Err(TextError::TooLong(max));
    }
    Ok((!text.is_empty()).then(|| text.to_owned()))
}

/// The words that confirm a wipe, naming the device.
pub fn wipe_confirmation(device: &str) -> String {
    format!("Wipe all data from {device}? This cannot be undone.")
}

/// Every command and every answer is a security event of the account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AntiTheftEvent {
    CommandSent {
        kind: CommandKind,
        device: String,
        message: Option<String>,
    },
    CommandAnswered {
        kind: CommandKind,
        device: String,
        outcome: Outcome,
        reason: Option<String>,
    },
    LocationFound {
        device: String,
        location: Location,
    },
}

impl AntiTheftEvent {
    pub fn kind(&self) -> &'static str {
        match self {
            Self::CommandSent { .. } => "anti_theft_command_sent",
            Self::CommandAnswered {
                outcome: Outcome::Done,
                ..
            } => "anti_theft_command_done",
            Self::CommandAnswered {
                outcome: Outcome::Failed,
                ..
            } => "anti_theft_command_failed",
            Self::LocationFound { .. } => "anti_theft_location_found",
        }
    }

    pub fn summary(&self) -> String {
        match self {
            Self::CommandSent { kind, device, .. } => {
                format!("Anti-Theft: {} sent to {device}", kind.label())
            }
            Self::CommandAnswered {
                kind,
                device,
                outcome: Outcome::Done,
                ..
            } => format!("Anti-Theft: {device} did {}", kind.label()),
            Self::CommandAnswered {
                kind,
                device,
                outcome: Outcome::Failed,
                reason,
            } => match reason {
                Some(reason) => {
                    format!("Anti-Theft: {} failed on {device}: {reason}", kind.label())
                }
                None => format!("Anti-Theft: {} failed on {device}", kind.label()),
            },
            Self::LocationFound { device, location } => {
                format!("Anti-Theft: {device} located at {location}")
            }
        }
    }

    /// Lock, Wipe and each location found are e-mailed; the rest the owner has
    /// just seen on the page.
    pub fn notification(&self, service: &str, when: &str) -> Option<Notification> {
        let unexpected =
            "If this wasn't you, reset your password at once and review your security settings.";
        match self {
            Self::CommandSent {
                kind: kind @ (CommandKind::Lock | CommandKind::Wipe),
                device,
                message,
            } => {
                let what = match kind {
                    CommandKind::Lock => "lock",
                    _ => "erase all data from",
                };
                let shown = match message {
                    Some(message) => format!("\n\nThe lock screen will show: {message}"),
                    None => String::new(),
                };
                Some(Notification {
                    subject: format!("Anti-Theft: {} sent to {device}", kind.label()),
                    text: format!(
                        "On {when} a command was sent from your {service} account to {what} {device}. It happens the next time the device connects.{shown}\n\n{unexpected}"
                    ),
                })
            }
            Self::LocationFound { device, location } => Some(Notification {
                subject: format!("Anti-Theft: {device} was located"),
                text: format!(
                    "On {when} {device} reported its position to your {service} account:\n\nLatitude {}, longitude {}, accurate to {} metres.\n\nShow on map: {}",
                    location.latitude(),
                    location.longitude(),
                    location.accuracy_m(),
                    location.map_url()
                ),
            }),
            Self::CommandSent { .. } | Self::CommandAnswered { .. } => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(text: &str) -> Version {
        Version::parse(text).unwrap()
    }

    fn mobile(anti_theft_since: Option<&str>) -> App {
        App {
            id: "photon-mobile".into(),
            name: "Photon Mobile".into(),
            platforms: vec!["Android".into(), "iOS".into()],
            latest_version: v("5.1.4"),
            download_url: "https://example.com/mobile".into(),
            two_step_since: Some(v("5.0.0")),
            anti_theft_since: anti_theft_since.map(v),
        }
    }

    #[test]
    fn a_device_is_a_new_enough_application_on_a_listed_platform() {
        let app = mobile(Some("5.1.0"));
        for (version, platform, device) in [
            ("5.1.0", Some("Android"), true),
            ("5.1.4", Some("ios"), true),
            ("6.0.0", Some(" iOS "), true),
            ("5.0.9", Some("Android"), false),
            ("5.1.0-rc.1", Some("Android"), false),
            ("5.1.0", Some("Windows"), false),
            ("5.1.0", Some(""), false),
            ("5.1.0", None, false),
        ] {
            assert_eq!(
                is_device(&app, &v(version), platform),
                device,
                "{version} {platform:?}"
            );
        }
        assert!(!is_device(&mobile(None), &v("99.0.0"), Some("Android")));
    }

    #[test]
    fn a_signed_out_device_answers_commands_and_reaches_nothing_else() {
        use TokenUse::{Account, DeviceCommands};
        for (wanted, signed_out, device, reaches) in [
            (Account, false, false, true),
            (Account, false, true, true),
            (Account, true, true, false),
            (Account, true, false, false),
            (DeviceCommands, false, true, true),
            (DeviceCommands, true, true, true),
            (DeviceCommands, true, false, false),
        ] {
            assert_eq!(
                token_reaches(wanted, signed_out, device),
                reaches,
                "{wanted:?} signed out {signed_out} device {device}"
            );
        }
    }

    #[test]
    fn a_waiting_command_expires_a_day_after_it_was_issued() {
        let issued = 1_000_000;
        let last = issued + COMMAND_EXPIRY_SECONDS - 1;
        assert_eq!(
            CommandState::Waiting.at(issued, last),
            CommandState::Waiting
        );
        assert!(is_deliverable(issued, last));
        let day = issued + COMMAND_EXPIRY_SECONDS;
        assert_eq!(CommandState::Waiting.at(issued, day), CommandState::Expired);
        assert!(!is_deliverable(issued, day));
        assert!(issued <= expired_if_issued_by(day));
        assert!(issued > expired_if_issued_by(last));
        for answered in [
            CommandState::Received,
            CommandState::Done,
            CommandState::Failed,
        ] {
            assert_eq!(answered.at(issued, day + 1_000), answered, "{answered:?}");
        }
    }

    #[test]
    fn names_read_back_as_what_they_name() {
        for kind in CommandKind::ALL {
            assert_eq!(CommandKind::parse(kind.as_str()), Some(kind));
        }
        for state in CommandState::ALL {
            assert_eq!(CommandState::parse(state.as_str()), Some(state));
        }
        assert_eq!(CommandKind::parse("Locate"), None);
        assert_eq!(Outcome::parse("done"), Some(Outcome::Done));
        assert_eq!(Outcome::parse("received"), None);
    }

    #[test]
    fn only_lock_and_wipe_ask_for_the_password() {
        let asking: Vec<_> = CommandKind::ALL
            .into_iter()
            .filter(|kind| kind.asks_for_password())
            .collect();
        assert_eq!(asking, [CommandKind::Lock, CommandKind::Wipe]);
    }

    #[test]
    fn a_location_is_kept_to_the_millionth_of_a_degree_and_links_to_the_map() {
        let location = Location::new(52.520_008_4, -13.404_954, 24.2).unwrap();
        assert_eq!(location.latitude(), "52.520008");
        assert_eq!(location.longitude(), "-13.404954");
        assert_eq!(location.accuracy_m(), 25);
        assert_eq!(
            location.map_url(),
            "https://www.openstreetmap.org/?mlat=52.520008&mlon=-13.404954#map=16/52.520008/-13.404954"
        );
        let small = Location::new(-0.5, 0.000_001, 0.0).unwrap();
        assert_eq!(small.latitude(), "-0.500000");
        assert_eq!(small.longitude(), "0.000001");
        let stored = Location::from_stored(
            location.latitude_micro(),
            location.longitude_micro(),
            location.accuracy_m(),
        );
        assert_eq!(stored, location);
    }

    #[test]
    fn a_position_off_the_earth_is_refused() {
        for (lat, lon, acc, error) in [
            (90.1, 0.0, 1.0, LocationError::Latitude),
            (f64::NAN, 0.0, 1.0, LocationError::Latitude),
            (0.0, -180.5, 1.0, LocationError::Longitude),
            (0.0, f64::INFINITY, 1.0, LocationError::Longitude),
            (0.0, 0.0, -1.0, LocationError::Accuracy),
            (0.0, 0.0, 3e7, LocationError::Accuracy),
        ] {
            assert_eq!(Location::new(lat, lon, acc), Err(error));
        }
        assert!(Location::new(-90.0, 180.0, 0.0).is_ok());
    }

    #[test]
    fn a_lock_message_is_optional_and_short() {
        assert_eq!(lock_message("   "), Ok(None));
        assert_eq!(
            lock_message(" Call +1 650 253 0000 "),
            Ok(Some("Call +1 650 253 0000".into()))
        );
        assert_eq!(
            lock_message(&"x".repeat(LOCK_MESSAGE_MAX_CHARS)).map(|m| m.map(|m| m.len())),
            Ok(Some(LOCK_MESSAGE_MAX_CHARS))
        );
        assert_eq!(
            lock_message(&"é".repeat(LOCK_MESSAGE_MAX_CHARS + 1)),
            Err(TextError::TooLong(LOCK_MESSAGE_MAX_CHARS))
        );
        assert_eq!(lock_message("a\nb"), Err(TextError::ControlCharacters));
        assert_eq!(failure_reason("no GPS"), Ok(Some("no GPS".into())));
    }

    #[test]
    fn a_message_or_reason_with_a_format_character_is_refused() {
        // U+202E turns what follows around: "Call 0000" could read as a number.
        for text in ["Call \u{202E}0000", "zero\u{200B}width", "tag\u{E0041}"] {
            assert_eq!(
                lock_message(text),
                Err(TextError::ControlCharacters),
                "{text:?}"
            );
            assert_eq!(
                failure_reason(text),
                Err(TextError::ControlCharacters),
                "{text:?}"
            );
        }
    }

    #[test]
    fn the_wipe_confirmation_names_the_device() {
        assert_eq!(
            wipe_confirmation("Anna's phone"),
            "Wipe all data from Anna's phone? This cannot be undone."
        );
    }

    #[test]
    fn lock_wipe_and_each_location_are_emailed_and_the_rest_are_not() {
        let device = || "Anna's phone".to_owned();
        let sent = |kind| AntiTheftEvent::CommandSent {
            kind,
            device: device(),
            message: Some("Call 555".into()),
        };
        let location = Location::new(1.5, 2.5, 10.0).unwrap();
        let found = AntiTheftEvent::LocationFound {
            device: device(),
            location,
        };
        let mail = |event: &AntiTheftEvent| event.notification("twostep", "today");
        let lock = mail(&sent(CommandKind::Lock)).unwrap();
        assert!(lock.subject.contains("Lock") && lock.text.contains("Call 555"));
        assert!(
            mail(&sent(CommandKind::Wipe))
                .unwrap()
                .text
                .contains("erase all data")
        );
        let located = mail(&found).unwrap();
        assert!(
            located.text.contains(&location.map_url()),
            "{}",
            located.text
        );
        assert!(mail(&sent(CommandKind::Locate)).is_none());
        assert!(mail(&sent(CommandKind::Alarm)).is_none());
        for outcome in [Outcome::Done, Outcome::Failed] {
            let answered = AntiTheftEvent::CommandAnswered {
                kind: CommandKind::Lock,
                device: device(),
                outcome,
                reason: None,
            };
            assert!(mail(&answered).is_none());
        }
        let kinds: std::collections::HashSet<_> = [
            sent(CommandKind::Lock).kind(),
            found.kind(),
            AntiTheftEvent::CommandAnswered {
                kind: CommandKind::Lock,
                device: device(),
                outcome: Outcome::Failed,
                reason: Some("no GPS".into()),
            }
            .kind(),
            AntiTheftEvent::CommandAnswered {
                kind: CommandKind::Lock,
                device: device(),
                outcome: Outcome::Done,
                reason: None,
            }
            .kind(),
        ]
        .into_iter()
        .collect();
        assert_eq!(kinds.len(), 4);
    }
}
