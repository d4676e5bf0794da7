//! CSV export (design.md §6): RFC 4180, UTF-8, a header with the design.md §3 names plus
//! `estimated`, one line per row, written as the rows stream in (years of one-second readings
//! never sit in memory). Interval rows carry the energy used in the interval in the register
//! columns (`import_kwh`, `import_kwh_t1`, ...), the mean power in `import_w` / `export_w`, and
//! four extra columns after `estimated`: `import_w_min`, `import_w_max`, `export_w_min`,
//! `export_w_max`. Times are shown in the vault's local time with their offset; an interval's
//! time is its start.

use crate::error::{Result, VaultError};
use crate::query::Row;
use crate::resolution::Resolution;
use hearth_meter::MeterTime;
use hearth_meter::record::{COLUMNS, Column};
use jiff::tz::TimeZone;
use std::io::Write;

/// How to write the CSV.
#[derive(Clone, Debug, Default)]
pub struct CsvOptions {
    /// Decimal comma and `;` between fields (spreadsheets in such locales).
    pub decimal_comma: bool,
}

const EXTRA: [&str; 4] = [
    "import_w_min",
    "import_w_max",
    "export_w_min",
    "export_w_max",
];

/// Writes rows of one resolution as CSV to `out`, returning how many data lines were
/// written. Stops at the first damaged chunk with its error (what was written stays valid
/// CSV up to that line).
pub fn write_csv<W: Write>(
    rows: impl Iterator<Item = Result<Row>>,
    resolution: Resolution,
    tz: &TimeZone,
    out: W,
    options: &CsvOptions,
) -> Result<u64> {
    let mut w = csv::WriterBuilder::new()
        .delimiter(if options.decimal_comma { b';' } else { b',' })
        .from_writer(out);
    let interval = resolution != Resolution::Raw;
    let mut header: Vec<&str> = COLUMNS.iter().map(|c| c.name()).collect();
    header.push("estimated");
    if interval {
        header.extend(EXTRA);
    }
    w.write_record(&header)?;
    let protocol_col = COLUMNS.iter().position(|c| *c == Column::Protocol);
    let mut n = 0u64;
    for row in rows {
        let mut row = row?;
        if let Some(t) = row.reading.time {
            row.reading.time = Some(MeterTime::in_zone(t.unix, tz));
        }
        let mut fields = row.reading.csv_row(options.decimal_comma);
        if interval && let Some(i) = protocol_col {
            fields[i].clear();
        }
        fields.push(if row.estimated { "true" } else { "false" }.to_string());
        if interval {
            for v in [
                row.import_w_min,
                row.import_w_max,
                row.export_w_min,
                row.export_w_max,
            ] {
                fields.push(v.map(|v| v.to_string()).unwrap_or_default());
            }
        }
        w.write_record(&fields)?;
        n += 1;
    }
    w.flush().map_err(VaultError::Io)?;
    Ok(n)
}
