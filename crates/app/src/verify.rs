//! Checking a vault, for both faces (`hearth verify` and, later, the desktop): every sealed
//! record is authenticated and decoded, and the damaged ones are listed without stopping at
//! the first.

use hearth_vault::{Vault, VaultError, VerifyReport};

/// What a check of the whole vault found (as the desktop's window receives it, too).
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(rename = "VerifyDto"))]
pub struct Verdict {
    /// Records that authenticated and decoded.
    pub intact: u64,
    /// Raw readings in the intact raw chunks.
    pub readings: u64,
    /// Damaged records, described for a human (kind, resolution, UTC window).
    pub damaged: Vec<String>,
}

impl Verdict {
    /// Whether every record is intact.
    pub fn is_intact(&self) -> bool {
        self.damaged.is_empty()
    }
}

impl From<VerifyReport> for Verdict {
    fn from(r: VerifyReport) -> Self {
        Verdict {
            intact: r.ok,
            readings: r.readings,
            damaged: r.damaged,
        }
    }
}

/// Checks every record of `vault` (a reader will do: works beside a running collector).
pub fn check(vault: &Vault) -> Result<Verdict, VaultError> {
    Ok(vault.verify()?.into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use hearth_meter::{MeterTime, Protocol, Quantity, Reading};
    use hearth_vault::{CreateOptions, KdfParams};

    #[test]
    fn a_vault_with_readings_is_intact_and_counts_them() {
        let dir = tempfile::tempdir().expect("dir");
        let options = CreateOptions {
            kdf: KdfParams::INSECURE_FOR_TESTS,
            time_zone: Some("Europe/Amsterdam".into()),
        };
        let mut v = Vault::create(&dir.path().join("v.hearth"), "pw", &options).expect("vault");
        // 90 readings a minute apart from 2026-01-15T00:00Z: two raw hours.
        let readings: Vec<Reading> = (0..90)
            .map(|i| {
                let mut r = Reading::new(Protocol::Dsmr);
                r.time = Some(MeterTime::utc(1_768_435_200 + i * 60));
                r.set(Quantity::ImportWh, 5_000 + i);
                r
            })
            .collect();
        v.append(&readings).expect("append");
        v.flush().expect("flush");
        let verdict = check(&v).expect("check");
        assert!(verdict.is_intact());
        assert_eq!(verdict.readings, 90);
        assert_eq!(verdict, Verdict::from(v.verify().expect("verify")));
    }
}
