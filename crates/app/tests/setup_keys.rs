//! An encrypted meter's key checked against a frame it sent, as the setup step does after the
//! probe kept the frame: the right keys give the preview, a wrong one a clear error.

use hearth_app::setup::{self, PreviewError};
use hearth_meter::auto::Detected;
use hearth_meter_io::detect::Capture;

macro_rules! fixture {
    ($p:literal) => {
        include_bytes!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../meter/tests/fixtures/",
            $p
        ))
    };
}

#[test]
fn an_encrypted_han_frame_opens_with_its_key_and_not_with_another() {
    // The Kaifa list 2 APDU sealed with the public test keys of kaifa_no_list_2.gcm.keys,
    // after a cut frame (the probe opened the port mid-frame). amshan reads the same list
    // (kaifa_no_list_2.reference.json): meter id 6970631402614476, import 9745 W, export 0.
    let frame = fixture!("han/kaifa_no_list_2.gcm.hdlc");
    let mut bytes = frame[frame.len() / 2..].to_vec();
    bytes.extend_from_slice(frame);
    let capture = Capture::new(Detected::Dlms, bytes);
    let key = "000102030405060708090A0B0C0D0E0F";
    let p = setup::check_key(&capture, key, "").expect("opens");
    assert_eq!(
        (p.protocol, p.meter_id_end.as_deref(), p.watts),
        ("dlms", Some("4476"), Some(9_745))
    );
    let with_auth = setup::check_key(&capture, key, "D0D1D2D3D4D5D6D7D8D9DADBDCDDDEDF");
    assert_eq!(with_auth.map(|p| p.watts), Ok(Some(9_745)));
    assert_eq!(
        setup::check_key(&capture, key, "D0D1D2D3D4D5D6D7D8D9DADBDCDDDEDE"),
        Err(PreviewError::WrongAuthKey)
    );
    let wrong = setup::check_key(&capture, "0F0E0D0C0B0A09080706050403020100", "");
    assert_eq!(wrong, Err(PreviewError::WrongKey));
    assert!(
        wrong
            .unwrap_err()
            .to_string()
            .starts_with("This key does not open the meter's data.")
    );
    assert_eq!(setup::check_key(&capture, "", ""), Err(PreviewError::NoKey));
}
