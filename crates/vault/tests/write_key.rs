//! The vault's write-only key (issue 18 "Secrets wiped", issue 21 item 1): what is sealed to
//! its public half, which anyone can read, opens only with that vault unlocked; a replaced
//! clear public key is put back; rekeying keeps it working.

use hearth_vault::write_key::{BLOCK_OVERHEAD, PublicKey, seal_to};
use hearth_vault::{CreateOptions, KdfParams, RestoreOptions, Vault, VaultError};
use rusqlite::{Connection, params};
use std::path::{Path, PathBuf};

const PASSPHRASE: &str = "correct horse battery";
const LABEL: &str = "app.locked-readings";

fn create(dir: &Path, name: &str) -> (PathBuf, Vault) {
    let path = dir.join(name);
    let options = CreateOptions {
        kdf: KdfParams::INSECURE_FOR_TESTS,
        time_zone: Some("UTC".into()),
    };
    let v = Vault::create(&path, PASSPHRASE, &options).expect("create");
    (path, v)
}

/// The clear public key straight from the file, as any process can read it.
fn clear_public(path: &Path) -> PublicKey {
    Vault::write_key_public(path)
        .expect("read without a passphrase")
        .expect("a new vault has a write-only key")
}

/// Every setting row's sealed bytes, as the file holds them.
fn setting_blobs(path: &Path) -> Vec<Vec<u8>> {
    let db = Connection::open(path).expect("sqlite");
    let mut stmt = db.prepare("SELECT sealed FROM setting").expect("prepare");
    stmt.query_map([], |r| r.get(0))
        .expect("rows")
        .collect::<Result<_, _>>()
        .expect("rows")
}

fn is_damaged<T>(r: Result<T, VaultError>) -> bool {
    matches!(r, Err(VaultError::Damaged { .. }))
}

#[test]
fn a_block_sealed_to_the_public_key_opens_only_with_that_vault_unlocked() {
    let dir = tempfile::tempdir().expect("dir");
    let (path_a, a) = create(dir.path(), "a.hearth");
    let (_path_b, b) = create(dir.path(), "b.hearth");
    // Read without any passphrase, while the writer holds the vault.
    let public = clear_public(&path_a);
    assert_eq!(a.write_key().expect("sealed pair"), Some(public));
    assert_eq!(
        public
            .vault_id()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<String>(),
        a.id_hex()
    );
    let payload: Vec<u8> = (0..5000u32).map(|i| (i * 31 % 251) as u8).collect();
    let block = seal_to(&public, LABEL, &payload).expect("seal");
    assert_eq!(block.len(), payload.len() + BLOCK_OVERHEAD);
    assert_eq!(BLOCK_OVERHEAD, 73);
    assert!(
        !block
            .windows(16)
            .any(|w| payload.windows(16).any(|p| p == w)),
        "no 16 bytes of the payload in the block"
    );
    assert_eq!(
        &a.open_sealed_block(LABEL, &block).expect("open")[..],
        &payload[..]
    );
    // A read-only open (beside the writer) opens it too.
    let reader = Vault::open_read_only(&path_a, PASSPHRASE).expect("reader");
    assert_eq!(
        &reader.open_sealed_block(LABEL, &block).expect("open")[..],
        &payload[..]
    );

    // Another vault, another label, any changed byte, a cut: refused.
    assert!(is_damaged(b.open_sealed_block(LABEL, &block)));
    assert!(is_damaged(a.open_sealed_block("app.other", &block)));
    for i in [0, 1, 20, 33, 50, 57, 100, block.len() - 1] {
        let mut bad = block.clone();
        bad[i] ^= 0x01;
        assert!(is_damaged(a.open_sealed_block(LABEL, &bad)), "byte {i}");
    }
    assert!(is_damaged(
        a.open_sealed_block(LABEL, &block[..block.len() - 1])
    ));
    assert!(is_damaged(
        a.open_sealed_block(LABEL, &block[..BLOCK_OVERHEAD - 1])
    ));
    assert!(is_damaged(a.open_sealed_block(LABEL, &[])));
    // The same public key sealed for vault b's id (a key moved between vaults): refused.
    let moved = PublicKey::from_parts(
        b.write_key().unwrap().unwrap().vault_id(),
        public.to_bytes(),
    );
    let block_b = seal_to(&moved, LABEL, &payload).expect("seal");
    assert!(is_damaged(a.open_sealed_block(LABEL, &block_b)));
    // Two seals of the same payload differ (fresh ephemeral key and nonce).
    assert_ne!(
        seal_to(&public, LABEL, b"x").unwrap(),
        seal_to(&public, LABEL, b"x").unwrap()
    );
    // Each vault has its own pair.
    assert_ne!(clear_public(&_path_b).to_bytes(), public.to_bytes());
}

#[test]
fn a_public_key_of_low_order_is_refused() {
    // All zeros (and the other small-order points) give an all-zero shared secret: anyone
    // could open what was sealed to it.
    let zero = PublicKey::from_parts([1; 16], [0; 32]);
    assert!(is_damaged(seal_to(&zero, LABEL, b"reading")));
    let mut one = [0u8; 32];
    one[0] = 1;
    assert!(is_damaged(seal_to(
        &PublicKey::from_parts([1; 16], one),
        LABEL,
        b"r"
    )));
}

#[test]
fn a_replaced_clear_public_key_is_put_back_on_the_next_writer_open_and_counted() {
    let dir = tempfile::tempdir().expect("dir");
    let (path, v) = create(dir.path(), "v.hearth");
    let (other_path, other) = create(dir.path(), "attacker.hearth");
    let genuine = clear_public(&path);
    let theirs = clear_public(&other_path);
    drop(other);
    v.close().expect("close");
    // Someone with write access puts their own public key in the clear copy.
    let db = Connection::open(&path).expect("sqlite");
    db.execute(
        "UPDATE write_key SET public = ?1 WHERE id = 1",
        params![&theirs.to_bytes()[..]],
    )
    .expect("swap");
    drop(db);
    assert_eq!(clear_public(&path).to_bytes(), theirs.to_bytes());
    // Unlocked, the vault still names its own key (from the sealed record) ...
    let reader = Vault::open_read_only(&path, PASSPHRASE).expect("reader");
    assert_eq!(reader.write_key().unwrap(), Some(genuine));
    assert_eq!(reader.write_key_replacements().unwrap(), 0);
    // ... and a block sealed to the planted key is not the vault's.
    let planted = seal_to(&clear_public(&path), LABEL, b"reading").unwrap();
    assert!(is_damaged(reader.open_sealed_block(LABEL, &planted)));
    drop(reader);
    // The next writer open puts the genuine key back and counts the replacement.
    let v = Vault::open(&path, PASSPHRASE).expect("open");
    assert_eq!(clear_public(&path), genuine);
    assert_eq!(v.write_key_replacements().unwrap(), 1);
    v.close().expect("close");
    // Deleted (as a crash between the two writes leaves it): put back, not counted.
    let db = Connection::open(&path).expect("sqlite");
    db.execute("DELETE FROM write_key", []).expect("delete");
    drop(db);
    assert_eq!(Vault::write_key_public(&path).unwrap(), None);
    let v = Vault::open(&path, PASSPHRASE).expect("open");
    assert_eq!(clear_public(&path), genuine);
    assert_eq!(v.write_key_replacements().unwrap(), 1);
    // Intact: nothing changes.
    drop(v);
    let v = Vault::open(&path, PASSPHRASE).expect("open");
    assert_eq!(v.write_key_replacements().unwrap(), 1);
    assert_eq!(v.write_key().unwrap(), Some(genuine));
}

#[test]
fn after_rekey_a_block_sealed_before_still_opens() {
    let dir = tempfile::tempdir().expect("dir");
    let (path, mut v) = create(dir.path(), "v.hearth");
    let public = clear_public(&path);
    let block = seal_to(&public, LABEL, b"sealed while locked, before the rekey").unwrap();
    let sealed_before = setting_blobs(&path);
    let report = v
        .rekey(
            "a new passphrase",
            Some(KdfParams::INSECURE_FOR_TESTS),
            &mut |_, _| {},
        )
        .expect("rekey");
    assert_eq!(report.damaged, 0);
    assert_eq!(
        &v.open_sealed_block(LABEL, &block).unwrap()[..],
        b"sealed while locked, before the rekey"
    );
    v.close().expect("close");
    // The pair is the same, sealed again under the new data key.
    assert_eq!(clear_public(&path), public);
    // Every setting (the private half among them; their names are keyed) sealed anew.
    let sealed_after = setting_blobs(&path);
    assert_eq!(sealed_after.len(), sealed_before.len());
    assert!(sealed_after.iter().all(|s| !sealed_before.contains(s)));
    let v = Vault::open(&path, "a new passphrase").expect("open with the new passphrase");
    assert_eq!(v.write_key_replacements().unwrap(), 0);
    assert_eq!(
        &v.open_sealed_block(LABEL, &block).unwrap()[..],
        b"sealed while locked, before the rekey"
    );
}

/// The real format-1 vault an older build wrote (tests/fixtures/vault): no table, no pair.
#[test]
fn a_vault_from_before_write_only_keys_gets_one_at_its_next_writer_open() {
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("old.hearth");
    std::fs::copy(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/vault/format1-before-key-slots.hearth"),
        &path,
    )
    .expect("copy");
    const OLD_PW: &str = "format-1 passphrase";
    assert_eq!(Vault::write_key_public(&path).unwrap(), None);
    let reader = Vault::open_read_only(&path, OLD_PW).expect("read-only open");
    assert_eq!(reader.write_key().unwrap(), None);
    // A block sealed to another vault's key is not opened by this one.
    let (other, _) = create(dir.path(), "other.hearth");
    let block = seal_to(&clear_public(&other), LABEL, b"x").unwrap();
    assert!(is_damaged(reader.open_sealed_block(LABEL, &block)));
    drop(reader);
    // Read-only opens change nothing; the writer open makes a new pair.
    assert_eq!(Vault::write_key_public(&path).unwrap(), None);
    let v = Vault::open(&path, OLD_PW).expect("writer open");
    let new = clear_public(&path);
    assert_eq!(v.write_key().unwrap(), Some(new));
    assert_eq!(v.write_key_replacements().unwrap(), 0);
    let block = seal_to(&new, LABEL, b"y").unwrap();
    assert_eq!(&v.open_sealed_block(LABEL, &block).unwrap()[..], b"y");
}

#[test]
fn a_restored_vault_keeps_its_own_pair_and_backups_need_no_clear_key() {
    let dir = tempfile::tempdir().expect("dir");
    let (path_a, mut a) = create(dir.path(), "a.hearth");
    let (path_b, mut b) = create(dir.path(), "b.hearth");
    let (key_a, key_b) = (clear_public(&path_a), clear_public(&path_b));
    let out = dir.path().join("a.backup");
    a.backup(&out, None).expect("backup");
    // The backup holds the sealed settings (the pair among them), not the clear table.
    assert_eq!(Vault::write_key_public(&out).unwrap(), None);
    let take = |_: &str| true;
    let options = RestoreOptions {
        now: 1_767_225_600,
        take_setting: &take,
    };
    b.restore(&out, PASSPHRASE, &options).expect("restore");
    assert_eq!(b.write_key().unwrap(), Some(key_b));
    assert_eq!(clear_public(&path_b), key_b);
    let block = seal_to(&key_a, LABEL, b"for a").unwrap();
    assert!(is_damaged(b.open_sealed_block(LABEL, &block)));
    assert_eq!(&a.open_sealed_block(LABEL, &block).unwrap()[..], b"for a");
}
