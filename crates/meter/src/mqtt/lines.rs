//! Lines of MQTT messages as `mosquitto_sub -v` prints them (`TOPIC PAYLOAD`, or a bare
//! payload), bounded so that garbage cannot grow the buffer.

use serde_json::Value;

/// The longest payload line accepted, in bytes. A Glow payload is about 600 bytes.
pub const MAX_LINE: usize = 64 * 1024;

/// Splits `TOPIC PAYLOAD` (as `mosquitto_sub -v` prints) from a bare JSON payload.
pub(crate) fn split_topic(line: &[u8]) -> (Option<&str>, &[u8]) {
    let trimmed = trim_ascii(line);
    match trimmed.first() {
        Some(b'{') | Some(b'[') | None => (None, trimmed),
        Some(_) => match trimmed.iter().position(|b| *b == b' ' || *b == b'\t') {
            Some(i) => match std::str::from_utf8(&trimmed[..i]) {
                Ok(topic) if topic.contains('/') => (Some(topic), trim_ascii(&trimmed[i + 1..])),
                _ => (None, trimmed),
            },
            None => (None, trimmed),
        },
    }
}

fn trim_ascii(b: &[u8]) -> &[u8] {
    let start = b
        .iter()
        .position(|c| !c.is_ascii_whitespace())
        .unwrap_or(b.len());
    let end = b
        .iter()
        .rposition(|c| !c.is_ascii_whitespace())
        .map_or(start, |i| i + 1);
    &b[start..end.max(start)]
}

/// Splits a byte stream into lines of at most [`MAX_LINE`] bytes. A longer line is reported
/// once and discarded up to its newline, so garbage cannot grow the buffer.
#[derive(Debug, Clone, Default)]
pub(crate) struct Lines {
    buf: Vec<u8>,
    start: usize,
    discarding: bool,
    scanned: usize,
    /// The last line was let through at its closing `}` (see [`Lines::next`]): the newline
    /// that ends it, when it comes, is its own, not an empty line of its own.
    after_object: bool,
}

pub(crate) enum Line {
    Complete(Vec<u8>),
    Oversized(usize),
}

impl Lines {
    pub(crate) fn push(&mut self, bytes: &[u8]) {
        if self.start > 0 && self.start == self.buf.len() {
            self.buf.clear();
            self.start = 0;
            self.scanned = 0;
        }
        self.buf.extend_from_slice(bytes);
    }

    /// The next complete line. `object_end` lets a final line without a newline through when
    /// it already holds one complete JSON object.
    pub(crate) fn next(&mut self, object_end: bool) -> Option<Line> {
        loop {
            let pending = &self.buf[self.start..];
            if let Some(i) = pending[self.scanned.min(pending.len())..]
                .iter()
                .position(|b| *b == b'\n')
            {
                let end = self.scanned + i;
                let line = pending[..end].to_vec();
                self.start += end + 1;
                self.scanned = 0;
                self.compact();
                if self.discarding {
                    self.discarding = false;
                    continue;
                }
                if std::mem::take(&mut self.after_object) && trim_ascii(&line).is_empty() {
                    continue;
                }
                if line.len() > MAX_LINE {
                    return Some(Line::Oversized(line.len()));
                }
                return Some(Line::Complete(line));
            }
            self.scanned = pending.len();
            if self.discarding {
                self.start = self.buf.len();
                self.scanned = 0;
                self.compact();
                return None;
            }
            if pending.len() > MAX_LINE {
                let n = pending.len();
                self.discarding = true;
                self.start = self.buf.len();
                self.scanned = 0;
                self.compact();
                return Some(Line::Oversized(n));
            }
            if object_end && trim_ascii(pending).last() == Some(&b'}') {
                let (_, payload) = split_topic(pending);
                if serde_json::from_slice::<Value>(payload).is_ok() {
                    let line = pending.to_vec();
                    self.start = self.buf.len();
                    self.scanned = 0;
                    self.compact();
                    self.after_object = true;
                    return Some(Line::Complete(line));
                }
            }
            return None;
        }
    }

    /// The unterminated rest, for the end of a file.
    pub(crate) fn finish(&mut self) -> Option<Line> {
        let pending = &self.buf[self.start..];
        let out = if self.discarding || trim_ascii(pending).is_empty() {
            None
        } else if pending.len() > MAX_LINE {
            Some(Line::Oversized(pending.len()))
        } else {
            Some(Line::Complete(pending.to_vec()))
        };
        self.buf.clear();
        self.start = 0;
        self.scanned = 0;
        self.discarding = false;
        self.after_object = false;
        out
    }

    fn compact(&mut self) {
        if self.start == self.buf.len() {
            self.buf.clear();
            self.start = 0;
        } else if self.start > 4096 && self.start * 2 > self.buf.len() {
            self.buf.drain(..self.start);
            self.start = 0;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_topic_forms() {
        assert_eq!(split_topic(b" {\"a\":1} "), (None, &b"{\"a\":1}"[..]));
        assert_eq!(
            split_topic(b"glow/X/SENSOR/gasmeter {\"a\":1}"),
            (Some("glow/X/SENSOR/gasmeter"), &b"{\"a\":1}"[..])
        );
        assert_eq!(
            split_topic(b"esp/sensor/p/state 523.4"),
            (Some("esp/sensor/p/state"), &b"523.4"[..])
        );
    }
}
