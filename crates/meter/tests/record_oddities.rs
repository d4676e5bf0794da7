//! Two quiet oddities of the canonical record (issue 17, finding 12): a key given twice in a
//! JSON Lines reading is refused (it kept the last value), and a reading without `protocol`
//! stays without one (it was exported as "dsmr").

use hearth_meter::record::{COLUMNS, Column, RecordError};
use hearth_meter::{Protocol, Quantity, Reading};

#[test]
fn a_key_given_twice_is_refused() {
    let line = r#"{"time":"2026-01-15T18:00:00+01:00","import_kwh":1.000,"import_kwh":2.000}"#;
    let err = Reading::from_json(line).unwrap_err();
    assert_eq!(err, RecordError::DuplicateKey("import_kwh".into()));
    assert_eq!(
        err.to_string(),
        "the field `import_kwh` appears twice in one reading; keep one of them"
    );
    // Any key, known or not, and `protocol` itself.
    for line in [
        r#"{"protocol":"sml","protocol":"dsmr"}"#,
        r#"{"vendor_note":1,"vendor_note":2}"#,
    ] {
        assert!(matches!(
            Reading::from_json(line),
            Err(RecordError::DuplicateKey(_))
        ));
    }
    // Keys once each still read.
    let r = Reading::from_json(r#"{"import_kwh":1.000,"export_kwh":2.000}"#).unwrap();
    assert_eq!(r.get(Quantity::ImportWh), Some(1000));
    assert_eq!(r.get(Quantity::ExportWh), Some(2000));
    assert!(matches!(
        Reading::from_json("[1,2]"),
        Err(RecordError::NotJson(_))
    ));
}

#[test]
fn a_missing_protocol_stays_missing() {
    let line = r#"{"time":"2026-01-15T18:00:00+01:00","import_kwh":1234.567}"#;
    let r = Reading::from_json(line).unwrap();
    assert_eq!(r.protocol, Protocol::Unknown);
    assert_eq!(r.to_json(), line);
    let at = COLUMNS.iter().position(|c| *c == Column::Protocol).unwrap();
    assert_eq!(r.csv_row(false)[at], "");
    // A null protocol is absent too; a named one is kept; "unknown" is not a name to write.
    assert_eq!(
        Reading::from_json(r#"{"protocol":null,"import_kwh":1.000}"#)
            .unwrap()
            .to_json(),
        r#"{"import_kwh":1.000}"#
    );
    let sml = r#"{"protocol":"sml","import_kwh":1.000}"#;
    assert_eq!(Reading::from_json(sml).unwrap().to_json(), sml);
    assert!(Reading::from_json(r#"{"protocol":"unknown"}"#).is_err());
}
