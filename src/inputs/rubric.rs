//! Rubrics (SPEC §4).
