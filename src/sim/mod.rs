//! The endpoint simulator: a loopback HTTP server speaking the Qianfan and OpenAI wire protocols.
//! It imports nothing from the rest of evalrun, so a client test against it proves the protocol.
