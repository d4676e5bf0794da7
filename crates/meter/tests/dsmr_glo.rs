//! General-glo-ciphering on real frames: the Smarty telegram and an encrypted Kaifa HAN APDU.

use hearth_meter::glo::{self, GloError, Key};

fn fixture(name: &str) -> Vec<u8> {
    let path = format!("{}/tests/fixtures/dsmr/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn keys(name: &str) -> (Key, Key) {
    let text = String::from_utf8(fixture(name)).unwrap();
    let get = |field: &str| {
        let line = text.lines().find(|l| l.starts_with(field)).unwrap();
        Key::from_hex(line.split('=').nth(1).unwrap()).unwrap()
    };
    (get("encryption_key"), get("authentication_key"))
}

#[test]
fn smarty_frame_decrypts_to_the_sagemcom_telegram() {
    let sealed = fixture("sagemcom_t210_d_r.encrypted.bin");
    let (key, ak) = keys("sagemcom_t210_d_r.encrypted.keys");
    let frame = glo::parse(&sealed).unwrap();
    assert_eq!(&frame.system_title, b"SYSTEMID");
    assert_eq!(frame.security_control, 0x30);
    assert_eq!(frame.frame_counter, 0x1000_0001);
    // Length 82 01 F2 = 498 = SC + counter (5) + 481-byte telegram + 12-byte tag.
    assert_eq!(frame.len, 511);
    assert_eq!(frame.ciphertext.len(), 481);
    assert_eq!(frame.auth_tag.len(), 12);
    let plain = frame.decrypt(&key, Some(&ak)).unwrap();
    assert_eq!(plain, fixture("sagemcom_t210_d_r.p1"));
    // The wrong authentication key fails the tag check; no AK skips it.
    assert_eq!(
        frame.decrypt(&key, Some(&glo::SMARTY_AUTH_KEY)),
        Err(GloError::Authentication)
    );
    assert_eq!(
        frame.decrypt(&key, None).unwrap(),
        fixture("sagemcom_t210_d_r.p1")
    );
    assert_eq!(frame.decrypt(&ak, Some(&ak)), Err(GloError::Authentication));
}

#[test]
fn kaifa_han_apdu_decrypts_to_the_plain_list() {
    let hdlc = fixture("kaifa_no_list_2.gcm.hdlc");
    let plain_hdlc = fixture("kaifa_no_list_2.hdlc");
    let (key, ak) = keys("kaifa_no_list_2.gcm.keys");
    // HDLC: 7E, format (2), addresses 41 08 83, control, HCS (2), LLC E6 E7 00, APDU, FCS (2), 7E.
    let apdu = &hdlc[12..hdlc.len() - 3];
    let frame = glo::parse(apdu).unwrap();
    assert_eq!(&frame.system_title, b"KFM\0\0\0\0\x01");
    assert_eq!(frame.frame_counter, 0x123);
    assert_eq!(frame.len, apdu.len());
    let plain = frame.decrypt(&key, Some(&ak)).unwrap();
    assert_eq!(plain, &plain_hdlc[12..plain_hdlc.len() - 3]);
    assert_eq!(plain[0], 0x0F, "a data-notification APDU");
    let mut damaged = apdu.to_vec();
    damaged[40] ^= 0x80;
    assert_eq!(
        glo::decrypt(&damaged, &key, Some(&ak)),
        Err(GloError::Authentication)
    );
}
