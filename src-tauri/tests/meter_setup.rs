//! Meter setup through IPC: a LAN bridge previewed from what it sends (protocol, the last four
//! of the meter id, watts), a public address refused before any socket, a search of a port
//! that is not there told in words, and a key check before any search refused.

mod common;

use common::{Scratch, call};
use serde_json::json;
use std::io::Write as _;
use std::net::TcpListener;

#[test]
fn a_lan_bridge_is_previewed_from_its_telegram() {
    let dir = Scratch::new("setup-bridge");
    let (_app, w) = common::app_in(&dir.0, false);
    // A bridge on loopback sending the DSMR 5 fixture once a second: 0-0:96.1.1 is hex for
    // "K8EG004046395507", 1-0:1.7.0(00.244*kW), 1-0:2.7.0(00.000*kW); 1-0:1.8.1(000004.426*kWh)
    // and 1-0:1.8.2(000002.399*kWh) make the import register 6825 Wh.
    let telegram = std::fs::read(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/dsmr/v5.p1"),
    )
    .expect("fixture");
    let listener = TcpListener::bind("127.0.0.1:0").expect("listen");
    let port = listener.local_addr().expect("addr").port();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { return };
            let telegram = telegram.clone();
            std::thread::spawn(move || {
                while stream.write_all(&telegram).is_ok() {
                    std::thread::sleep(std::time::Duration::from_millis(500));
                }
            });
        }
    });
    let args = |source: String| json!({ "source": source, "key": "", "authKey": "" });
    let p = call(&w, "preview_source", args(format!("tcp:127.0.0.1:{port}"))).expect("preview");
    assert_eq!(
        p,
        json!({ "protocol": "dsmr", "meter_id_end": "5507", "watts": 244, "import_wh": 6_825 })
    );
    // Outside the home network: refused before connecting, also for a HomeWizard meter.
    for source in ["tcp:203.0.113.7:23", "homewizard:203.0.113.7"] {
        let e = call(&w, "preview_source", args(source.into())).expect_err(source);
        assert_eq!(e["code"], json!("BadRequest"), "{source}: {e}");
    }
}

#[test]
fn a_search_of_a_missing_port_says_so_and_a_key_check_needs_a_search_first() {
    let dir = Scratch::new("setup-missing");
    let mut state = hearth_desktop::state_for(
        dir.0.clone(),
        false,
        hearth_vault::KdfParams::INSECURE_FOR_TESTS,
    );
    state.test_ports = vec!["/dev/hearth-test-no-such-port".into()];
    let (_app, w) = common::app_with(state);
    let found = call(&w, "find_meters", json!({})).expect("search");
    assert_eq!(found.as_array().map(Vec::len), Some(1), "{found}");
    assert_eq!(found[0]["source"], json!(null));
    assert_eq!(
        found[0]["problem"],
        json!("/dev/hearth-test-no-such-port is not there: is the meter cable plugged in?")
    );
    let e = call(
        &w,
        "check_found_key",
        json!({ "path": "/dev/hearth-test-no-such-port", "key": "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "authKey": "" }),
    )
    .expect_err("no frame to check against");
    assert_eq!(e["code"], json!("BadRequest"));
}
