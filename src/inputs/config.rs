//! `evalrun.toml` (SPEC §2).
