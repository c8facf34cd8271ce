//! Headless Chromium for the HTML tests: find the browser (skip with a message when it is missing,
//! unless `EVALRUN_REQUIRE_BROWSER` is set), dump a page's DOM after its scripts ran, and read
//! attributes out of the dump.

use std::path::{Path, PathBuf};
use std::process::Command;

/// The Chromium binary, or None (the test then skips) when it is not installed.
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

/// The value of attribute `name` on the first tag at `marker` in a DOM dump.
pub fn attr<'a>(dom: &'a str, marker: &str, name: &str) -> &'a str {
    let at = dom
        .find(marker)
        .unwrap_or_else(|| panic!("{marker} not in DOM"));
    let tag_end = at + dom[at..].find('>').unwrap();
    let tag = &dom[at..tag_end];
    let key = format!("{name}=\"");
    let start = tag
        .find(&key)
        .unwrap_or_else(|| panic!("{name} not on {marker}: {tag}"))
        + key.len();
    &tag[start..start + tag[start..].find('"').unwrap()]
}

/// Every value of attribute `name` in a DOM dump, in document order.
pub fn values_of<'a>(dom: &'a str, name: &str) -> Vec<&'a str> {
    let key = format!("{name}=\"");
    dom.match_indices(&key)
        .map(|(i, _)| {
            let s = &dom[i + key.len()..];
            &s[..s.find('"').unwrap()]
        })
        .collect()
}
