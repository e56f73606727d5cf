//! target/screenshots/<test>/<NN>-<step>.png: one picture of every page visited,
//! numbered in the order the person saw them. Each run starts the folder afresh.

use std::path::PathBuf;

pub struct Screenshots {
    dir: PathBuf,
    taken: usize,
}

impl Screenshots {
    pub fn for_test(test: &str) -> Self {
        let dir = target_dir().join("screenshots").join(test);
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("screenshot folder");
        Screenshots { dir, taken: 0 }
    }

    pub fn save(&mut self, step: &str, png: &[u8]) {
        self.taken += 1;
        let path = self
            .dir
            .join(format!("{:02}-{}.png", self.taken, slug(step)));
        std::fs::write(&path, png).expect("write screenshot");
    }

    /// A file beside the screenshots (logs, the decoded QR code).
    pub fn file(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }
}

/// CARGO_TARGET_DIR when set (relative to the workspace), else the workspace's target/.
fn target_dir() -> PathBuf {
    let workspace = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    match std::env::var_os("CARGO_TARGET_DIR") {
        Some(dir) => workspace.join(dir),
        None => workspace.join("target"),
    }
}

fn slug(step: &str) -> String {
    let mut slug = String::new();
    for c in step.chars() {
        if c.is_ascii_alphanumeric() {
            slug.push(c.to_ascii_lowercase());
        } else if !slug.ends_with('-') {
            slug.push('-');
        }
    }
    slug.trim_matches('-').to_owned()
}
