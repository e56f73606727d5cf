//! Loading the application catalogue from TOML (`apps_catalog`), or the built-in
//! example when none is configured.

use std::path::Path;

use domain::apps::{App, AppCatalog, CatalogError, Version};
use serde::Deserialize;

const BUILT_IN: &str = include_str!("../apps.example.toml");

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CatalogFile {
    #[serde(default)]
    apps: Vec<AppEntry>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AppEntry {
    id: String,
    name: String,
    #[serde(default)]
    platforms: Vec<String>,
    latest_version: String,
    download_url: String,
    two_step_since: Option<String>,
    anti_theft_since: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum LoadCatalogError {
    #[error("cannot read the application catalogue {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("the application catalogue {path} is not valid: {message}")]
    Syntax { path: String, message: String },
    #[error("the application catalogue {path}: {source}")]
    Entry { path: String, source: CatalogError },
}

pub fn load(path: Option<&Path>) -> Result<AppCatalog, LoadCatalogError> {
    let (name, text) = match path {
        Some(path) => {
            let text = std::fs::read_to_string(path).map_err(|source| LoadCatalogError::Read {
                path: path.display().to_string(),
                source,
            })?;
            (path.display().to_string(), text)
        }
        None => ("(built-in example)".to_owned(), BUILT_IN.to_owned()),
    };
    parse(&name, &text)
}

fn parse(name: &str, text: &str) -> Result<AppCatalog, LoadCatalogError> {
    let file: CatalogFile = toml::from_str(text).map_err(|e| LoadCatalogError::Syntax {
        path: name.to_owned(),
        message: e.message().to_owned(),
    })?;
    let entry_error = |entry: &str, reason: String| LoadCatalogError::Entry {
        path: name.to_owned(),
        source: CatalogError {
            entry: format!("{entry:?}"),
            reason,
        },
    };
    let mut apps = Vec::with_capacity(file.apps.len());
    for entry in file.apps {
        let latest_version = Version::parse(&entry.latest_version)
            .map_err(|e| entry_error(&entry.id, format!("latest_version: {e}")))?;
        let optional_version = |name: &str, text: Option<&str>| {
            text.map(Version::parse)
                .transpose()
                .map_err(|e| entry_error(&entry.id, format!("{name}: {e}")))
        };
        let two_step_since = optional_version("two_step_since", entry.two_step_since.as_deref())?;
        let anti_theft_since =
            optional_version("anti_theft_since", entry.anti_theft_since.as_deref())?;
        apps.push(App {
            id: entry.id,
            name: entry.name,
            platforms: entry.platforms,
            latest_version,
            download_url: entry.download_url,
            two_step_since,
            anti_theft_since,
        });
    }
    AppCatalog::new(apps).map_err(|source| LoadCatalogError::Entry {
        path: name.to_owned(),
        source,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_built_in_catalogue_loads() {
        let catalog = load(None).unwrap();
        assert!(
            catalog
                .find("photon-desktop")
                .unwrap()
                .latest_supports_two_step()
        );
        assert!(
            !catalog
                .find("photon-sync-legacy")
                .unwrap()
                .latest_supports_two_step()
        );
    }

    #[test]
    fn the_built_in_catalogue_says_which_applications_obey_anti_theft_commands() {
        let catalog = load(None).unwrap();
        let since = |id: &str| catalog.find(id).unwrap().anti_theft_since.clone();
        assert_eq!(
            since("photon-mobile"),
            Some(Version::parse("5.1.0").unwrap())
        );
        assert_eq!(since("photon-desktop"), None);
    }

    #[test]
    fn anti_theft_since_is_read_and_checked_like_two_step_since() {
        let entry = |since: &str| {
            format!(
                "[[apps]]\nid = \"x\"\nname = \"X\"\nlatest_version = \"2.0.0\"\ndownload_url = \"https://e.com\"\nanti_theft_since = \"{since}\"\n"
            )
        };
        for (since, problem) in [("soon", "anti_theft_since"), ("2.1.0", "later than")] {
            let error = parse("test", &entry(since)).unwrap_err().to_string();
            assert!(error.contains(problem), "{error}");
        }
        assert!(parse("test", &entry("2.0.0")).is_ok());
    }

    #[test]
    fn a_malformed_version_names_the_entry() {
        let text = "[[apps]]\nid = \"x\"\nname = \"X\"\nlatest_version = \"one\"\ndownload_url = \"https://e.com\"\n";
        let error = parse("test", text).unwrap_err().to_string();
        assert!(
            error.contains("\"x\"") && error.contains("latest_version"),
            "{error}"
        );
    }

    #[test]
    fn an_unknown_key_is_an_error() {
        let text = "[[apps]]\nid = \"x\"\nname = \"X\"\nlatest_version = \"1.0.0\"\ndownload_url = \"https://e.com\"\ncolour = \"red\"\n";
        assert!(
            parse("test", text)
                .unwrap_err()
                .to_string()
                .contains("colour")
        );
    }
}
