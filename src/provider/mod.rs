//! Endpoint clients: one file per wire protocol, plus the SSE decoder.
