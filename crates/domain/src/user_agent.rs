//! The browser and system a session was started from, read from its User-Agent
//! for the owner's list of where they are signed in. Only the common families
//! are named; anything else is "Unknown". The header is the client's word, so
//! this is a hint for the owner, never a security decision.

use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Browser {
    Chrome,
    Firefox,
    Safari,
    Edge,
    Opera,
    Unknown,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum System {
    Windows,
    MacOs,
    Linux,
    Android,
    Ios,
    Unknown,
}

/// A User-Agent read once into the two names the Security tab shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UserAgent {
    pub browser: Browser,
    pub system: System,
}

/// What is kept of a User-Agent: enough for every browser's real header,
/// bounded so that a client cannot make a session's row arbitrarily large.
pub const MAX_STORED_USER_AGENT_CHARS: usize = 512;

/// The header as stored: control characters dropped, at most
/// [`MAX_STORED_USER_AGENT_CHARS`]; `None` when nothing is left.
pub fn stored_user_agent(header: &str) -> Option<String> {
    let kept: String = header
        .chars()
        // Shown on the sessions list and in the owner's alert e-mails: nothing
        // invisible that could make it read as something else.
        .filter(|&c| !crate::text::is_hidden(c))
        .take(MAX_STORED_USER_AGENT_CHARS)
        .collect();
    let kept = kept.trim();
    (!kept.is_empty()).then(|| kept.to_owned())
}

impl UserAgent {
    pub fn parse(header: &str) -> Self {
        Self {
            browser: browser(header),
            system: system(header),
        }
    }
}

/// Order matters: Edge and Opera also say "Chrome" and "Safari", Chrome says
/// "Safari", and Safari alone says "Version/" without any of the others.
fn browser(ua: &str) -> Browser {
    let has = |token: &str| ua.contains(token);
    if has("Edg/") || has("Edge/") || has("EdgA/") || has("EdgiOS/") {
        Browser::Edge
    } else if has("OPR/") || has("Opera") || has("OPiOS/") {
        Browser::Opera
    } else if has("Firefox/") || has("FxiOS/") {
        Browser::Firefox
    } else if has("Chrome/") || has("CriOS/") || has("Chromium/") {
        Browser::Chrome
    } else if has("Safari/") && has("Version/") {
        Browser::Safari
    } else {
        Browser::Unknown
    }
}

/// iPads and iPhones say "like Mac OS X", and Android says "Linux": the more
/// specific system is looked for first. Chrome OS says "X11" but is not Linux
/// to its owner, so it stays unknown.
fn system(ua: &str) -> System {
    let has = |token: &str| ua.contains(token);
    if has("Windows") {
        System::Windows
    } else if has("iPhone") || has("iPad") || has("iPod") {
        System::Ios
    } else if has("Android") {
        System::Android
    } else if has("Macintosh") || has("Mac OS X") {
        System::MacOs
    } else if has("CrOS") {
        System::Unknown
    } else if has("Linux") || has("X11") {
        System::Linux
    } else {
        System::Unknown
    }
}

impl fmt::Display for Browser {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Chrome => "Chrome",
            Self::Firefox => "Firefox",
            Self::Safari => "Safari",
            Self::Edge => "Edge",
            Self::Opera => "Opera",
            Self::Unknown => "Unknown",
        })
    }
}

impl fmt::Display for System {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Windows => "Windows",
            Self::MacOs => "macOS",
            Self::Linux => "Linux",
            Self::Android => "Android",
            Self::Ios => "iOS",
            Self::Unknown => "Unknown",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Real headers, one per browser and system the Security tab names.
    const CHROME_WINDOWS: &str = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36";
    const CHROME_ANDROID: &str = "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36";
    const CHROME_IOS: &str = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_7 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/131.0.6778.73 Mobile/15E148 Safari/604.1";
    const HEADLESS_CHROME_LINUX: &str = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/131.0.0.0 Safari/537.36";
    const FIREFOX_LINUX: &str =
        "Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0";
    const FIREFOX_MACOS: &str =
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 14.7; rv:133.0) Gecko/20100101 Firefox/133.0";
    const FIREFOX_IOS: &str = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_7 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) FxiOS/133.0 Mobile/15E148 Safari/605.1.15";
    const SAFARI_MACOS: &str = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15";
    const SAFARI_IPAD: &str = "Mozilla/5.0 (iPad; CPU OS 17_7 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.7 Mobile/15E148 Safari/604.1";
    const EDGE_WINDOWS: &str = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.2903.86";
    const EDGE_ANDROID: &str = "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36 EdgA/131.0.2903.87";
    const OPERA_MACOS: &str = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 OPR/115.0.0.0";
    const CHROME_OS: &str = "Mozilla/5.0 (X11; CrOS x86_64 14541.0.0) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36";

    fn read(ua: &str) -> (Browser, System) {
        let parsed = UserAgent::parse(ua);
        (parsed.browser, parsed.system)
    }

    #[test]
    fn each_browser_is_told_apart_from_those_whose_names_it_borrows() {
        for (ua, browser) in [
            (CHROME_WINDOWS, Browser::Chrome),
            (CHROME_IOS, Browser::Chrome),
            (HEADLESS_CHROME_LINUX, Browser::Chrome),
            (FIREFOX_LINUX, Browser::Firefox),
            (FIREFOX_IOS, Browser::Firefox),
            (SAFARI_MACOS, Browser::Safari),
            (SAFARI_IPAD, Browser::Safari),
            (EDGE_WINDOWS, Browser::Edge),
            (EDGE_ANDROID, Browser::Edge),
            (OPERA_MACOS, Browser::Opera),
        ] {
            assert_eq!(read(ua).0, browser, "{ua}");
        }
    }

    #[test]
    fn each_system_is_told_apart_from_those_whose_names_it_borrows() {
        for (ua, system) in [
            (CHROME_WINDOWS, System::Windows),
            (EDGE_WINDOWS, System::Windows),
            (CHROME_ANDROID, System::Android),
            (EDGE_ANDROID, System::Android),
            (CHROME_IOS, System::Ios),
            (SAFARI_IPAD, System::Ios),
            (FIREFOX_IOS, System::Ios),
            (SAFARI_MACOS, System::MacOs),
            (FIREFOX_MACOS, System::MacOs),
            (FIREFOX_LINUX, System::Linux),
            (HEADLESS_CHROME_LINUX, System::Linux),
            (CHROME_OS, System::Unknown),
        ] {
            assert_eq!(read(ua).1, system, "{ua}");
        }
    }

    #[test]
    fn anything_else_is_unknown() {
        for ua in [
            "",
            "curl/8.5.0",
            "reqwest/0.12",
            "Mozilla/5.0",
            "Safari/605",
        ] {
            assert_eq!(read(ua), (Browser::Unknown, System::Unknown), "{ua}");
        }
        assert_eq!(Browser::Unknown.to_string(), "Unknown");
        assert_eq!(System::Unknown.to_string(), "Unknown");
        assert_eq!(System::MacOs.to_string(), "macOS");
        assert_eq!(System::Ios.to_string(), "iOS");
    }

    #[test]
    fn a_stored_user_agent_is_bounded_and_free_of_control_characters() {
        let long = "a".repeat(MAX_STORED_USER_AGENT_CHARS + 100);
        assert_eq!(
            stored_user_agent(&long).unwrap().chars().count(),
            MAX_STORED_USER_AGENT_CHARS
        );
        assert_eq!(
            stored_user_agent("Firefox/1\r\n\u{0}x").as_deref(),
            Some("Firefox/1x")
        );
        assert_eq!(stored_user_agent(" \t\n"), None);
        assert_eq!(
            stored_user_agent(CHROME_WINDOWS).as_deref(),
            Some(CHROME_WINDOWS)
        );
    }
}
