//! Increments: a collector box with no vault and no secret leaves its readings, sealed to the
//! vault's write-only key, as files in a folder that any file sync carries (Syncthing, a USB
//! stick); the unlocked vault merges them in ([`Vault::merge_folder`]), in any order, as often
//! as it likes.
//!
//! # The card
//!
//! The box needs the vault's id and public write-only key, nothing secret. The unlocked side
//! writes them into the folder as a small text file, [`CARD_NAME`] ([`Card`]):
//!
//! ```text
//! hearth-write-key 1
//! vault <32 hex digits>
//! key <64 hex digits>
//! ```
//!
//! (lines starting with `#` are comments). Anyone who can write the folder can replace the
//! card; the box therefore pins the first card it sees (at the edge, `hearth_app::sync`) and a
//! merge puts back a card naming another key for this vault, and refuses a folder whose card
//! names another vault.
//!
//! # An increment file
//!
//! `hearth-<run>-<block>.hinc`: `run` 16 hex digits drawn at random when a collector starts,
//! `block` its blocks counted from 0 (six digits or more). Names carry no meter time. Bytes:
//!
//! ```text
//! hearth-increment 1\n
//! vault <32 hex digits>\n
//! sealed <length of the sealed block, decimal>\n
//! <the sealed block>
//! ```
//!
//! The sealed block is exactly an inbox block ([`crate::write_only`]): the readings coded,
//! padded and sealed to the write-only key under the label [`crate::write_only::LABEL`], so
//! taking it in is the inbox's code. Each file is written as `.NAME.partial` and renamed when
//! whole: the open block's file is replaced at every flush (a kill loses at most
//! [`crate::FLUSH_INTERVAL`]), a closed block's never changes again. A file shorter than its
//! header says (still being copied, cut short) is skipped and tried again at the next merge;
//! one that does not open is refused.
//!
//! # Merging
//!
//! A merge reads every `*.hinc` file of the folder (hidden files, including `.partial` ones,
//! are left alone). Each file's SHA-256 is remembered once its readings are stored (a sealed
//! setting, [`MERGED_SETTING`], pruned to the files still in the folder), so an unchanged
//! file is not opened again; a changed one (the open block sealed again) is merged again, its
//! readings already stored dropped as duplicates. Files stay in the folder: it belongs to the
//! sync tool.

use crate::error::{Result as VaultResult, VaultError};
use crate::vault::Vault;
use crate::write_key::PublicKey;
use sha2::{Digest, Sha256};
use std::collections::BTreeSet;
use std::fmt;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

/// The card's file name in the folder.
pub const CARD_NAME: &str = "hearth-write-key.txt";
/// The card's first line.
const CARD_MAGIC: &str = "hearth-write-key 1";
/// An increment file's first line.
const MAGIC: &str = "hearth-increment 1";
/// The extension of increment files.
pub const EXTENSION: &str = "hinc";
/// The sealed setting holding the digests of merged files.
pub const MERGED_SETTING: &str = "vault.merged_increments";
/// No increment is larger (a block of 3600 readings padded is well under 1 MiB); a larger
/// file is refused unread.
const MAX_FILE: u64 = 16 << 20;
/// A card is a few lines.
const MAX_CARD: u64 = 4096;
/// Readings taken in per transaction (at most; a group ends after the file that passes it).
const GROUP_READINGS: usize = 100_000;

/// Why a folder could not be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FolderError {
    /// The folder's card belongs to another vault.
    #[error(
        "the folder {} holds the collector card of another vault (id ending {other}): it is \
         not this vault's sync folder. Use another folder, or delete {CARD_NAME} there if that \
         vault is gone",
        .dir.display()
    )]
    OtherVault {
        /// The folder.
        dir: PathBuf,
        /// The last 8 hex digits of the other vault's id.
        other: String,
    },
    /// The folder has no card (the unlocked side has not merged it yet).
    #[error(
        "the folder {} has no collector card ({CARD_NAME}): run `hearth merge {}` once on \
         the computer that holds the vault, and let the folder sync",
        .dir.display(), .dir.display()
    )]
    NoCard {
        /// The folder.
        dir: PathBuf,
    },
    /// The card is not one.
    #[error("{} is not a Hearth collector card: {why}", .path.display())]
    BadCard {
        /// The card file.
        path: PathBuf,
        /// What is wrong with it.
        why: &'static str,
    },
    /// The folder's card is not the one this collector box pinned when it first used the
    /// folder.
    #[error(
        "the collector card in {} changed since this box first used it (key {pinned}, now \
         {now}): someone who can write the folder may want your readings sealed to them. If \
         you made a new vault or moved it, check the key `hearth merge` shows on your \
         computer, then accept the new card with --accept-new-card (or delete {})",
        .dir.display(), .pin.display()
    )]
    CardChanged {
        /// The folder.
        dir: PathBuf,
        /// The pinned card's fingerprint.
        pinned: String,
        /// The folder's card's fingerprint.
        now: String,
        /// The pin file.
        pin: PathBuf,
    },
    /// Reading or writing the folder failed.
    #[error("cannot use the folder {}: {source}", .path.display())]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// What the system said.
        source: std::io::Error,
    },
    /// The vault refused.
    #[error(transparent)]
    Vault(#[from] VaultError),
}

/// Refuses what is not a folder, before anything is read or written in it.
fn check_folder(dir: &Path) -> std::result::Result<(), FolderError> {
    let meta = std::fs::metadata(dir).map_err(io(dir))?;
    if meta.is_dir() {
        return Ok(());
    }
    Err(FolderError::Io {
        path: dir.to_path_buf(),
        source: std::io::Error::new(std::io::ErrorKind::NotADirectory, "not a folder"),
    })
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> FolderError + '_ {
    move |source| FolderError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// The card: what a collector box needs to seal for a vault (not secret).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Card(pub PublicKey);

impl Card {
    /// The card's text.
    pub fn to_text(&self) -> String {
        format!(
            "# Hearth collector card: a collector box seals readings for this vault with it.\n\
             # Not secret. Written by the computer that holds the vault.\n\
             {CARD_MAGIC}\nvault {}\nkey {}\n",
            hex(&self.0.vault_id()),
            hex(&self.0.to_bytes())
        )
    }

    /// Parses a card's text.
    pub fn parse(text: &str) -> std::result::Result<Card, &'static str> {
        let mut lines = text
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'));
        if lines.next() != Some(CARD_MAGIC) {
            return Err("its first line is not `hearth-write-key 1`");
        }
        let vault = lines
            .next()
            .and_then(|l| l.strip_prefix("vault "))
            .and_then(|h| unhex::<16>(h.trim()))
            .ok_or("it has no vault id (32 hex digits)")?;
        let key = lines
            .next()
            .and_then(|l| l.strip_prefix("key "))
            .and_then(|h| unhex::<32>(h.trim()))
            .ok_or("it has no key (64 hex digits)")?;
        if lines.next().is_some() {
            return Err("it has more lines than a card");
        }
        Ok(Card(PublicKey::from_parts(vault, key)))
    }

    /// The card in `dir`; `None` when there is none.
    pub fn read(dir: &Path) -> std::result::Result<Option<Card>, FolderError> {
        let path = dir.join(CARD_NAME);
        let file = match std::fs::File::open(&path) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(io(&path)(e)),
        };
        let mut text = String::new();
        file.take(MAX_CARD)
            .read_to_string(&mut text)
            .map_err(|_| FolderError::BadCard {
                path: path.clone(),
                why: "it is not text",
            })?;
        Card::parse(&text)
            .map(Some)
            .map_err(|why| FolderError::BadCard { path, why })
    }

    /// Writes the card into `dir` (under a hidden name, renamed when whole).
    pub fn write(&self, dir: &Path) -> std::result::Result<(), FolderError> {
        write_whole(dir, CARD_NAME, self.to_text().as_bytes())
    }

    /// A short fingerprint of the key to compare by eye: 4 groups of 4 hex digits of the
    /// SHA-256 of the vault id and key.
    pub fn fingerprint(&self) -> String {
        let mut h = Sha256::new();
        h.update(self.0.vault_id());
        h.update(self.0.to_bytes());
        let d = hex(&h.finalize()[..8]);
        format!("{}-{}-{}-{}", &d[0..4], &d[4..8], &d[8..12], &d[12..16])
    }
}

/// How a collector box came to trust a folder's card ([`Card::pinned`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Pinned {
    /// The first use of this folder: the card is pinned from now on.
    First(Card),
    /// The card this box pinned.
    Same(Card),
    /// A changed card, accepted as asked: pinned in place of the old one.
    Accepted(Card),
}

impl Pinned {
    /// The card.
    pub fn card(&self) -> Card {
        match *self {
            Pinned::First(c) | Pinned::Same(c) | Pinned::Accepted(c) => c,
        }
    }
}

impl Card {
    /// The folder's card, checked against the one this box pinned for the folder (trust on
    /// first use). Pins live in `pins` (the box's own data folder, made owner-only), one file
    /// per folder named by a hash of its canonical path. A card that differs from the pinned
    /// one is refused ([`FolderError::CardChanged`]) unless `accept_changed`.
    pub fn pinned(
        dir: &Path,
        pins: &Path,
        accept_changed: bool,
    ) -> std::result::Result<Pinned, FolderError> {
        check_folder(dir)?;
        let card = Card::read(dir)?.ok_or_else(|| FolderError::NoCard {
            dir: dir.to_path_buf(),
        })?;
        let canonical = dir.canonicalize().map_err(io(dir))?;
        let digest = Sha256::digest(canonical.as_os_str().as_encoded_bytes());
        let pin = pins.join(format!("{}.txt", hex(&digest[..16])));
        let pinned = match std::fs::read_to_string(&pin) {
            Ok(text) => Card::parse(&text).ok(),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(e) => return Err(io(&pin)(e)),
        };
        let outcome = match pinned {
            Some(p) if p == card => return Ok(Pinned::Same(card)),
            Some(p) if !accept_changed => {
                return Err(FolderError::CardChanged {
                    dir: dir.to_path_buf(),
                    pinned: p.fingerprint(),
                    now: card.fingerprint(),
                    pin,
                });
            }
            Some(_) => Pinned::Accepted(card),
            None => Pinned::First(card),
        };
        crate::private::create_dirs(pins).map_err(io(pins))?;
        let shown = canonical.display().to_string().replace(['\n', '\r'], " ");
        let text = format!("# pinned for {shown}\n{}", card.to_text());
        let name = pin.file_name().map(|n| n.to_string_lossy().into_owned());
        write_whole(pins, &name.unwrap_or_default(), text.as_bytes())?;
        Ok(outcome)
    }
}

/// Writes `bytes` to `dir/name` whole or not at all: `.name.partial` (owner-only), synced,
/// renamed over `name`, the folder synced.
fn write_whole(dir: &Path, name: &str, bytes: &[u8]) -> std::result::Result<(), FolderError> {
    let partial = dir.join(format!(".{name}.partial"));
    let path = dir.join(name);
    let _ = std::fs::remove_file(&partial);
    let written = (|| {
        crate::private::create_file(&partial)?;
        let mut file = std::fs::OpenOptions::new().write(true).open(&partial)?;
        file.write_all(bytes)?;
        file.sync_all()
    })();
    if let Err(e) = written {
        // A full disk: what did not fit is not left behind.
        let _ = std::fs::remove_file(&partial);
        return Err(io(&path)(e));
    }
    std::fs::rename(&partial, &path).map_err(io(&path))?;
    if let Ok(d) = std::fs::File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(())
}

/// Where a write-only collector's blocks go when it writes to a folder (see
/// [`crate::write_only`]).
pub(crate) struct FolderSink {
    dir: PathBuf,
    vault_id: [u8; 16],
    run: String,
    /// The block being written (its number), once it has a file.
    open: Option<u64>,
    next: u64,
}

impl FolderSink {
    pub(crate) fn new(dir: &Path, vault_id: [u8; 16]) -> VaultResult<FolderSink> {
        let meta = std::fs::metadata(dir)?;
        if !meta.is_dir() {
            return Err(VaultError::Io(std::io::Error::new(
                std::io::ErrorKind::NotADirectory,
                format!("{} is not a folder", dir.display()),
            )));
        }
        let mut run = [0u8; 8];
        getrandom::fill(&mut run).map_err(|_| VaultError::Random)?;
        Ok(FolderSink {
            dir: dir.to_path_buf(),
            vault_id,
            run: hex(&run),
            open: None,
            next: 0,
        })
    }

    pub(crate) fn dir(&self) -> &Path {
        &self.dir
    }

    /// Writes the open block's file (a new one when no block is open). Returns whether it
    /// started a new block.
    pub(crate) fn write(&mut self, sealed: &[u8]) -> VaultResult<bool> {
        let (block, new) = match self.open {
            Some(b) => (b, false),
            None => (self.next, true),
        };
        let name = format!("hearth-{}-{block:06}.{EXTENSION}", self.run);
        let mut bytes = Vec::with_capacity(sealed.len() + 80);
        bytes.extend_from_slice(
            format!(
                "{MAGIC}\nvault {}\nsealed {}\n",
                hex(&self.vault_id),
                sealed.len()
            )
            .as_bytes(),
        );
        bytes.extend_from_slice(sealed);
        write_whole(&self.dir, &name, &bytes).map_err(|e| match e {
            FolderError::Io { source, .. } => VaultError::Io(source),
            FolderError::Vault(v) => v,
            other => VaultError::Io(std::io::Error::other(other.to_string())),
        })?;
        if new {
            self.open = Some(block);
            self.next = block + 1;
        }
        Ok(new)
    }

    /// The open block is closed: the next write starts a new file.
    pub(crate) fn close_block(&mut self) {
        self.open = None;
    }
}

/// What is wrong with a file a merge did not take (see [`FileNote`]).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum FileProblem {
    /// Shorter than its header says: still being copied or cut short. Tried again next time.
    CutShort {
        /// Bytes there.
        have: u64,
        /// Bytes its header announces (`None`: cut inside the header).
        want: Option<u64>,
    },
    /// A hidden `.partial` file: a collector is writing it, or was stopped while it did.
    Unfinished,
    /// It could not be read (tried again next time).
    Unreadable(String),
    /// It is not an increment file (no header, or one that does not parse).
    NotAnIncrement,
    /// It belongs to another vault.
    OtherVault {
        /// The last 8 hex digits of the other vault's id.
        other: String,
    },
    /// Longer than its header says.
    TooLong,
    /// Larger than any increment.
    TooLarge,
    /// Its block does not open with this vault's write-only key, or its readings do not
    /// decode: changed after it was sealed (or sealed to a key that is not this vault's).
    DoesNotOpen(&'static str),
}

impl FileProblem {
    /// Whether a later merge tries the file again (it may be whole by then).
    pub fn tried_again(&self) -> bool {
        matches!(
            self,
            FileProblem::CutShort { .. } | FileProblem::Unfinished | FileProblem::Unreadable(_)
        )
    }
}

impl fmt::Display for FileProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FileProblem::CutShort { have, want } => {
                write!(f, "cut short ({have} bytes")?;
                if let Some(want) = want {
                    write!(f, " of {want}")?;
                }
                write!(f, "; still being copied?): will be tried again")
            }
            FileProblem::Unfinished => write!(
                f,
                "unfinished (.partial): a collector is writing it, or was stopped while it did (then \
                 it is safe to delete)"
            ),
            FileProblem::Unreadable(why) => {
                write!(f, "cannot be read ({why}): will be tried again")
            }
            FileProblem::NotAnIncrement => write!(f, "not a Hearth increment file"),
            FileProblem::OtherVault { other } => {
                write!(f, "it belongs to another vault (id ending {other})")
            }
            FileProblem::TooLong => write!(f, "longer than its header says (changed)"),
            FileProblem::TooLarge => write!(f, "far larger than any increment"),
            FileProblem::DoesNotOpen(why) => write!(f, "{why}"),
        }
    }
}

/// A file a merge did not take, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileNote {
    /// Its name in the folder.
    pub file: String,
    /// Why.
    pub problem: FileProblem,
}

/// What a merge did with the folder's card.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum CardAction {
    /// The card was there and right.
    #[default]
    Kept,
    /// There was none: written.
    Written,
    /// It named another key (or did not parse): the vault's own was put back. Boxes that
    /// pinned the old card refuse the new one until told to accept it.
    Replaced,
}

/// What [`Vault::merge_folder`] took in.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MergeReport {
    /// Files opened and taken in.
    pub files: u64,
    /// Files merged before and unchanged since (not opened again).
    pub unchanged: u64,
    /// Readings in the files taken in.
    pub readings: u64,
    /// Of those, readings the vault did not have (stored, or merged into their hours).
    pub added: u64,
    /// Of those, readings the vault already had.
    pub duplicates: u64,
    /// Of those, readings dated after the clock given to [`Vault::set_clock`] (refused).
    pub future: u64,
    /// Files left for a later merge, each with why.
    pub skipped: Vec<FileNote>,
    /// Files refused, each with why (left in the folder, never taken).
    pub refused: Vec<FileNote>,
    /// What happened to the card.
    pub card: CardAction,
}

/// One file's bytes judged.
enum Parsed<'a> {
    Block(&'a [u8]),
    Problem(FileProblem),
}

fn parse<'a>(bytes: &'a [u8], vault_id: &[u8; 16]) -> Parsed<'a> {
    let mut rest = bytes;
    let mut line = || -> Option<&'a str> {
        let end = rest.iter().position(|&b| b == b'\n')?;
        let l = std::str::from_utf8(&rest[..end]).ok()?;
        rest = &rest[end + 1..];
        Some(l)
    };
    // A file cut inside its header is cut short when what is there is a header's start.
    let header = (line(), line(), line());
    let (Some(magic), Some(vault), Some(sealed)) = header else {
        return if MAGIC
            .as_bytes()
            .starts_with(&bytes[..bytes.len().min(MAGIC.len())])
            && bytes.len() < 200
        {
            Parsed::Problem(FileProblem::CutShort {
                have: bytes.len() as u64,
                want: None,
            })
        } else {
            Parsed::Problem(FileProblem::NotAnIncrement)
        };
    };
    if magic != MAGIC {
        return Parsed::Problem(FileProblem::NotAnIncrement);
    }
    let Some(id) = vault.strip_prefix("vault ").and_then(unhex::<16>) else {
        return Parsed::Problem(FileProblem::NotAnIncrement);
    };
    if &id != vault_id {
        return Parsed::Problem(FileProblem::OtherVault { other: tail(&id) });
    }
    let Some(len) = sealed
        .strip_prefix("sealed ")
        .and_then(|n| n.parse::<u64>().ok())
    else {
        return Parsed::Problem(FileProblem::NotAnIncrement);
    };
    let have = rest.len() as u64;
    if have < len {
        return Parsed::Problem(FileProblem::CutShort {
            have: bytes.len() as u64,
            want: Some(bytes.len() as u64 - have + len),
        });
    }
    if have > len {
        return Parsed::Problem(FileProblem::TooLong);
    }
    Parsed::Block(rest)
}

/// The last 8 hex digits of a vault id (enough to tell vaults apart in a message).
fn tail(id: &[u8; 16]) -> String {
    hex(&id[12..])
}

impl Vault {
    /// Merges a sync folder's increments into the vault (see the module): writes or checks the
    /// folder's card, takes in every whole increment file not merged before, and remembers
    /// them. Needs the writer with the data key. Readings dated after the clock given to
    /// [`Vault::set_clock`] are refused and counted.
    pub fn merge_folder(&mut self, dir: &Path) -> std::result::Result<MergeReport, FolderError> {
        let mut report = MergeReport::default();
        if !self.is_writer() {
            return Err(VaultError::ReadOnly.into());
        }
        check_folder(dir)?;
        let public = self.write_key()?.ok_or(VaultError::NoWriteKey)?;
        let vault_id = public.vault_id();
        report.card = match Card::read(dir) {
            Ok(Some(card)) if card.0 == public => CardAction::Kept,
            Ok(Some(card)) if card.0.vault_id() != vault_id => {
                return Err(FolderError::OtherVault {
                    dir: dir.to_path_buf(),
                    other: tail(&card.0.vault_id()),
                });
            }
            Ok(None) => {
                Card(public).write(dir)?;
                CardAction::Written
            }
            Ok(Some(_)) | Err(FolderError::BadCard { .. }) => {
                Card(public).write(dir)?;
                CardAction::Replaced
            }
            Err(e) => return Err(e),
        };
        let mut remembered = self.merged_digests()?;
        let mut present = BTreeSet::new();
        let mut names = Vec::new();
        for entry in std::fs::read_dir(dir).map_err(io(dir))? {
            let entry = entry.map_err(io(dir))?;
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.starts_with('.') {
                if name.ends_with(&format!(".{EXTENSION}.partial")) {
                    report.skipped.push(FileNote {
                        file: name,
                        problem: FileProblem::Unfinished,
                    });
                }
                continue;
            }
            if name.ends_with(&format!(".{EXTENSION}")) {
                names.push(name);
            }
        }
        names.sort();
        report.skipped.sort_by(|a, b| a.file.cmp(&b.file));

        let before = self.stats();
        let mut group = Vec::new();
        let mut group_digests = Vec::new();
        for name in names {
            let path = dir.join(&name);
            let bytes = match read_capped(&path) {
                Ok(Some(b)) => b,
                Ok(None) => {
                    report.refused.push(FileNote {
                        file: name,
                        problem: FileProblem::TooLarge,
                    });
                    continue;
                }
                Err(e) => {
                    report.skipped.push(FileNote {
                        file: name,
                        problem: FileProblem::Unreadable(e.to_string()),
                    });
                    continue;
                }
            };
            let digest: [u8; 32] = Sha256::digest(&bytes).into();
            if remembered.contains(&digest) {
                present.insert(digest);
                report.unchanged += 1;
                continue;
            }
            let block = match parse(&bytes, &vault_id) {
                Parsed::Block(b) => b,
                Parsed::Problem(problem) => {
                    let note = FileNote {
                        file: name,
                        problem,
                    };
                    if note.problem.tried_again() {
                        report.skipped.push(note);
                    } else {
                        report.refused.push(note);
                    }
                    continue;
                }
            };
            match crate::write_only::open_block(self, block) {
                Ok(mut readings) => {
                    report.files += 1;
                    report.readings += readings.len() as u64;
                    group.append(&mut readings);
                    group_digests.push(digest);
                    present.insert(digest);
                }
                Err(why) => report.refused.push(FileNote {
                    file: name,
                    problem: FileProblem::DoesNotOpen(why),
                }),
            }
            if group.len() >= GROUP_READINGS {
                self.store_group(&mut group, &mut group_digests, &mut remembered)?;
            }
        }
        self.store_group(&mut group, &mut group_digests, &mut remembered)?;
        // Forget files no longer in the folder (the setting stays the folder's size).
        if remembered != present {
            self.put_merged_digests(&present)?;
        }
        let after = self.stats();
        report.added = (after.stored + after.late) - (before.stored + before.late);
        report.duplicates = after.duplicates - before.duplicates;
        report.future = after.future - before.future;
        // The session's counters are the collector's, not the folder's.
        if let Some(w) = self.writer.as_mut() {
            w.stats = before;
        }
        Ok(report)
    }

    /// Stores a group's readings (one checkpoint), then remembers its files. A crash between
    /// the two merges them again next time, adding nothing.
    fn store_group(
        &mut self,
        readings: &mut Vec<hearth_meter::Reading>,
        digests: &mut Vec<[u8; 32]>,
        remembered: &mut BTreeSet<[u8; 32]>,
    ) -> VaultResult<()> {
        if digests.is_empty() {
            return Ok(());
        }
        // Oldest first: the writer's fast path for what is newer than the vault, one merge
        // per hour for the rest.
        readings.sort_by_key(|r| r.time.map_or(i64::MIN, |t| t.unix));
        self.append(readings)?;
        readings.clear();
        self.flush()?;
        remembered.extend(digests.drain(..));
        self.put_merged_digests(remembered)
    }

    fn merged_digests(&self) -> VaultResult<BTreeSet<[u8; 32]>> {
        let Some(bytes) = self.get_setting(MERGED_SETTING)? else {
            return Ok(BTreeSet::new());
        };
        if bytes.len() % 32 != 0 {
            // Forgetting only costs opening the files again (their readings are duplicates).
            return Ok(BTreeSet::new());
        }
        Ok(bytes
            .chunks_exact(32)
            .map(|c| c.try_into().expect("32 bytes"))
            .collect())
    }

    fn put_merged_digests(&mut self, digests: &BTreeSet<[u8; 32]>) -> VaultResult<()> {
        let bytes: Vec<u8> = digests.iter().flatten().copied().collect();
        self.put_setting(MERGED_SETTING, &bytes)
    }
}

/// The file's bytes; `None` when it is larger than any increment.
fn read_capped(path: &Path) -> std::io::Result<Option<Vec<u8>>> {
    let file = std::fs::File::open(path)?;
    let mut bytes = Vec::new();
    file.take(MAX_FILE + 1).read_to_end(&mut bytes)?;
    Ok((bytes.len() as u64 <= MAX_FILE).then_some(bytes))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex<const N: usize>(s: &str) -> Option<[u8; N]> {
    if s.len() != 2 * N || !s.is_ascii() {
        return None;
    }
    let mut out = [0u8; N];
    for (i, o) in out.iter_mut().enumerate() {
        *o = u8::from_str_radix(&s[2 * i..2 * i + 2], 16).ok()?;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_card_round_trips_and_a_wrong_one_says_why() {
        let card = Card(PublicKey::from_parts([7; 16], [9; 32]));
        assert_eq!(Card::parse(&card.to_text()), Ok(card));
        assert_eq!(card.fingerprint().len(), 19);
        let text = card.to_text();
        assert!(Card::parse(&text.replace("key 09", "key 0")).is_err());
        assert!(Card::parse(&text.replace("hearth-write-key 1", "x")).is_err());
        assert!(Card::parse(&format!("{text}extra\n")).is_err());
        assert!(Card::parse("").is_err());
    }

    #[test]
    fn a_header_is_judged_before_any_key() {
        let id = [1u8; 16];
        let file = |len: usize, body: &[u8]| {
            let mut v = format!("{MAGIC}\nvault {}\nsealed {len}\n", hex(&id)).into_bytes();
            v.extend_from_slice(body);
            v
        };
        assert!(matches!(
            parse(&file(3, b"abc"), &id),
            Parsed::Block(b"abc")
        ));
        assert!(matches!(
            parse(&file(5, b"abc"), &id),
            Parsed::Problem(FileProblem::CutShort { .. })
        ));
        assert!(matches!(
            parse(&file(2, b"abc"), &id),
            Parsed::Problem(FileProblem::TooLong)
        ));
        assert!(matches!(
            parse(&file(3, b"abc")[..10], &id),
            Parsed::Problem(FileProblem::CutShort { .. })
        ));
        assert!(matches!(
            parse(&file(3, b"abc"), &[2; 16]),
            Parsed::Problem(FileProblem::OtherVault { .. })
        ));
        assert!(matches!(
            parse(b"garbage\nmore\nlines\n", &id),
            Parsed::Problem(FileProblem::NotAnIncrement)
        ));
        assert!(matches!(
            parse(b"", &id),
            Parsed::Problem(FileProblem::CutShort { .. })
        ));
    }
}
