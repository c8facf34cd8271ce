//! Command-line interface (SPEC §1).
