//! Delimited text as exports write it (RFC 4180 fields, one record a line), read line by
//! line with the line's end kept in view, and exact decimal numbers: what the CSV readers of
//! Hearth's own export, DSMR-reader and Home Assistant share.

use std::io::BufRead;

/// The longest line read: 1 MiB (a row of any export Hearth reads is well under a KiB).
const LINE_CAP: usize = 1 << 20;

/// One line of a file, without its line ending.
pub(super) struct Line {
    /// 1-based number.
    pub number: u64,
    /// Its text (a line that is not UTF-8 is empty and `utf8` false).
    pub text: String,
    /// Whether it ended with a line feed: a last line without one may have been cut short
    /// (a file still being written, or copied while it was).
    pub ended: bool,
    /// Whether it was UTF-8.
    pub utf8: bool,
    /// Bytes it took in the file, its line ending included.
    pub bytes: u64,
}

/// Why a file stopped being readable.
#[derive(Debug, thiserror::Error)]
pub(super) enum LineError {
    /// The system could not read it.
    #[error(transparent)]
    Io(#[from] std::io::Error),
    /// A line longer than any export writes.
    #[error("line {0} is longer than 1 MiB; an export's row is well under a KiB")]
    TooLong(u64),
}

/// The lines of `reader`, one at a time.
pub(super) struct Lines<R> {
    reader: R,
    number: u64,
}

impl<R: BufRead> Lines<R> {
    pub(super) fn new(reader: R) -> Lines<R> {
        Lines { reader, number: 0 }
    }

    /// The next line, `None` at the end.
    pub(super) fn next_line(&mut self) -> Result<Option<Line>, LineError> {
        let mut bytes = Vec::new();
        let got = std::io::Read::take(&mut self.reader, LINE_CAP as u64 + 3)
            .read_until(b'\n', &mut bytes)?;
        if got == 0 {
            return Ok(None);
        }
        self.number += 1;
        let ended = bytes.last() == Some(&b'\n');
        if !ended && bytes.len() > LINE_CAP {
            return Err(LineError::TooLong(self.number));
        }
        let taken = bytes.len() as u64;
        if ended {
            bytes.pop();
            if bytes.last() == Some(&b'\r') {
                bytes.pop();
            }
        }
        let (text, utf8) = match String::from_utf8(bytes) {
            Ok(t) => (t, true),
            Err(_) => (String::new(), false),
        };
        Ok(Some(Line {
            number: self.number,
            text,
            ended,
            utf8,
            bytes: taken,
        }))
    }
}

/// The fields of one CSV record on one line, split at `delimiter` by the `csv` crate (quotes
/// removed, `""` inside quotes one `"`); `None` when a quote is left open (a field that goes on
/// to the next line, which no export Hearth reads writes, or a line cut short).
pub(super) fn fields(line: &str, delimiter: char) -> Option<Vec<String>> {
    // csv reads a quote left open at the end as closed there: an odd count of quotes is one.
    if line.bytes().filter(|&b| b == b'"').count() % 2 == 1 {
        return None;
    }
    let delimiter = u8::try_from(delimiter).ok()?;
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(delimiter)
        .from_reader(line.as_bytes());
    let mut record = csv::StringRecord::new();
    match reader.read_record(&mut record) {
        Ok(true) => Some(record.iter().map(str::to_owned).collect()),
        Ok(false) => Some(vec![String::new()]),
        Err(_) => None,
    }
}

/// The header line of a CSV: its delimiter and its column names (trimmed; a byte-order mark
/// dropped), its bytes added to `bytes`; `None` for an empty file.
pub(super) fn header<R: BufRead>(
    lines: &mut Lines<R>,
    bytes: &mut u64,
) -> Result<Option<(char, Vec<String>)>, LineError> {
    let Some(header) = lines.next_line()? else {
        return Ok(None);
    };
    *bytes += header.bytes;
    let head = header.text.trim_start_matches('\u{feff}');
    let delimiter = delimiter_of(head);
    let names = fields(head, delimiter)
        .unwrap_or_default()
        .into_iter()
        .map(|n| n.trim().to_owned())
        .collect();
    Ok(Some((delimiter, names)))
}

/// The delimiter of a header line: `;` when it has more `;` than `,`, else `,`.
pub(super) fn delimiter_of(header: &str) -> char {
    let semis = header.matches(';').count();
    let commas = header.matches(',').count();
    if semis > commas { ';' } else { ',' }
}

/// A decimal number (`-12.345`, `7`, with `,` as the decimal mark when `comma`) as an integer
/// of `decimals` places: exact, never rounded. `None` when it is not such a number or has
/// more places than that (other than trailing zeros).
pub(super) fn fixed(text: &str, decimals: u8, comma: bool) -> Option<i64> {
    let text = text.trim();
    let (negative, digits) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text.strip_prefix('+').unwrap_or(text)),
    };
    let mark = if comma { ',' } else { '.' };
    let (whole, frac) = match digits.split_once(mark) {
        Some((w, f)) => (w, f),
        None => (digits, ""),
    };
    if whole.is_empty() && frac.is_empty() {
        return None;
    }
    if !whole.bytes().all(|b| b.is_ascii_digit()) || !frac.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let frac = frac.trim_end_matches('0');
    if frac.len() > usize::from(decimals) {
        return None;
    }
    let mut value: i64 = 0;
    for b in whole.bytes() {
        value = value.checked_mul(10)?.checked_add(i64::from(b - b'0'))?;
    }
    let mut places = 0u8;
    for b in frac.bytes() {
        value = value.checked_mul(10)?.checked_add(i64::from(b - b'0'))?;
        places += 1;
    }
    for _ in places..decimals {
        value = value.checked_mul(10)?;
    }
    Some(if negative { -value } else { value })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_are_split_as_rfc_4180_writes_them() {
        assert_eq!(
            fields(r#"a,"b,c","d""e",,f"#, ',').unwrap(),
            ["a", "b,c", "d\"e", "", "f"]
        );
        assert_eq!(fields("1,5;2", ';').unwrap(), ["1,5", "2"]);
        assert_eq!(fields(r#"a,"cut"#, ','), None);
    }

    #[test]
    fn numbers_are_exact_and_never_rounded() {
        assert_eq!(fixed("1234.567", 3, false), Some(1_234_567));
        assert_eq!(fixed("1234,567", 3, true), Some(1_234_567));
        assert_eq!(fixed("-0.5", 3, false), Some(-500));
        assert_eq!(fixed("7", 1, false), Some(70));
        assert_eq!(fixed("1.2300", 2, false), Some(123));
        assert_eq!(fixed("1.234", 2, false), None, "a place too many");
        assert_eq!(
            fixed("1,234", 3, false),
            None,
            "a comma where a point belongs"
        );
        assert_eq!(fixed("1e3", 0, false), None);
        assert_eq!(fixed("", 0, false), None);
        assert_eq!(fixed("99999999999999999999", 0, false), None);
    }
}
