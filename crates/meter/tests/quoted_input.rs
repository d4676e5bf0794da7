//! Error messages and diagnostics that quote input never show a whole meter id, nor more than
//! 40 characters of it (issue 17, finding 10): `Meter serial E0047000123456726` as a supplier
//! file's first line is quoted as `"Meter serial …6726"`; a 20 MB cell as its first 40
//! characters and `…`.

use hearth_meter::Decoder;
use hearth_meter::glow::GlowDecoder;
use hearth_meter::supplier::{ImportError, IntervalSet, london, read_csv};
use std::io::Cursor;

#[test]
fn a_supplier_header_naming_the_meter_is_masked() {
    let text = "Meter serial E0047000123456726\nConsumption (kWh),Start,End\n0.1,x,y\n";
    let err = read_csv(Cursor::new(text), &london(), &mut IntervalSet::new()).unwrap_err();
    assert!(matches!(err, ImportError::Columns { .. }));
    assert_eq!(
        err.to_string(),
        "no start time and kWh columns in the header \"Meter serial …6726\"; expected e.g. \
         \"Consumption (kWh), Start, End\" or \"start,end,kwh\""
    );
}

#[test]
fn cells_are_quoted_short_and_masked() {
    let huge = "9".repeat(20 * 1024 * 1024);
    let text = format!(
        "start,end,kwh\n\
         {huge},2024-01-01T00:30:00Z,0.1\n\
         MPAN 1200012345678,2024-01-01T00:30:00Z,0.1\n\
         2024-01-01T00:00:00Z,2024-01-01T00:30:00Z,{}\n\
         2024-01-01T01:00:00Z,2024-01-01T01:30:00Z,-0.{}\n",
        "x".repeat(100),
        "1".repeat(50)
    );
    let mut set = IntervalSet::new();
    read_csv(Cursor::new(text), &london(), &mut set).unwrap();
    let messages: Vec<&str> = set.diagnostics.iter().map(|d| d.message.as_str()).collect();
    assert_eq!(
        messages,
        [
            "\"…9999\" is not a date and time",
            "\"MPAN …5678\" is not a date and time",
            "\"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx…\" is not an amount of energy",
            "negative consumption \"-0.…1111\" (is this an export file?)",
        ]
    );
}

#[test]
fn a_glow_payload_value_is_quoted_short() {
    let long = "7".repeat(10_000);
    let payload = format!(
        "{{\"electricitymeter\":{{\"timestamp\":\"2022-12-26T14:02:28Z\",\"energy\":{{\"import\":\
         {{\"cumulative\":\"{long}\",\"units\":\"kWh\"}}}}}}}}"
    );
    let mut d = GlowDecoder::new();
    d.push(format!("glow/ABCDEF/SENSOR/electricitymeter {payload}\n").as_bytes());
    let r = d.next().unwrap().unwrap_err();
    assert!(!r.detail.contains(&"7".repeat(41)), "{}", r.detail);
    assert!(r.detail.len() < 200, "{}", r.detail);
}
