//! Long haul (issue 8): builds a ten-year vault of simulated one-second DSMR 5 readings
//! (three phases, gas, solar: the household of the vault benches) and measures what a homeowner
//! lives with after ten years: file size per reading, build speed, open time, chart-query times
//! for ~1,000 points over a day, week, month, year and all ten years, and peak memory.
//!
//! ```text
//! nice -n 10 cargo run --release -p hearth-vault --example longhaul -- \
//!     --path ~/.cache/hearth-longhaul/ten-years.hearth
//! # queries only, in a fresh process (reuses the vault built above), with the file's pages
//! # dropped from the page cache first so the first run of each view is cold:
//! dd if=~/.cache/hearth-longhaul/ten-years.hearth iflag=nocache count=0 status=none
//! cargo run --release -p hearth-vault --example longhaul -- \
//!     --path ~/.cache/hearth-longhaul/ten-years.hearth --only-query
//! ```
//!
//! The views end at the last second of the period: the day, week, 30 days and 365 days before
//! it, and the whole period, each asked for ~1,000 points through
//! [`Vault::readings_for_points`] (the series the app would read). The first run of each view
//! is reported on its own; the median and maximum are of the `--runs` after it.
//!
//! Options: `--path P` (required), `--years N` (default 10; `--days N` instead for a trial
//! run), `--runs N` query repetitions after the first (default 20), `--only-query` (never
//! stores anything; fails if the vault is missing). The passphrase is `HEARTH_PASSPHRASE` or `longhaul`; the key is derived with the
//! real Argon2id parameters ([`KdfParams::default`]), so the open time is the one users see.
//!
//! An existing vault is reused: if it already ends at the last second of the period, the build
//! is skipped; if an earlier run was interrupted, the simulation is replayed (not stored) up
//! to the last stored second and the build continues from there. Progress goes to stderr, the
//! results to stdout as a Markdown table.

use hearth_meter::Reading;
use hearth_meter_io::simulator::Simulator;
use hearth_vault::{CreateOptions, KdfParams, Resolution, Vault};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

/// 2026-01-01T00:00:00Z, the first reading (as in the vault benches).
const T0: i64 = 1_767_225_600;
const DAY: i64 = 86_400;
/// The simulated household (seed of the vault's size bench).
const SEED: u64 = 11;
/// Readings per append: one hour keeps the process small.
const BATCH: usize = 3_600;
/// Points a chart asks for.
const POINTS: u32 = 1_000;

struct Args {
    path: PathBuf,
    years: i64,
    /// Overrides `years` for a quick trial run.
    days: Option<i64>,
    runs: usize,
    only_query: bool,
}

fn parse_args() -> Result<Args, String> {
    let mut path = None;
    let mut years = 10;
    let mut runs = 20;
    let mut days = None;
    let mut only_query = false;
    let mut it = std::env::args().skip(1);
    while let Some(a) = it.next() {
        let mut value = |name: &str| it.next().ok_or_else(|| format!("{name} needs a value"));
        match a.as_str() {
            "--path" => path = Some(PathBuf::from(value("--path")?)),
            "--years" => {
                years = value("--years")?
                    .parse()
                    .map_err(|_| "--years takes a whole number".to_string())?;
            }
            "--runs" => {
                runs = value("--runs")?
                    .parse()
                    .map_err(|_| "--runs takes a whole number".to_string())?;
            }
            "--days" => {
                days = Some(
                    value("--days")?
                        .parse()
                        .map_err(|_| "--days takes a whole number".to_string())?,
                );
            }
            "--only-query" => only_query = true,
            other => return Err(format!("unknown argument '{other}'")),
        }
    }
    let path = path.ok_or("--path is required")?;
    if !(1..=30).contains(&years) || days.is_some_and(|d| !(1..=11_000).contains(&d)) || runs == 0 {
        return Err("--years must be 1..=30, --days 1..=11000 and --runs at least 1".into());
    }
    Ok(Args {
        path,
        years,
        days,
        runs,
        only_query,
    })
}

/// The end of the period: `years` years of 365 days plus the leap days (2028, 2032 within
/// the default ten years), i.e. local-calendar-agnostic UTC days from `T0`.
fn period_end(years: i64) -> i64 {
    // Count the days of each calendar year 2026.. (all in the Gregorian range of interest).
    let days: i64 = (2026..2026 + years)
        .map(|y| {
            if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 {
                366
            } else {
                365
            }
        })
        .sum();
    T0 + days * DAY
}

/// A status line from `/proc/self/status` in KiB (`VmHWM`, `VmRSS`); 0 where unavailable.
fn proc_kib(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(field))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|n| n.parse().ok())
        })
        .unwrap_or(0)
}

fn mib(kib: u64) -> String {
    format!("{:.1} MiB", kib as f64 / 1024.0)
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1000.0)
}

fn passphrase() -> String {
    std::env::var("HEARTH_PASSPHRASE").unwrap_or_else(|_| "longhaul".into())
}

/// What one build run did.
struct Built {
    /// Readings stored by this run (0 when the vault was already complete).
    stored: u64,
    /// Wall time from the first batch to the vault closed.
    wall: Duration,
    /// Time inside `append` and the final `close` (the vault's share; the simulator runs on
    /// its own thread).
    in_append: Duration,
}

/// Builds (or finishes) the vault.
fn build(path: &Path, end: i64) -> Result<Built, Box<dyn std::error::Error>> {
    let pass = passphrase();
    let mut vault = if path.exists() {
        Vault::open(path, &pass)?
    } else {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        Vault::create(
            path,
            &pass,
            &CreateOptions {
                kdf: KdfParams::default(),
                time_zone: Some("Europe/Amsterdam".into()),
            },
        )?
    };
    let resume_after = vault.last_time();
    if resume_after.is_some_and(|t| t >= end - 1) {
        eprintln!("longhaul: vault already complete, build skipped");
        vault.close()?;
        return Ok(Built {
            stored: 0,
            wall: Duration::ZERO,
            in_append: Duration::ZERO,
        });
    }
    if let Some(t) = resume_after {
        eprintln!(
            "longhaul: resuming after {} ({:.1} % stored); replaying the simulation up to there",
            t,
            (t + 1 - T0) as f64 * 100.0 / (end - T0) as f64
        );
    }
    // The household is simulated on a second thread, a batch ahead of the vault.
    let (tx, rx) = std::sync::mpsc::sync_channel::<Vec<Reading>>(4);
    let simulator = std::thread::spawn(move || {
        let mut sim = Simulator::new(SEED, T0);
        if let Some(last) = resume_after {
            while sim.next_unix() <= last {
                sim.step();
            }
        }
        while sim.next_unix() < end {
            let mut batch = Vec::with_capacity(BATCH);
            while batch.len() < BATCH && sim.next_unix() < end {
                sim.step();
                batch.push(sim.reading());
            }
            if tx.send(batch).is_err() {
                return;
            }
        }
    });
    let started = Instant::now();
    let first = resume_after.map_or(T0, |t| t + 1);
    let mut stored = 0u64;
    let mut in_append = Duration::ZERO;
    let mut next_report = first + 30 * DAY;
    for batch in rx {
        let t = Instant::now();
        vault.append(&batch)?;
        in_append += t.elapsed();
        stored += batch.len() as u64;
        let now = first + i64::try_from(stored)?;
        if now >= next_report || now >= end {
            next_report += 30 * DAY;
            let secs = started.elapsed().as_secs_f64();
            let rate = stored as f64 / secs.max(1e-9);
            eprintln!(
                "longhaul: {:5.1} % ({} M readings stored, {:.0} k/s, {:.0} s left)",
                (now - T0) as f64 * 100.0 / (end - T0) as f64,
                stored / 1_000_000,
                rate / 1000.0,
                (end - now) as f64 / rate.max(1.0)
            );
        }
    }
    simulator
        .join()
        .map_err(|_| "the simulator thread panicked")?;
    let t = Instant::now();
    vault.close()?;
    in_append += t.elapsed();
    let took = started.elapsed();
    let s = took.as_secs_f64();
    eprintln!(
        "longhaul: stored {stored} readings from {first} in {s:.0} s ({:.0} readings/s; {:.0} s \
         in append and close)",
        stored as f64 / s,
        in_append.as_secs_f64()
    );
    Ok(Built {
        stored,
        wall: took,
        in_append,
    })
}

/// File sizes after a WAL checkpoint: (main file, WAL, free pages in bytes, sealed bytes per
/// resolution name with chunk counts).
struct Sizes {
    main: u64,
    wal: u64,
    free: u64,
    per_res: Vec<(&'static str, i64, i64)>,
}

fn sizes(path: &Path) -> Result<Sizes, Box<dyn std::error::Error>> {
    let c = rusqlite::Connection::open(path)?;
    c.execute_batch("PRAGMA wal_checkpoint(TRUNCATE);")?;
    let page_size: i64 = c.query_row("PRAGMA page_size", [], |r| r.get(0))?;
    let free_pages: i64 = c.query_row("PRAGMA freelist_count", [], |r| r.get(0))?;
    let mut stmt = c.prepare(
        "SELECT res, count(*), sum(length(sealed)) FROM chunk GROUP BY res ORDER BY res",
    )?;
    let per_res = stmt
        .query_map([], |r| {
            Ok((r.get::<_, u8>(0)?, r.get::<_, i64>(1)?, r.get::<_, i64>(2)?))
        })?
        .collect::<Result<Vec<_>, _>>()?
        .into_iter()
        .map(|(res, n, bytes)| {
            let name = Resolution::ALL
                .get(usize::from(res))
                .map_or("?", |r| r.name());
            (name, n, bytes)
        })
        .collect();
    drop(stmt);
    drop(c);
    let len = |p: PathBuf| std::fs::metadata(p).map(|m| m.len()).unwrap_or(0);
    let mut wal = path.as_os_str().to_owned();
    wal.push("-wal");
    Ok(Sizes {
        main: len(path.to_path_buf()),
        wal: len(PathBuf::from(wal)),
        free: u64::try_from(page_size * free_pages).unwrap_or(0),
        per_res,
    })
}

/// One view's timings.
struct ViewTimes {
    name: &'static str,
    res: Resolution,
    rows: usize,
    first: Duration,
    median: Duration,
    max: Duration,
}

fn query(vault: &Vault, from: i64, to: i64) -> Result<usize, hearth_vault::VaultError> {
    let mut n = 0;
    for row in vault.readings_for_points(from, to, POINTS)? {
        std::hint::black_box(row?);
        n += 1;
    }
    Ok(n)
}

fn measure_views(
    vault: &Vault,
    end: i64,
    runs: usize,
) -> Result<Vec<ViewTimes>, hearth_vault::VaultError> {
    let views: [(&'static str, i64); 5] = [
        ("day", end - DAY),
        ("week", end - 7 * DAY),
        ("month (30 days)", end - 30 * DAY),
        ("year (365 days)", end - 365 * DAY),
        ("all years", T0),
    ];
    let mut out = Vec::new();
    for (name, from) in views {
        let started = Instant::now();
        let rows = query(vault, from, end)?;
        let first = started.elapsed();
        let mut times = Vec::with_capacity(runs);
        for _ in 0..runs {
            let started = Instant::now();
            let n = query(vault, from, end)?;
            times.push(started.elapsed());
            debug_assert_eq!(n, rows);
        }
        times.sort();
        out.push(ViewTimes {
            name,
            res: Resolution::for_points(from, end, POINTS),
            rows,
            first,
            median: times[times.len() / 2],
            max: times[times.len() - 1],
        });
    }
    Ok(out)
}

fn run(args: &Args) -> Result<(), Box<dyn std::error::Error>> {
    let end = args.days.map_or(period_end(args.years), |d| T0 + d * DAY);
    let total = u64::try_from(end - T0)?;
    let mut build_took = None;
    if !args.only_query {
        let built = build(&args.path, end)?;
        if built.stored > 0 {
            build_took = Some(built);
        }
    } else if !args.path.exists() {
        return Err(format!("no vault at {}: build it first", args.path.display()).into());
    }
    let hwm_after_build = proc_kib("VmHWM:");

    // Queries first: measuring the sizes reads every chunk and would warm the page cache
    // for the first (cold) query run.
    let started = Instant::now();
    let vault = Vault::open_read_only(&args.path, &passphrase())?;
    let open = started.elapsed();
    let hwm_after_open = proc_kib("VmHWM:");
    let views = measure_views(&vault, end, args.runs)?;
    let hwm_after_queries = proc_kib("VmHWM:");
    let rss_after_queries = proc_kib("VmRSS:");
    drop(vault);

    let s = sizes(&args.path)?;
    let per = |b: u64| b as f64 / total as f64;

    println!(
        "| vault: {total} readings ({} days of 1-s DSMR 5, seed {SEED}) | |",
        (end - T0) / DAY
    );
    println!("|---|---|");
    println!(
        "| file after checkpoint (main {} B + WAL {} B) | **{:.3} B/reading** ({:.2} GB) |",
        s.main,
        s.wal,
        per(s.main + s.wal),
        (s.main + s.wal) as f64 / 1e9
    );
    println!(
        "| of which free pages | {} B ({:.3} B/reading) |",
        s.free,
        per(s.free)
    );
    for (name, chunks, bytes) in &s.per_res {
        println!(
            "| sealed {name} chunks ({chunks}) | {:.3} B/reading |",
            per(u64::try_from(*bytes).unwrap_or(0))
        );
    }
    match build_took {
        Some(b) => {
            println!(
                "| build ({} readings this run; simulator on a second thread) | {:.0} s wall, {:.0} readings/s |",
                b.stored,
                b.wall.as_secs_f64(),
                b.stored as f64 / b.wall.as_secs_f64()
            );
            println!(
                "| of which in `append` + `close` (codec, sealing, rollups, SQLite) | {:.0} s, **{:.0} readings/s** |",
                b.in_append.as_secs_f64(),
                b.stored as f64 / b.in_append.as_secs_f64()
            );
        }
        None => println!("| build | skipped (vault already complete) |"),
    }
    println!(
        "| open read-only (Argon2id 64 MiB, 3 passes) | {} |",
        ms(open)
    );
    println!();
    println!(
        "| view, ~{POINTS} points | series | rows | first run | median of {} | max |",
        args.runs
    );
    println!("|---|---|---|---|---|---|");
    for v in &views {
        println!(
            "| {} | {} | {} | {} | **{}** | {} |",
            v.name,
            v.res,
            v.rows,
            ms(v.first),
            ms(v.median),
            ms(v.max)
        );
    }
    println!();
    println!("| memory (this process) | |");
    println!("|---|---|");
    if !args.only_query {
        println!("| peak RSS after building | {} |", mib(hwm_after_build));
    }
    println!(
        "| peak RSS after open (includes Argon2id's 64 MiB) | {} |",
        mib(hwm_after_open)
    );
    println!(
        "| peak RSS after all queries | {} |",
        mib(hwm_after_queries)
    );
    println!("| RSS after all queries | {} |", mib(rss_after_queries));
    Ok(())
}

fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("longhaul: {e}");
            return ExitCode::from(2);
        }
    };
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("longhaul: {e}");
            ExitCode::FAILURE
        }
    }
}
