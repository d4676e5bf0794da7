//! The history page built from a real vault with known readings (hand-computed expectations).

use hearth_app::history::{ChartId, Format, Image, Request, chart, page};
use hearth_app::period::PeriodKind;
use hearth_insight::Lang;
use hearth_meter::{MeterTime, Protocol, Quantity, Reading};
use hearth_vault::{CreateOptions, KdfParams, Vault};

/// 2026-01-15T09:00:00Z = 10:00 in Amsterdam (a Thursday).
const T0: i64 = 1_768_467_600;

fn vault(dir: &std::path::Path) -> Vault {
    let options = CreateOptions {
        kdf: KdfParams::INSECURE_FOR_TESTS,
        time_zone: Some("Europe/Amsterdam".into()),
    };
    let mut v = Vault::create(&dir.join("v.hearth"), "pw", &options).expect("vault");
    // Two hours of one reading a minute at 3000 W on tariff 2: 50 Wh a minute, 3 kWh an hour.
    let readings: Vec<Reading> = (0..=120)
        .map(|m| {
            let mut r = Reading::new(Protocol::Dsmr);
            r.time = Some(MeterTime::utc(T0 + m * 60));
            r.set(Quantity::ImportT1Wh, 500_000);
            r.set(Quantity::ImportT2Wh, 1_000_000 + m * 50);
            r.set(Quantity::ExportT1Wh, 0);
            r.set(Quantity::ExportT2Wh, 0);
            r.set(Quantity::ImportW, 3000);
            r.set(Quantity::ExportW, 0);
            r.fill_totals();
            r
        })
        .collect();
    v.append(&readings).expect("append");
    v.flush().expect("flush");
    v
}

#[test]
fn a_day_of_known_readings() {
    let dir = std::env::temp_dir().join(format!("hearth-history-test-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("dir");
    let v = vault(&dir);
    let req = Request {
        kind: PeriodKind::Day,
        shift: 0,
        width: 800,
        height: 260,
        dark: false,
        compare: true,
        lang: Lang::En,
    };
    // "Now" is 2026-01-15T12:00Z, the same local day.
    let p = page(&v, &req, T0 + 3 * 3600).expect("page");
    assert_eq!(p.title, "Thu 15 Jan 2026");
    assert_eq!(p.from, "2026-01-15T00:00:00+01:00");
    assert_eq!(p.to, "2026-01-16T00:00:00+01:00");
    // 120 minutes x 50 Wh = 6 kWh, all on tariff 2, nothing estimated, nothing the day before.
    assert_eq!(p.import_kwh, 6.0);
    assert_eq!(p.export_kwh, 0.0);
    assert_eq!(p.estimated_kwh, 0.0);
    assert_eq!(p.previous_import_kwh, Some(0.0));
    let used: Vec<(&str, f64)> = p
        .rows
        .iter()
        .filter(|r| r.import_kwh > 0.0)
        .map(|r| (r.label.as_str(), r.import_kwh))
        .collect();
    assert_eq!(used, vec![("10h", 3.0), ("11h", 3.0)]);
    assert!(
        p.bars_svg
            .contains("<title>Energy used, Thu 15 Jan 2026</title>")
    );
    assert!(
        p.power_svg
            .contains("<title>Power, Thu 15 Jan 2026</title>")
    );
    assert!(p.heatmap_svg.is_none(), "no heatmap for a single day");
    // The week holding it has the heatmap, and the same 6 kWh.
    let week = page(
        &v,
        &Request {
            kind: PeriodKind::Week,
            ..req
        },
        T0,
    )
    .expect("week");
    assert_eq!(week.title, "Week of 12 Jan 2026");
    assert_eq!(week.import_kwh, 6.0);
    assert!(
        week.heatmap_svg
            .as_deref()
            .is_some_and(|s| s.contains("brightest = 3 kWh"))
    );
    // Load duration of the day: 120 complete minutes at 50 Wh each, so 3000 W all along
    // (50 Wh x 60 = 3000 W); the base load is 3000 W and every table point too.
    assert_eq!(p.base_load_w, Some(3000.0));
    assert_eq!(p.duration.len(), 9);
    assert!(p.duration.iter().all(|d| d.import_w == 3000.0));
    assert_eq!(p.duration[0].share_pct, 0.0);
    assert!(
        p.duration_svg
            .contains("<title>Load duration, Thu 15 Jan 2026</title>")
    );
    // No gas and no export in these readings: no such charts.
    assert!(p.gas_svg.is_none() && p.export_svg.is_none());
    assert!(p.rows.iter().all(|r| r.gas_m3.is_none()));
    // The same day in Dutch: title, bar labels and chart titles.
    let nl = page(
        &v,
        &Request {
            lang: Lang::Nl,
            ..req
        },
        T0 + 3 * 3600,
    )
    .expect("nl");
    assert_eq!(nl.title, "do 15 jan 2026");
    assert!(nl.rows.iter().any(|r| r.label == "10u"));
    assert!(
        nl.bars_svg
            .contains("<title>Energieverbruik, do 15 jan 2026</title>")
    );
    assert!(nl.duration_svg.contains("Basislast 3000 W"));
    // One chart alone as PNG (for saving) is a PNG file; a day has no heatmap to save.
    let png = chart(&v, &req, T0 + 3 * 3600, ChartId::Duration, Format::Png(1)).expect("png");
    assert!(matches!(png, Some(Image::Png(b)) if b.starts_with(b"\x89PNG")));
    assert_eq!(
        chart(&v, &req, T0 + 3 * 3600, ChartId::Heatmap, Format::Svg).expect("none"),
        None
    );
    drop(v);
    let _ = std::fs::remove_dir_all(&dir);
}
