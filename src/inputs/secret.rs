//! Secrets whose Debug/Display redact.
