//! The demo household's past: before the simulated meter runs in real time, it lives through
//! the days before "now" at full speed, a reading a minute (its registers stay exact), so every
//! screen has history at once.

use hearth_meter::Reading;
use hearth_meter_io::simulator::Simulator;

const DAY: i64 = 86_400;

/// The simulated meter catching up from `days` days ago to now, a day at a time.
pub struct DemoHistory {
    meter: Simulator,
    days: u32,
    day: u32,
}

impl DemoHistory {
    /// The household of `seed`, starting `days` days before `now_unix`.
    pub fn new(seed: u64, now_unix: i64, days: u32) -> Self {
        DemoHistory {
            meter: Simulator::new(seed, now_unix - i64::from(days) * DAY),
            days,
            day: 0,
        }
    }

    /// The next day's readings, one a minute, up to midnight UTC or `now_unix` (the clock
    /// moves while the past is generated); `None` once the meter has caught up with it.
    pub fn next_day(&mut self, now_unix: i64) -> Option<Vec<Reading>> {
        if self.meter.next_unix() >= now_unix {
            return None;
        }
        let mut batch = Vec::with_capacity(1440);
        while self.meter.next_unix() < now_unix {
            let t = self.meter.step().time.unix;
            if t % 60 == 0 {
                batch.push(self.meter.reading());
            }
            if t % DAY == 0 {
                break;
            }
        }
        self.day = (self.day + 1).min(self.days);
        Some(batch)
    }

    /// Days done and days in all, for a progress line.
    pub fn progress(&self) -> (u32, u32) {
        (self.day, self.days)
    }

    /// The meter, caught up: it goes on in real time.
    pub fn into_meter(self) -> Simulator {
        self.meter
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hearth_meter::Quantity;

    #[test]
    fn two_days_come_a_day_at_a_time_a_reading_a_minute_with_exact_registers() {
        // 2026-01-12T12:00:30Z: the past starts at 2026-01-10T12:00:30Z.
        let now = 1_768_219_230;
        let mut past = DemoHistory::new(3, now, 2);
        assert_eq!(past.progress(), (0, 2));
        let mut days = Vec::new();
        while let Some(batch) = past.next_day(now) {
            days.push(batch);
        }
        // Noon to midnight, a whole day, then midnight to noon: three batches.
        let sizes: Vec<usize> = days.iter().map(Vec::len).collect();
        assert_eq!(sizes, [720, 1440, 720]);
        assert_eq!(past.progress(), (2, 2));
        let all: Vec<&Reading> = days.iter().flatten().collect();
        let times: Vec<i64> = all.iter().map(|r| r.time.expect("time").unix).collect();
        assert_eq!(times.first(), Some(&(now - 2 * DAY + 30)));
        assert_eq!(times.last(), Some(&(now - 30)));
        assert!(times.windows(2).all(|w| w[1] - w[0] == 60));
        let import: Vec<i64> = all
            .iter()
            .map(|r| r.get(Quantity::ImportWh).expect("register"))
            .collect();
        assert!(
            import.windows(2).all(|w| w[0] <= w[1]),
            "registers never go down"
        );
        // Caught up: the meter goes on from here in real time.
        assert!(past.next_day(now).is_none());
        assert_eq!(past.into_meter().next_unix(), now);
    }
}
