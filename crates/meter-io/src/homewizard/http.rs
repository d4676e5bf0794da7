//! A minimal HTTP/1.1 client of our own for devices on the home network: one `GET` per
//! connection (`Connection: close`), the status line, the headers, a body framed by
//! `Content-Length`, `Transfer-Encoding: chunked` or the end of the connection. Hard caps on the
//! head, the body and the time the whole exchange may take, so a device that answers slowly,
//! endlessly or with garbage can neither hang Hearth nor fill its memory. No HTTP crate: Hearth
//! never speaks to the internet, and the socket is opened only to an address the caller has
//! already passed through [`crate::network::allowed_addresses`].

use std::net::SocketAddr;
use std::time::Duration;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;
use tokio::time::{Instant, timeout, timeout_at};

/// The caps of one exchange.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Longest status line plus headers, in bytes.
    pub head: usize,
    /// Longest body, in bytes (after removing the chunked framing).
    pub body: usize,
    /// Longest wait for the TCP connection.
    pub connect: Duration,
    /// Longest time from sending the request to the last byte of the body.
    pub exchange: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            head: 8 * 1024,
            body: 64 * 1024,
            connect: Duration::from_secs(10),
            exchange: Duration::from_secs(5),
        }
    }
}

/// A response: status code and body (headers are read for the framing only).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    /// The status code, e.g. 200.
    pub status: u16,
    /// The body, de-chunked.
    pub body: Vec<u8>,
}

/// Why an exchange failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum HttpError {
    /// Nothing listens at the address (the device is off, or it is another device).
    #[error("nothing answers at {0}")]
    Refused(SocketAddr),
    /// The connection or the answer took too long.
    #[error("{0} did not answer in time")]
    Timeout(SocketAddr),
    /// Another network error.
    #[error("{addr}: {detail}")]
    Io {
        /// The device.
        addr: SocketAddr,
        /// The system's words.
        detail: String,
    },
    /// The status line and headers were longer than [`Limits::head`].
    #[error("{0} sent an answer whose headers are too long")]
    HeadTooLarge(SocketAddr),
    /// The body was longer than [`Limits::body`].
    #[error("{addr} sent more than {limit} bytes")]
    BodyTooLarge {
        /// The device.
        addr: SocketAddr,
        /// The cap.
        limit: usize,
    },
    /// Not an HTTP/1.x answer, or a broken one.
    #[error("{addr} does not answer like a web server ({detail})")]
    Malformed {
        /// The device.
        addr: SocketAddr,
        /// What was wrong.
        detail: &'static str,
    },
}

/// `GET path` from `addr` with `Host: host`.
pub async fn get(
    addr: SocketAddr,
    host: &str,
    path: &str,
    limits: &Limits,
) -> Result<Response, HttpError> {
    let io = |e: std::io::Error| match e.kind() {
        std::io::ErrorKind::ConnectionRefused => HttpError::Refused(addr),
        std::io::ErrorKind::TimedOut => HttpError::Timeout(addr),
        _ => HttpError::Io {
            addr,
            detail: e.to_string(),
        },
    };
    let mut stream = match timeout(limits.connect, TcpStream::connect(addr)).await {
        Ok(s) => s.map_err(io)?,
        Err(_) => return Err(HttpError::Timeout(addr)),
    };
    let _ = stream.set_nodelay(true);
    let deadline = Instant::now() + limits.exchange;
    let request = format!(
        "GET {path} HTTP/1.1\r\nHost: {host}\r\nAccept: */*\r\nUser-Agent: hearth\r\n\
         Connection: close\r\n\r\n"
    );
    match timeout_at(deadline, stream.write_all(request.as_bytes())).await {
        Ok(r) => r.map_err(io)?,
        Err(_) => return Err(HttpError::Timeout(addr)),
    }
    let mut exchange = Exchange {
        stream,
        addr,
        buf: Vec::with_capacity(4096),
        eof: false,
        // Head, body and chunk framing (hex sizes and line ends) never need more than this.
        cap: limits.head + 2 * limits.body + 1024,
    };
    match timeout_at(deadline, exchange.response(limits)).await {
        Ok(r) => r,
        Err(_) => Err(HttpError::Timeout(addr)),
    }
}

/// The bytes of one answer as they arrive.
struct Exchange {
    stream: TcpStream,
    addr: SocketAddr,
    buf: Vec<u8>,
    eof: bool,
    cap: usize,
}

/// How the body ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Framing {
    Length(usize),
    Chunked,
    UntilClose,
}

impl Exchange {
    /// Reads more bytes; `false` at the end of the connection.
    async fn fill(&mut self) -> Result<bool, HttpError> {
        if self.eof {
            return Ok(false);
        }
        let mut chunk = [0u8; 4096];
        let n = self
            .stream
            .read(&mut chunk)
            .await
            .map_err(|e| HttpError::Io {
                addr: self.addr,
                detail: e.to_string(),
            })?;
        if n == 0 {
            self.eof = true;
            return Ok(false);
        }
        self.buf.extend_from_slice(&chunk[..n]);
        Ok(true)
    }

    fn malformed(&self, detail: &'static str) -> HttpError {
        HttpError::Malformed {
            addr: self.addr,
            detail,
        }
    }

    async fn response(&mut self, limits: &Limits) -> Result<Response, HttpError> {
        // The head: up to the empty line.
        let head_end = loop {
            if let Some(i) = find(&self.buf, b"\r\n\r\n") {
                if i + 4 > limits.head {
                    return Err(HttpError::HeadTooLarge(self.addr));
                }
                break i + 4;
            }
            if self.buf.len() > limits.head {
                return Err(HttpError::HeadTooLarge(self.addr));
            }
            if !self.fill().await? {
                return Err(self.malformed(if self.buf.is_empty() {
                    "it closed the connection without a word"
                } else {
                    "the answer ended inside its headers"
                }));
            }
        };
        let head = std::str::from_utf8(&self.buf[..head_end - 4])
            .map_err(|_| self.malformed("headers are not text"))?;
        let mut lines = head.split("\r\n");
        let status = parse_status(lines.next().unwrap_or_default())
            .ok_or_else(|| self.malformed("no HTTP/1.x status line"))?;
        let mut framing = Framing::UntilClose;
        for line in lines {
            let (name, value) = line
                .split_once(':')
                .ok_or_else(|| self.malformed("a header without ':'"))?;
            let value = value.trim();
            if name.eq_ignore_ascii_case("transfer-encoding") {
                if value
                    .rsplit(',')
                    .next()
                    .is_some_and(|v| v.trim().eq_ignore_ascii_case("chunked"))
                {
                    framing = Framing::Chunked;
                } else {
                    return Err(self.malformed("an unknown transfer encoding"));
                }
            } else if name.eq_ignore_ascii_case("content-length") && framing != Framing::Chunked {
                let n: usize = value
                    .parse()
                    .map_err(|_| self.malformed("a Content-Length that is not a number"))?;
                if let Framing::Length(m) = framing
                    && m != n
                {
                    return Err(self.malformed("two different Content-Lengths"));
                }
                if n > limits.body {
                    return Err(HttpError::BodyTooLarge {
                        addr: self.addr,
                        limit: limits.body,
                    });
                }
                framing = Framing::Length(n);
            }
        }
        let body = match framing {
            Framing::Length(n) => {
                while self.buf.len() < head_end + n {
                    if !self.fill().await? {
                        return Err(self.malformed("the body ended early"));
                    }
                }
                self.buf[head_end..head_end + n].to_vec()
            }
            Framing::UntilClose => {
                while self.fill().await? {
                    if self.buf.len() - head_end > limits.body {
                        return Err(HttpError::BodyTooLarge {
                            addr: self.addr,
                            limit: limits.body,
                        });
                    }
                }
                self.buf[head_end..].to_vec()
            }
            Framing::Chunked => loop {
                match dechunk(&self.buf[head_end..], limits.body) {
                    Chunks::Done(body) => break body,
                    Chunks::TooLarge => {
                        return Err(HttpError::BodyTooLarge {
                            addr: self.addr,
                            limit: limits.body,
                        });
                    }
                    Chunks::Bad => return Err(self.malformed("broken chunked framing")),
                    Chunks::More => {
                        if self.buf.len() > self.cap {
                            return Err(HttpError::BodyTooLarge {
                                addr: self.addr,
                                limit: limits.body,
                            });
                        }
                        if !self.fill().await? {
                            return Err(self.malformed("the body ended early"));
                        }
                    }
                }
            },
        };
        Ok(Response { status, body })
    }
}

/// `HTTP/1.1 200 OK` → 200.
fn parse_status(line: &str) -> Option<u16> {
    let rest = line
        .strip_prefix("HTTP/1.1 ")
        .or_else(|| line.strip_prefix("HTTP/1.0 "))?;
    let code = rest.get(..3)?;
    if !code.bytes().all(|b| b.is_ascii_digit()) || rest.len() > 3 && !rest[3..].starts_with(' ') {
        return None;
    }
    code.parse().ok().filter(|c| (100..=599).contains(c))
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// Where de-chunking stands.
#[derive(Debug, PartialEq, Eq)]
enum Chunks {
    Done(Vec<u8>),
    More,
    TooLarge,
    Bad,
}

/// The body of a complete chunked encoding in `raw`, or what is missing or wrong.
fn dechunk(raw: &[u8], limit: usize) -> Chunks {
    let mut body = Vec::new();
    let mut pos = 0;
    loop {
        let Some(eol) = find(&raw[pos..], b"\r\n") else {
            // A size line is a few hex digits (extensions are not expected from a meter).
            return if raw.len() - pos > 64 {
                Chunks::Bad
            } else {
                Chunks::More
            };
        };
        let line = &raw[pos..pos + eol];
        let size = line.split(|&b| b == b';').next().unwrap_or_default();
        let size = std::str::from_utf8(size)
            .ok()
            .map(str::trim)
            .filter(|s| !s.is_empty() && s.len() <= 8)
            .and_then(|s| usize::from_str_radix(s, 16).ok());
        let Some(size) = size else {
            return Chunks::Bad;
        };
        pos += eol + 2;
        if size == 0 {
            // Trailers, if any, are not needed: the connection closes after them.
            return Chunks::Done(body);
        }
        if body.len() + size > limit {
            return Chunks::TooLarge;
        }
        if raw.len() < pos + size + 2 {
            return Chunks::More;
        }
        if &raw[pos + size..pos + size + 2] != b"\r\n" {
            return Chunks::Bad;
        }
        body.extend_from_slice(&raw[pos..pos + size]);
        pos += size + 2;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_lines() {
        assert_eq!(parse_status("HTTP/1.1 200 OK"), Some(200));
        assert_eq!(parse_status("HTTP/1.0 403 Forbidden"), Some(403));
        assert_eq!(parse_status("HTTP/1.1 404"), Some(404));
        assert_eq!(parse_status("HTTP/2 200"), None);
        assert_eq!(parse_status("HTTP/1.1 2000 OK"), None);
        assert_eq!(parse_status("HTTP/1.1 099 Low"), None);
        assert_eq!(parse_status("SSH-2.0-OpenSSH"), None);
    }

    #[test]
    fn chunked_bodies() {
        assert_eq!(
            dechunk(b"4\r\n/ISK\r\n3;x=1\r\n5\\2\r\n0\r\n\r\n", 100),
            Chunks::Done(b"/ISK5\\2".to_vec())
        );
        assert_eq!(dechunk(b"4\r\n/IS", 100), Chunks::More);
        assert_eq!(dechunk(b"4\r\n/ISK", 100), Chunks::More);
        assert_eq!(dechunk(b"4\r\n/ISKxx", 100), Chunks::Bad);
        assert_eq!(dechunk(b"zz\r\n", 100), Chunks::Bad);
        assert_eq!(dechunk(b"65\r\n", 100), Chunks::TooLarge);
        assert_eq!(dechunk(&[b'1'; 80], 100), Chunks::Bad);
        assert_eq!(dechunk(b"ffffffffff\r\n", 100), Chunks::Bad);
    }
}
