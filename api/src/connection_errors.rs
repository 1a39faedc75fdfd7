//! The answers the HTTP layer gives by itself, before any handler can: hyper refuses a request
//! it cannot parse with a bare 400, a URI too long with 414, and headers too large with 431, all
//! with an empty body. [`JsonErrors`] wraps the listener's connections so that these come with the
//! contract's body (`{"errors":[{"message":"..."}]}`) like every other error.

use std::{
    io,
    pin::Pin,
    task::{Context, Poll},
};

use poem::{
    http::uri::Scheme,
    listener::Acceptor,
    web::{LocalAddr, RemoteAddr},
};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// An acceptor whose connections answer hyper's own errors in JSON.
pub struct JsonErrors<A>(pub A);

impl<A: Acceptor> Acceptor for JsonErrors<A> {
    type Io = Rewriting<A::Io>;

    fn local_addr(&self) -> Vec<LocalAddr> {
        self.0.local_addr()
    }

    async fn accept(&mut self) -> io::Result<(Self::Io, LocalAddr, RemoteAddr, Scheme)> {
        let (io, local, remote, scheme) = self.0.accept().await?;
        let io = Rewriting {
            io,
            pending: Vec::new(),
            written: 0,
        };
        Ok((io, local, remote, scheme))
    }
}

/// A connection that replaces hyper's bare error answers as they are written.
pub struct Rewriting<Io> {
    io: Io,
    /// The replacement answer, and how much of it went out.
    pending: Vec<u8>,
    written: usize,
}

/// The bare answers hyper writes itself, and what they say.
const BARE: [(&[u8], &str); 3] = [
    (
        b"HTTP/1.1 400 ",
        "Bad Request: the request could not be parsed",
    ),
    (b"HTTP/1.1 414 ", "URI Too Long"),
    (b"HTTP/1.1 431 ", "Request Header Fields Too Large"),
];

/// The JSON answer for a bare one of hyper's, or `None` for any other bytes.
fn replacement(head: &[u8]) -> Option<Vec<u8>> {
    let (_, message) = BARE.iter().find(|(start, _)| head.starts_with(start))?;
    let text = String::from_utf8_lossy(head).to_ascii_lowercase();
    // Ours always have a body and a content type; hyper's have neither.
    let bare = text.ends_with("\r\n\r\n")
        && text.contains("content-length: 0\r\n")
        && !text.contains("content-type:");
    if !bare {
        return None;
    }
    let body = serde_json::json!({ "errors": [{ "message": message }] }).to_string();
    let status_line = String::from_utf8_lossy(&head[..head.iter().position(|b| *b == b'\r')?]);
    Some(
        format!(
            "{status_line}\r\ncontent-type: application/json; charset=utf-8\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
            body.len()
        )
        .into_bytes(),
    )
}

impl<Io: AsyncWrite + Unpin> Rewriting<Io> {
    /// Writes out what is left of a replacement.
    fn drain(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        while self.written < self.pending.len() {
            let n = std::task::ready!(
                Pin::new(&mut self.io).poll_write(cx, &self.pending[self.written..])
            )?;
            if n == 0 {
                return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
            }
            self.written += n;
        }
        Poll::Ready(Ok(()))
    }
}

impl<Io: AsyncRead + Unpin> AsyncRead for Rewriting<Io> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_read(cx, buf)
    }
}

impl<Io: AsyncWrite + Unpin> AsyncWrite for Rewriting<Io> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        std::task::ready!(self.drain(cx))?;
        if let Some(answer) = replacement(buf) {
            self.pending = answer;
            self.written = 0;
            // hyper's bytes count as written: ours go out in their place.
            let _ = self.drain(cx)?;
            return Poll::Ready(Ok(buf.len()));
        }
        Pin::new(&mut self.io).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        std::task::ready!(self.drain(cx))?;
        Pin::new(&mut self.io).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        std::task::ready!(self.drain(cx))?;
        Pin::new(&mut self.io).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::replacement;

    #[test]
    fn only_hypers_bare_answers_are_replaced() {
        let bare = b"HTTP/1.1 431 Request Header Fields Too Large\r\ncontent-length: 0\r\ndate: Wed, 02 Dec 2026 07:00:00 GMT\r\n\r\n";
        let answer = String::from_utf8(replacement(bare).unwrap()).unwrap();
        assert!(answer.starts_with("HTTP/1.1 431 Request Header Fields Too Large\r\n"));
        assert!(answer.ends_with(r#"{"errors":[{"message":"Request Header Fields Too Large"}]}"#));
        let ours = b"HTTP/1.1 400 Bad Request\r\ncontent-type: application/json\r\ncontent-length: 2\r\n\r\n{}";
        assert_eq!(replacement(ours), None);
        assert_eq!(
            replacement(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n"),
            None
        );
    }
}
