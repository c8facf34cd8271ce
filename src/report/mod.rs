//! Report formats, all rendered from one `Summary` (as hyperfine's `export/`).
