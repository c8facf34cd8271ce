//! Headless Chromium for tests of HTML pages: [`chromium`] finds the browser (or skips the test with a
//! message, unless `EVALRUN_REQUIRE_BROWSER` is set), [`dump_dom`] returns a page's DOM after its script ran.

use std::path::{Path, PathBuf};
use std::process::Command;

/// The browser to test with; `None` (the test skips) when there is none and none is required.
pub fn chromium() -> Option<PathBuf> {
    let candidates = [
        std::env::var_os("EVALRUN_CHROMIUM").map(PathBuf::from),
        Some(PathBuf::from("/usr/bin/chromium")),
        Some(PathBuf::from("/usr/bin/chromium-browser")),
    ];
    let found = candidates.into_iter().flatten().find(|p| p.is_file());
    if found.is_none() {
        assert!(
            std::env::var_os("EVALRUN_REQUIRE_BROWSER").is_none(),
            "EVALRUN_REQUIRE_BROWSER is set but no chromium was found (install Debian's `chromium`)"
        );
        eprintln!(
            "SKIPPED: chromium not found at /usr/bin/chromium (set EVALRUN_CHROMIUM, or install it; \
             EVALRUN_REQUIRE_BROWSER=1 makes this a failure)"
        );
    }
    found
}

/// Headless Chromium with the flags that work in a container; returns the DOM after scripts ran.
pub fn dump_dom(browser: &Path, profile: &Path, url: &str) -> String {
    let out = Command::new(browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--virtual-time-budget=10000",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg("--dump-dom")
        .arg(url)
        .output()
        .expect("chromium runs");
    assert!(
        out.status.success(),
        "chromium failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("DOM is UTF-8")
}
