//! Reading the files a user names without letting one exhaust memory: every file and every
//! line read from a user has a documented [`Cap`], with room to spare over real files, and
//! one over its cap is an error (never a silent cut) that says the cap; a line's names its
//! number.
//!
//! The caps:
//!
//! | what                              | cap     | a real one                         |
//! |-----------------------------------|---------|------------------------------------|
//! | a contract file (TOML)            | 1 MiB   | a few KiB                          |
//! | a price file (`prices_csv`)       | 16 MiB  | a year of quarter hours: ~1.5 MiB  |
//! | a line of JSON Lines readings     | 1 MiB   | a few hundred bytes                |
//! | a supplier download (CSV, XML)    | 256 MiB | a few MiB                          |
//! | a line of a supplier CSV          | 1 MiB   | well under a KiB                   |
//! | a passphrase file                 | 64 KiB  | one short line                     |
//!
//! Meter captures are not read here: they stream through decoders that bound their own
//! buffers.

use std::io::{self, BufRead, Read};
use std::path::Path;

/// How much may be read of one kind of file or line, and what a real one holds (told when
/// the cap is passed).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cap {
    /// The most bytes allowed (a line's without its line ending).
    pub bytes: u64,
    /// What a real one is, said beside the refusal.
    pub typical: &'static str,
}

impl Cap {
    /// A contract file: 1 MiB (a real one is a few KiB).
    pub const CONTRACT: Cap = Cap {
        bytes: 1 << 20,
        typical: "a contract file is a few KiB at most",
    };
    /// A price file named by `prices_csv`: 16 MiB (a year of 15-minute prices is about
    /// 35,000 lines, 1.5 MiB).
    pub const PRICE_FILE: Cap = Cap {
        bytes: 16 << 20,
        typical: "a price file is a few MiB at most",
    };
    /// One line of JSON Lines readings: 1 MiB (a reading is a few hundred bytes).
    pub const JSON_LINE: Cap = Cap {
        bytes: 1 << 20,
        typical: "a reading is a few hundred bytes",
    };
    /// A supplier download (consumption CSV or Green Button XML): 256 MiB (years of
    /// half-hourly data are a few MiB).
    pub const SUPPLIER_FILE: Cap = Cap {
        bytes: 256 << 20,
        typical: "a supplier's download is a few MiB at most",
    };
    /// One line of a supplier CSV: 1 MiB (a row is well under a KiB).
    pub const SUPPLIER_LINE: Cap = Cap {
        bytes: 1 << 20,
        typical: "a row of a supplier's download is well under a KiB",
    };
    /// A passphrase file: 64 KiB (it holds one line).
    pub const PASSPHRASE_FILE: Cap = Cap {
        bytes: 64 << 10,
        typical: "a passphrase file holds one short line",
    };
}

/// A file or line over its [`Cap`]. Carried inside an [`io::Error`] (kind `InvalidData`) by
/// the readers here, so callers that report read errors report it as one; they name the file
/// (as they do for every read error), so the message does not.
#[derive(Debug, thiserror::Error)]
pub enum TooLarge {
    /// The whole file is over its cap.
    #[error("it is larger than {}; {}", size(.cap.bytes), .cap.typical)]
    File {
        /// Its cap.
        cap: Cap,
    },
    /// One line is over its cap.
    #[error("line {line} is longer than {}; {}", size(.cap.bytes), .cap.typical)]
    Line {
        /// 1-based line.
        line: u64,
        /// Its cap.
        cap: Cap,
    },
}

impl From<TooLarge> for io::Error {
    fn from(e: TooLarge) -> io::Error {
        io::Error::new(io::ErrorKind::InvalidData, e)
    }
}

/// A size in the unit that says it exactly (the caps are whole KiB or MiB).
fn size(bytes: u64) -> String {
    if bytes >= 1 << 20 && bytes.is_multiple_of(1 << 20) {
        format!("{} MiB", bytes >> 20)
    } else if bytes >= 1 << 10 && bytes.is_multiple_of(1 << 10) {
        format!("{} KiB", bytes >> 10)
    } else {
        format!("{bytes} bytes")
    }
}

/// Reads the text file at `path` whole, refusing it when it is over `cap` (reads at most
/// one byte past the cap, so `/dev/zero` or an endless pipe is refused at once).
pub fn read_text(path: &Path, cap: Cap) -> io::Result<String> {
    let file = std::fs::File::open(path)?;
    let mut bytes = Vec::new();
    file.take(cap.bytes + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > cap.bytes {
        return Err(TooLarge::File { cap }.into());
    }
    String::from_utf8(bytes).map_err(|_| invalid_utf8())
}

/// The error `std` gives for text that is not UTF-8, so messages stay as they were.
fn invalid_utf8() -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidData,
        "stream did not contain valid UTF-8",
    )
}

/// A reader that refuses to give more than its cap: reading past it is an error (for
/// readers that parse a whole stream, such as Green Button XML).
pub struct Capped<R> {
    inner: R,
    left: u64,
    cap: Cap,
}

impl<R: Read> Capped<R> {
    /// `inner`, allowed at most `cap` bytes.
    pub fn new(inner: R, cap: Cap) -> Capped<R> {
        Capped {
            inner,
            left: cap.bytes,
            cap,
        }
    }
}

impl<R: Read> Read for Capped<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        if self.left == 0 {
            // At the cap: the file may end exactly here; a byte more is one too many.
            let mut one = [0u8; 1];
            return match self.inner.read(&mut one)? {
                0 => Ok(0),
                _ => Err(TooLarge::File { cap: self.cap }.into()),
            };
        }
        let room = buf
            .len()
            .min(usize::try_from(self.left).unwrap_or(usize::MAX));
        let got = self.inner.read(&mut buf[..room])?;
        self.left -= got as u64;
        Ok(got)
    }
}

/// The lines of a text file, as [`BufRead::lines`] gives them (without `\n` or `\r\n`), each
/// refused when longer than its cap: a line reader never holds more than the cap and a
/// byte. A line over the cap is an error naming the line.
pub struct Lines<R> {
    reader: R,
    cap: Cap,
    /// Lines read so far.
    line: u64,
    done: bool,
}

impl<R: BufRead> Lines<R> {
    /// The lines of `reader`, each at most `cap` bytes.
    pub fn new(reader: R, cap: Cap) -> Lines<R> {
        Lines {
            reader,
            cap,
            line: 0,
            done: false,
        }
    }
}

impl<R: BufRead> Iterator for Lines<R> {
    type Item = io::Result<String>;

    fn next(&mut self) -> Option<io::Result<String>> {
        if self.done {
            return None;
        }
        let mut bytes = Vec::new();
        // The cap, the line ending's two bytes, and one byte that tells an over-long line.
        let most = self.cap.bytes + 3;
        let got = match (&mut self.reader).take(most).read_until(b'\n', &mut bytes) {
            Ok(n) => n,
            Err(e) => {
                self.done = true;
                return Some(Err(e));
            }
        };
        if got == 0 {
            self.done = true;
            return None;
        }
        self.line += 1;
        if bytes.last() == Some(&b'\n') {
            bytes.pop();
            if bytes.last() == Some(&b'\r') {
                bytes.pop();
            }
        }
        if bytes.len() as u64 > self.cap.bytes {
            self.done = true;
            return Some(Err(TooLarge::Line {
                line: self.line,
                cap: self.cap,
            }
            .into()));
        }
        Some(String::from_utf8(bytes).map_err(|_| {
            self.done = true;
            invalid_utf8()
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TINY: Cap = Cap {
        bytes: 4,
        typical: "tiny",
    };

    #[test]
    fn lines_up_to_the_cap_are_read_and_one_past_it_is_refused_by_number() {
        let text = b"abcd\r\nab\n\nabcde\nnever";
        let mut lines = Lines::new(&text[..], TINY);
        assert_eq!(lines.next().unwrap().unwrap(), "abcd");
        assert_eq!(lines.next().unwrap().unwrap(), "ab");
        assert_eq!(lines.next().unwrap().unwrap(), "");
        let e = lines.next().unwrap().unwrap_err();
        assert_eq!(e.to_string(), "line 4 is longer than 4 bytes; tiny");
        assert!(lines.next().is_none());
    }

    #[test]
    fn a_last_line_without_ending_is_a_line() {
        let lines: Vec<String> = Lines::new(&b"a\nbc"[..], TINY)
            .map(Result::unwrap)
            .collect();
        assert_eq!(lines, ["a", "bc"]);
    }

    #[test]
    fn a_capped_reader_gives_exactly_the_cap_and_refuses_a_byte_more() {
        let mut out = Vec::new();
        Capped::new(&b"abcd"[..], TINY)
            .read_to_end(&mut out)
            .unwrap();
        assert_eq!(out, b"abcd");
        let e = Capped::new(&b"abcde"[..], TINY)
            .read_to_end(&mut Vec::new())
            .unwrap_err();
        assert_eq!(e.to_string(), "it is larger than 4 bytes; tiny");
    }

    #[test]
    fn sizes_are_said_in_their_unit() {
        assert_eq!(size(16 << 20), "16 MiB");
        assert_eq!(size(64 << 10), "64 KiB");
        assert_eq!(size(1000), "1000 bytes");
    }

    #[test]
    fn an_endless_file_is_refused_at_its_cap() {
        let e = read_text(Path::new("/dev/zero"), Cap::PRICE_FILE).unwrap_err();
        assert_eq!(
            e.to_string(),
            "it is larger than 16 MiB; a price file is a few MiB at most"
        );
    }
}
