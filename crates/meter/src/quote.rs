//! Input text quoted in error messages and diagnostics: cut short and with anything that
//! could be a meter id masked.
//!
//! Messages reach stderr, logs and bug reports. A supplier file's first line can name the
//! meter (`Meter serial E0047000123456726`), and a damaged cell can be megabytes long, so
//! nothing a decoder or importer quotes is copied whole: at most [`MAX_QUOTE`] characters
//! are kept (then `…`), and every run of eight or more letters and digits holding at least
//! five digits (the shape of meter serials, EANs, MPANs and equipment ids) is shown as
//! [`crate::MeterId::redacted`] shows an id: `…` and its last four characters.

/// The most characters of input a message quotes.
pub const MAX_QUOTE: usize = 40;

/// `text` safe to show: ids masked, at most [`MAX_QUOTE`] characters kept, `…` when cut.
pub fn cut(text: &str) -> String {
    let mut out = String::new();
    let mut kept = 0usize;
    let mut rest = text;
    while let Some(c) = rest.chars().next() {
        if kept >= MAX_QUOTE {
            out.push('…');
            return out;
        }
        let run = rest
            .find(|c: char| !c.is_ascii_alphanumeric())
            .unwrap_or(rest.len());
        let (piece, shown) = if run == 0 {
            (c.len_utf8(), None)
        } else {
            let word = &rest[..run];
            let digits = word.bytes().filter(u8::is_ascii_digit).count();
            if word.len() >= 8 && digits >= 5 {
                (run, Some(format!("…{}", &word[word.len() - 4..])))
            } else {
                (run, None)
            }
        };
        match shown {
            Some(masked) => {
                out.push_str(&masked);
                kept += masked.chars().count();
            }
            None => {
                for ch in rest[..piece].chars() {
                    if kept >= MAX_QUOTE {
                        out.push('…');
                        return out;
                    }
                    // Control characters would break the message's line: shown escaped.
                    if ch.is_control() {
                        out.extend(ch.escape_default());
                    } else {
                        out.push(ch);
                    }
                    kept += 1;
                }
            }
        }
        rest = &rest[piece..];
    }
    out
}

/// [`cut`] in double quotes, for a message: `"Meter serial …6726"`.
pub fn quoted(text: &str) -> String {
    format!("\"{}\"", cut(text))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_masked_and_long_text_is_cut() {
        assert_eq!(
            quoted("Meter serial E0047000123456726"),
            "\"Meter serial …6726\""
        );
        assert_eq!(cut("2024-10-27 00:30"), "2024-10-27 00:30");
        assert_eq!(cut("1234.567"), "1234.567");
        // An MPAN, an EAN.
        assert_eq!(cut("MPAN 1200012345678"), "MPAN …5678");
        assert_eq!(cut("871687120051234567 kWh"), "…4567 kWh");
        // Letters alone, or few digits, are not ids.
        assert_eq!(cut("Consumption (kWh)"), "Consumption (kWh)");
        assert_eq!(cut("abcdefgh1234"), "abcdefgh1234");
        let long = "x".repeat(20_000_000);
        assert_eq!(cut(&long), format!("{}…", "x".repeat(40)));
        assert_eq!(
            cut(&"ab ".repeat(30)),
            format!("{}…", &"ab ".repeat(30)[..40])
        );
        assert_eq!(cut("a\nb"), "a\\nb");
        assert_eq!(cut("é"), "é");
    }
}
