//! The listener under the simulator: `TCP_NODELAY` on every connection (so a streamed token is not
//! held back by Nagle's algorithm and time to first token stays honest) and response header names
//! in title case on the wire.
//!
//! hyper writes header names in lower case, which HTTP allows. But Baidu's Python SDK copies the
//! headers of a non-stream answer into a plain, case-sensitive `dict` and then looks for
//! `X-Ratelimit-Limit-Requests` (qianfan 0.4.12.3, `requestor/base.py` `_parse_response` and
//! `_request`), so with lower-case names it never sees the server's limit. The real service
//! sends `X-Ratelimit-…`; so does this one.

use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};

/// A TCP listener whose connections set `TCP_NODELAY` and title-case response header names.
pub(crate) struct SimListener(pub TcpListener);

impl axum::serve::Listener for SimListener {
    type Io = TitleCase<TcpStream>;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        let (io, addr) = axum::serve::Listener::accept(&mut self.0).await;
        // Best effort: a socket that refuses it still works, just with Nagle's delays.
        let _ = io.set_nodelay(true);
        (TitleCase(io), addr)
    }

    fn local_addr(&self) -> io::Result<Self::Addr> {
        self.0.local_addr()
    }
}

/// Rewrites `x-ratelimit-limit-requests:` to `X-Ratelimit-Limit-Requests:` in every response head
/// that starts a write. hyper writes each head as the start of one buffer (this type does not
/// offer vectored writes, so hyper flattens); the rewrite keeps the length, so byte counts hold.
pub(crate) struct TitleCase<T>(T);

fn title_case_head(buf: &[u8]) -> Option<Vec<u8>> {
    if !buf.starts_with(b"HTTP/1.") {
        return None;
    }
    let end = buf
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap_or(buf.len());
    let mut out = buf.to_vec();
    let mut i = buf.iter().position(|&b| b == b'\n')? + 1;
    while i < end {
        let line_end = buf[i..end]
            .iter()
            .position(|&b| b == b'\n')
            .map_or(end, |p| i + p);
        let mut upper = true;
        for b in &mut out[i..line_end] {
            if *b == b':' {
                break;
            }
            *b = if upper {
                b.to_ascii_uppercase()
            } else {
                b.to_ascii_lowercase()
            };
            upper = *b == b'-';
        }
        i = line_end + 1;
    }
    Some(out)
}

impl<T: AsyncRead + Unpin> AsyncRead for TitleCase<T> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_read(cx, buf)
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for TitleCase<T> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match title_case_head(buf) {
            Some(fixed) => Pin::new(&mut self.0).poll_write(cx, &fixed),
            None => Pin::new(&mut self.0).poll_write(cx, buf),
        }
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn title_cases_names_only() {
        let head = b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\nx-ratelimit-limit-requests: 3000\r\n\r\n{\"a-b\":\"x-y: z\"}";
        let out = title_case_head(head).unwrap();
        let s = String::from_utf8(out).unwrap();
        assert_eq!(
            s,
            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nX-Ratelimit-Limit-Requests: 3000\r\n\r\n{\"a-b\":\"x-y: z\"}"
        );
        assert!(title_case_head(b"data: x\n\n").is_none());
    }
}
