//! The reader: opens a [`Source`], pumps its bytes into a [`Decoder`] and yields what happened
//! as one stream of [`Event`]s: decoded frames, rejected frames, and the connection's story
//! (connected, disconnected, silent, reconnecting, finished).
//!
//! Serial ports and LAN bridges reconnect on their own with exponential backoff (1 s doubling
//! to 30 s by default) when the cable is pulled or the bridge goes away; a watchdog reports
//! silence, and after long silence drops and reopens the connection (a half-open TCP link or a
//! wedged USB adapter recovers that way). MQTT brokers ([`Source::Mqtt`]) reconnect the same
//! way, each message becoming one `TOPIC PAYLOAD` line for the decoder
//! ([`crate::mqtt::decoder_for`] picks it). A pulse sensor ([`Source::Pulse`]) needs no
//! decoder: its pulses drive a [`PulseCounter`] that outlives unplugging, and a reading of
//! its register and power comes once a second while the sensor is connected. An IEC 62056-21
//! meter in modes A-C ([`Source::Iec62056`]) is asked for a readout every interval: the
//! reader signs on at 300 baud, acknowledges, switches speed and reads (see
//! [`crate::source::IecSource`]); a meter that does not answer is retried with backoff like a
//! pulled cable. A HomeWizard Wi-Fi P1 meter ([`Source::HomeWizard`]) is asked for its
//! telegram once a second over HTTP ([`crate::homewizard`]); a repeat of the last telegram is
//! dropped, a failed request drops the connection and retries with backoff, and a meter whose
//! telegram stops changing falls silent like a cable. Readings without a meter time (pulses, most bridges) get the receive time
//! ([`Reader::with_clock`]). A file at recorded pace (`file:PATH?pace=recorded`) releases
//! each frame after the difference of the meter times, or the protocol's
//! [`nominal_interval`] for frames without one, never waiting more than
//! [`ReaderOptions::max_replay_gap`]. Files and a bounded demo end with
//! [`Status::Finished`]; a source that can never work (a missing file, a public address
//! without the override) ends with [`Status::Failed`].
//!
//! ```no_run
//! # async fn run() {
//! use hearth_meter_io::{Event, Reader, Source};
//! # struct MyDecoder(hearth_meter::Stats);
//! # impl hearth_meter::Decoder for MyDecoder {
//! #     fn push(&mut self, _: &[u8]) {}
//! #     fn next(&mut self) -> Option<Result<hearth_meter::Decoded, hearth_meter::Rejection>> { None }
//! #     fn stats(&self) -> &hearth_meter::Stats { &self.0 }
//! # }
//! let source: Source = "serial:/dev/ttyUSB0".parse().unwrap();
//! let mut reader = Reader::new(source, MyDecoder(Default::default()));
//! while let Some(event) = reader.next().await {
//!     match event {
//!         Event::Decoded(d) => println!("{:?}", d.reading),
//!         Event::Rejected(r) => eprintln!("rejected: {r}"),
//!         Event::Status(s) => eprintln!("{s}"),
//!     }
//! }
//! # }
//! ```

use crate::homewizard::HomeWizardLink;
use crate::mqtt::MqttLink;
use crate::network::{AddressError, allowed_addresses};
use crate::optical::Conversation;
use crate::settings::SerialSettings;
use crate::simulator::Simulator;
use crate::source::{IecMode, Pace, PulseSource, Source};
use hearth_meter::iec62056_21::Iec62056Decoder;
use hearth_meter::pulse::{PulseCounter, PulseError, PulseParser, PulseStats};
use hearth_meter::{Decoded, Decoder, MeterTime, Protocol, Reading, Rejection, Stats};
use std::collections::VecDeque;
use std::fmt;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::AsyncReadExt as _;
use tokio::net::TcpStream;
use tokio::time::{Instant, sleep_until, timeout, timeout_at};
use tokio_serial::{SerialPortBuilderExt as _, SerialStream};

/// Something the reader has to say.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// A frame decoded into a reading (boxed: a reading is large, status events are small).
    Decoded(Box<Decoded>),
    /// A frame rejected (checksum, framing, authentication, ...), counted in the decoder's stats.
    Rejected(Rejection),
    /// A change in the connection.
    Status(Status),
}

/// The connection's story, in words a homeowner can act on (see the `Display` impl).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Status {
    /// The source is open and bytes may flow.
    Connected {
        /// What was opened (from [`Source::describe`]).
        to: String,
    },
    /// The connection ended (cable pulled, bridge gone, read error).
    Disconnected {
        /// Why, for the user.
        reason: String,
    },
    /// No bytes for this long on an open connection.
    Silent {
        /// How long it has been quiet.
        for_: Duration,
    },
    /// The next attempt to open the source comes after this wait.
    Reconnecting {
        /// The wait.
        after: Duration,
        /// Why the last attempt failed or the connection ended.
        reason: String,
    },
    /// A file or a bounded demo reached its end; no more events follow.
    Finished,
    /// The source can never work as configured; no more events follow.
    Failed {
        /// Why, for the user.
        reason: String,
    },
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Status::Connected { to } => write!(f, "connected to {to}"),
            Status::Disconnected { reason } => write!(f, "disconnected: {reason}"),
            Status::Silent { for_ } => {
                write!(f, "no data from the meter for {}", seconds(*for_))
            }
            Status::Reconnecting { after, reason } => {
                write!(f, "{reason}; trying again in {}", seconds(*after))
            }
            Status::Finished => f.write_str("end of input"),
            Status::Failed { reason } => write!(f, "stopped: {reason}"),
        }
    }
}

/// `30 s`, `0.3 s`: whole seconds when whole, else tenths.
pub(crate) fn seconds(d: Duration) -> String {
    if d.subsec_millis() == 0 {
        format!("{} s", d.as_secs())
    } else {
        format!("{:.1} s", d.as_secs_f64())
    }
}

/// Timing of reconnects and of the silence watchdog.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReaderOptions {
    /// First wait before reopening a lost source.
    pub backoff_initial: Duration,
    /// Longest wait between attempts (the wait doubles up to this).
    pub backoff_max: Duration,
    /// Report [`Status::Silent`] after this long without bytes (and again each time it passes).
    pub silence: Duration,
    /// Drop and reopen a serial or TCP source after this long without bytes.
    pub reopen_after_silence: Duration,
    /// Longest pause replayed between two telegrams of a file at recorded pace.
    pub max_replay_gap: Duration,
    /// Give up connecting to a TCP bridge after this long.
    pub connect_timeout: Duration,
    /// An IEC 62056-21 meter that sends nothing for this long after the sign-on, or in the
    /// middle of its readout, is not answering (the port is reopened with backoff); a
    /// HomeWizard P1 meter that has not finished an HTTP answer within it is not answering.
    pub answer_timeout: Duration,
}

impl Default for ReaderOptions {
    fn default() -> Self {
        ReaderOptions {
            backoff_initial: Duration::from_secs(1),
            backoff_max: Duration::from_secs(30),
            // DSMR 2.2-4 meters send every 10 s; 30 s of nothing is worth saying.
            silence: Duration::from_secs(30),
            reopen_after_silence: Duration::from_secs(120),
            max_replay_gap: Duration::from_secs(60),
            connect_timeout: Duration::from_secs(10),
            // The standard's reaction and inter-character times are at most 1.5 s.
            answer_timeout: Duration::from_secs(5),
        }
    }
}

/// An open source: raw bytes as they arrive, for callers that want them undecoded (to record
/// a capture, to sniff). [`Reader`] uses the same connections.
#[derive(Debug)]
pub struct Connection(Link);

impl Connection {
    /// Opens `source` once (no retries; see [`Reader`] for those). An MQTT source that needs a
    /// password: [`Connection::open_with_password`].
    pub async fn open(source: &Source, options: &ReaderOptions) -> Result<Connection, OpenError> {
        open(source, options, None).await.map(Connection)
    }

    /// Opens `source` once with the MQTT broker's password (ignored by other sources).
    pub async fn open_with_password(
        source: &Source,
        options: &ReaderOptions,
        password: Option<&str>,
    ) -> Result<Connection, OpenError> {
        open(source, options, password).await.map(Connection)
    }

    /// Reads the next chunk of bytes into `buf`; `Ok(0)` is the end (file end, bounded demo
    /// done, peer closed).
    pub async fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        self.0.read(buf).await
    }
}

#[derive(Debug)]
enum Link {
    Serial(SerialStream),
    Tcp(TcpStream),
    File(tokio::fs::File),
    Demo(Box<DemoFeed>),
    Mqtt(Box<MqttLink>),
    Iec(Box<Conversation>),
    HomeWizard(Box<HomeWizardLink>),
}

/// The simulated meter as a byte stream.
#[derive(Debug)]
struct DemoFeed {
    sim: Simulator,
    tick: Option<tokio::time::Interval>,
    left: Option<u64>,
    pending: Vec<u8>,
    pos: usize,
}

impl DemoFeed {
    async fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.pos == self.pending.len() {
            self.pending.clear();
            self.pos = 0;
            // Fast: fill the buffer with whole telegrams; real time: one per tick.
            loop {
                if self.left == Some(0) {
                    break;
                }
                if let Some(tick) = &mut self.tick {
                    if !self.pending.is_empty() {
                        break;
                    }
                    tick.tick().await;
                }
                self.sim.next_telegram_into(&mut self.pending);
                if let Some(n) = &mut self.left {
                    *n -= 1;
                }
                if self.pending.len() + 1024 > buf.len() {
                    break;
                }
            }
        }
        let n = (self.pending.len() - self.pos).min(buf.len());
        buf[..n].copy_from_slice(&self.pending[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

impl Link {
    async fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        match self {
            Link::Serial(s) => s.read(buf).await,
            Link::Tcp(s) => s.read(buf).await,
            Link::File(f) => f.read(buf).await,
            Link::Demo(d) => d.read(buf).await,
            Link::Mqtt(m) => m.read(buf).await,
            Link::Iec(c) => c.read(buf).await,
            Link::HomeWizard(h) => h.read(buf).await,
        }
    }
}

/// Why opening a source failed, and whether trying again can help.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum OpenError {
    /// Not available now; trying again later may work (device absent, bridge unreachable).
    #[error("{0}")]
    Retry(String),
    /// Never going to work as configured (missing file, public address without the override).
    #[error("{0}")]
    Fatal(String),
}

/// A human reason for a serial error.
fn serial_reason(path: &str, e: &serialport::Error) -> String {
    match e.kind() {
        serialport::ErrorKind::NoDevice => {
            format!("{path} is not there (is the cable plugged in?)")
        }
        serialport::ErrorKind::Io(std::io::ErrorKind::NotFound) => {
            format!("{path} is not there (is the cable plugged in?)")
        }
        serialport::ErrorKind::Io(std::io::ErrorKind::PermissionDenied) => format!(
            "no permission to open {path} (add your user to the 'dialout' group and log in again)"
        ),
        _ => format!("cannot open {path}: {e}"),
    }
}

/// Opens a serial port in the async runtime with the given settings.
pub(crate) fn open_serial(path: &str, settings: SerialSettings) -> Result<SerialStream, String> {
    let builder = tokio_serial::new(path, settings.baud)
        .data_bits(settings.data_bits_sp())
        .parity(settings.parity_sp())
        .stop_bits(settings.stop_bits_sp())
        .flow_control(tokio_serial::FlowControl::None);
    builder
        .open_native_async()
        .map_err(|e| serial_reason(path, &e))
}

async fn open_tcp(
    host: &str,
    port: u16,
    allow_public: bool,
    connect_timeout: Duration,
) -> Result<TcpStream, OpenError> {
    let resolved = match timeout(connect_timeout, tokio::net::lookup_host((host, port))).await {
        Ok(Ok(addrs)) => addrs.collect::<Vec<_>>(),
        Ok(Err(e)) => return Err(OpenError::Retry(format!("cannot find {host}: {e}"))),
        Err(_) => return Err(OpenError::Retry(format!("looking up {host} timed out"))),
    };
    let allowed = allowed_addresses(resolved, allow_public)
        .map_err(|e: AddressError| OpenError::Fatal(e.to_string()))?;
    let mut last = format!("{host} has no address");
    for addr in allowed {
        match timeout(connect_timeout, TcpStream::connect(addr)).await {
            Ok(Ok(stream)) => {
                let _ = stream.set_nodelay(true);
                return Ok(stream);
            }
            Ok(Err(e)) => last = format!("cannot connect to {addr}: {e}"),
            Err(_) => last = format!("connecting to {addr} timed out"),
        }
    }
    Err(OpenError::Retry(last))
}

async fn open(
    source: &Source,
    options: &ReaderOptions,
    password: Option<&str>,
) -> Result<Link, OpenError> {
    match source {
        Source::Mqtt(m) => MqttLink::open(m, password, options.connect_timeout)
            .await
            .map(|l| Link::Mqtt(Box::new(l))),
        Source::Pulse(p) => open_serial(&p.path, p.settings)
            .map(Link::Serial)
            .map_err(OpenError::Retry),
        Source::Serial { path, settings } => open_serial(path, *settings)
            .map(Link::Serial)
            .map_err(OpenError::Retry),
        Source::Iec62056(m) => {
            let port = open_serial(&m.path, m.start_settings()).map_err(OpenError::Retry)?;
            Ok(match m.mode {
                IecMode::D => Link::Serial(port),
                _ => Link::Iec(Box::new(Conversation::new(
                    port,
                    m.clone(),
                    options.answer_timeout,
                ))),
            })
        }
        Source::Tcp {
            host,
            port,
            allow_public,
        } => open_tcp(host, *port, *allow_public, options.connect_timeout)
            .await
            .map(Link::Tcp),
        Source::HomeWizard(h) => match HomeWizardLink::open(h, options).await {
            Ok(link) => Ok(Link::HomeWizard(Box::new(link))),
            Err(e) if e.is_permanent() => Err(OpenError::Fatal(e.to_string())),
            Err(e) => Err(OpenError::Retry(e.to_string())),
        },
        Source::File { path, .. } => tokio::fs::File::open(path)
            .await
            .map(Link::File)
            .map_err(|e| OpenError::Fatal(file_reason(path, &e))),
        Source::Demo {
            seed,
            pace,
            start,
            count,
        } => {
            let start = start.unwrap_or_else(now_unix);
            let tick = (*pace == Pace::Real).then(|| {
                let mut i = tokio::time::interval(Duration::from_secs(1));
                i.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
                i
            });
            Ok(Link::Demo(Box::new(DemoFeed {
                sim: Simulator::new(*seed, start),
                tick,
                left: *count,
                pending: Vec::with_capacity(16 * 1024),
                pos: 0,
            })))
        }
    }
}

fn file_reason(path: &Path, e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::NotFound => format!("{} does not exist", path.display()),
        std::io::ErrorKind::PermissionDenied => {
            format!("no permission to read {}", path.display())
        }
        _ => format!("cannot read {}: {e}", path.display()),
    }
}

/// The wall clock, read only where a live demo meter starts and for receive times.
fn now_unix() -> i64 {
    use crate::clock::Clock as _;
    crate::clock::SystemClock.now_unix()
}

#[derive(Debug)]
enum State {
    /// Not open; try at this instant.
    Closed {
        retry_at: Instant,
    },
    Open {
        link: Link,
        last_bytes: Instant,
        silent_reports: u32,
    },
    Done,
}

/// The receive-time clock: stamps readings that carry no meter time.
pub type Clock = Arc<dyn Fn() -> MeterTime + Send + Sync>;

/// The wall clock in the system's time zone.
fn system_clock() -> Clock {
    let tz = jiff::tz::TimeZone::system();
    Arc::new(move || MeterTime::in_zone(now_unix(), &tz))
}

/// A pulse sensor's counting state; lives as long as the reader, across reconnects.
#[derive(Debug)]
struct PulseState {
    counter: PulseCounter,
    parser: PulseParser,
    source: PulseSource,
    /// Zero of the millisecond clock the counter runs on.
    epoch: Instant,
    /// When the next reading is due.
    next_emit: Instant,
    /// Readings yielded, as a decoder would count them.
    readings: Stats,
}

/// How often a connected pulse sensor yields a reading.
const PULSE_READING_EVERY: Duration = Duration::from_secs(1);

/// Reads a [`Source`] through a [`Decoder`]; see the module docs.
pub struct Reader {
    source: Source,
    decoder: Box<dyn Decoder + Send>,
    options: ReaderOptions,
    state: State,
    backoff: Duration,
    buf: Vec<u8>,
    pending: VecDeque<Event>,
    /// Recorded-pace replay: when the last frame was released and its meter time (`None`:
    /// it had none).
    pace_anchor: Option<(Instant, Option<i64>)>,
    bytes_read: u64,
    /// The MQTT broker's password (never shown).
    password: Option<String>,
    clock: Clock,
    pulse: Option<PulseState>,
    /// A HomeWizard P1 meter's last telegram, kept across a reconnect.
    homewizard_last: Vec<u8>,
}

/// Counts nothing but what the reader books for sources without a decoder (pulse sensors).
#[derive(Debug, Default)]
struct NoDecoder(Stats);

impl Decoder for NoDecoder {
    fn push(&mut self, _: &[u8]) {}
    fn next(&mut self) -> Option<Result<Decoded, Rejection>> {
        None
    }
    fn stats(&self) -> &Stats {
        &self.0
    }
}

impl fmt::Debug for Reader {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Reader")
            .field("source", &self.source)
            .field("state", &self.state)
            .field("pending", &self.pending.len())
            .finish_non_exhaustive()
    }
}

impl Reader {
    /// A reader with the default timing ([`ReaderOptions::default`]).
    pub fn new(source: Source, decoder: impl Decoder + Send + 'static) -> Reader {
        Reader::with_options(source, decoder, ReaderOptions::default())
    }

    /// A reader with chosen reconnect and watchdog timing.
    pub fn with_options(
        source: Source,
        decoder: impl Decoder + Send + 'static,
        options: ReaderOptions,
    ) -> Reader {
        Reader::with_boxed_decoder(source, Box::new(decoder), options)
    }

    /// A reader for an MQTT broker, with the decoder its preset needs
    /// ([`crate::mqtt::decoder_for`]), for an IEC 62056-21 meter (its decoder, in Central
    /// European time), for a HomeWizard P1 meter (the DSMR decoder), or for a pulse sensor (which needs none). Other sources need a decoder
    /// chosen by the caller ([`Reader::with_options`]); they get one that decodes nothing.
    pub fn for_source(source: Source, options: ReaderOptions) -> Reader {
        let decoder: Box<dyn Decoder + Send> = match &source {
            Source::Mqtt(m) => crate::mqtt::decoder_for(m),
            Source::Iec62056(_) => Box::new(Iec62056Decoder::new()),
            Source::HomeWizard(_) => Box::new(hearth_meter::dsmr::DsmrDecoder::new()),
            _ => Box::new(NoDecoder::default()),
        };
        Reader::with_boxed_decoder(source, decoder, options)
    }

    /// A reader for a pulse sensor whose register stood at `start_register_wh` (the last
    /// register the vault holds, so the count continues across restarts).
    pub fn pulse(
        source: PulseSource,
        start_register_wh: i64,
        options: ReaderOptions,
    ) -> Result<Reader, PulseError> {
        let state = pulse_state(&source, start_register_wh)?;
        let mut reader = Reader::for_source(Source::Pulse(source), options);
        reader.pulse = Some(state);
        Ok(reader)
    }

    /// A reader with an already boxed decoder.
    pub fn with_boxed_decoder(
        source: Source,
        decoder: Box<dyn Decoder + Send>,
        options: ReaderOptions,
    ) -> Reader {
        let mut state = State::Closed {
            retry_at: Instant::now(),
        };
        let mut pending = VecDeque::new();
        let pulse = match &source {
            Source::Pulse(p) => match pulse_state(p, 0) {
                Ok(s) => Some(s),
                Err(e) => {
                    state = State::Done;
                    pending.push_back(Event::Status(Status::Failed {
                        reason: e.to_string(),
                    }));
                    None
                }
            },
            _ => None,
        };
        Reader {
            password: None,
            clock: system_clock(),
            pulse,
            homewizard_last: Vec::new(),
            source,
            decoder,
            backoff: options.backoff_initial,
            options,
            state,
            buf: vec![0; 64 * 1024],
            pending,
            pace_anchor: None,
            bytes_read: 0,
        }
    }

    /// The MQTT broker's password (the vault keeps it sealed). Never shown or logged.
    pub fn with_password(mut self, password: Option<String>) -> Reader {
        self.password = password;
        self
    }

    /// The clock that stamps readings without a meter time (default: the system clock in the
    /// system's time zone).
    pub fn with_clock(mut self, clock: impl Fn() -> MeterTime + Send + Sync + 'static) -> Reader {
        self.clock = Arc::new(clock);
        self
    }

    /// A pulse sensor's counts (booked, debounced, sensor restarts); `None` for other sources.
    pub fn pulse_stats(&self) -> Option<&PulseStats> {
        self.pulse.as_ref().map(|p| p.counter.stats())
    }

    /// A pulse sensor's register now, in Wh; `None` for other sources.
    pub fn pulse_register_wh(&self) -> Option<i64> {
        self.pulse.as_ref().map(|p| p.counter.register_wh())
    }

    /// The source being read.
    pub fn source(&self) -> &Source {
        &self.source
    }

    /// The decoder's counts: accepted, rejected by reason, skipped bytes.
    pub fn stats(&self) -> &Stats {
        if let Some(p) = &self.pulse {
            return &p.readings;
        }
        self.decoder.stats()
    }

    /// Bytes received from the source so far (over every connection).
    pub fn bytes_read(&self) -> u64 {
        self.bytes_read
    }

    /// Whether the source is open right now.
    pub fn is_connected(&self) -> bool {
        matches!(self.state, State::Open { .. })
    }

    /// The next event; `None` once a file or bounded demo is finished or the source failed.
    ///
    /// Cancel-safe: dropping the future (in `tokio::select!`) loses no event or byte.
    pub async fn next(&mut self) -> Option<Event> {
        loop {
            if let Some(event) = self.pending.front() {
                if let Some(due) = self.pace_due(event) {
                    sleep_until(due).await;
                }
                let mut event = self.pending.pop_front()?;
                if let Event::Decoded(d) = &mut event {
                    self.note_paced(d);
                    if d.reading.time.is_none() {
                        d.reading.time = Some((self.clock)());
                    }
                }
                return Some(event);
            }
            match &mut self.state {
                State::Done => return None,
                State::Closed { retry_at } => {
                    sleep_until(*retry_at).await;
                    self.connect().await;
                }
                State::Open { link, .. } if self.pulse.is_some() => {
                    let Some(p) = self.pulse.as_mut() else {
                        continue;
                    };
                    let now = Instant::now();
                    if now >= p.next_emit {
                        // Due: checked before reading, so a sensor that never pauses cannot
                        // hold readings back.
                        p.next_emit =
                            (p.next_emit + PULSE_READING_EVERY).max(now + PULSE_READING_EVERY / 2);
                        let mut reading = p
                            .counter
                            .reading(millis_since(p.epoch), Some((self.clock)()));
                        p.readings.accepted += 1;
                        // Checked like every decoder's readings (the debounce already caps
                        // the power; a clock gone wrong is not).
                        let dropped = hearth_meter::plausible::check(&mut reading);
                        p.readings.implausible += dropped.len() as u64;
                        let diagnostics = dropped.iter().map(|d| d.diagnostic()).collect();
                        self.pending.push_back(Event::Decoded(Box::new(Decoded {
                            reading,
                            diagnostics,
                        })));
                        continue;
                    }
                    match timeout_at(p.next_emit, link.read(&mut self.buf)).await {
                        Ok(Ok(0)) => self.ended("the sensor stopped sending".into()),
                        Ok(Ok(n)) => {
                            self.bytes_read += n as u64;
                            self.backoff = self.options.backoff_initial;
                            let ms = millis_since(p.epoch);
                            p.parser.push(&self.buf[..n], ms, &mut p.counter);
                        }
                        Ok(Err(e)) => self.ended(e.to_string()),
                        // The next reading is due: made at the top of the loop.
                        Err(_) => {}
                    }
                }
                State::Open {
                    link,
                    last_bytes,
                    silent_reports,
                } => {
                    // A meter asked every interval is quiet between readouts by design.
                    let silence = match link {
                        Link::Iec(c) => self.options.silence.max(c.quiet_between_readouts()),
                        _ => self.options.silence,
                    };
                    let deadline = *last_bytes + silence * (*silent_reports + 1);
                    match timeout_at(deadline, link.read(&mut self.buf)).await {
                        Ok(Ok(0)) => self.ended("the connection was closed".into()),
                        Ok(Ok(n)) => {
                            *last_bytes = Instant::now();
                            *silent_reports = 0;
                            self.bytes_read += n as u64;
                            self.backoff = self.options.backoff_initial;
                            self.decoder.push(&self.buf[..n]);
                            while let Some(result) = self.decoder.next() {
                                self.pending.push_back(match result {
                                    Ok(d) => Event::Decoded(Box::new(d)),
                                    Err(r) => Event::Rejected(r),
                                });
                            }
                        }
                        Ok(Err(e)) => self.ended(e.to_string()),
                        Err(_) => {
                            *silent_reports += 1;
                            let quiet = silence * *silent_reports;
                            self.pending
                                .push_back(Event::Status(Status::Silent { for_: quiet }));
                            // Not MQTT: a quiet topic is normal (Tasmota publishes every
                            // 5 min) and the protocol's keep-alive pings find a dead broker.
                            let reopenable = matches!(
                                self.source,
                                Source::Serial { .. }
                                    | Source::Tcp { .. }
                                    | Source::Iec62056(_)
                                    | Source::HomeWizard(_)
                            );
                            if reopenable && quiet >= self.options.reopen_after_silence {
                                let reason = format!("nothing received for {}", seconds(quiet));
                                self.ended(reason);
                            }
                        }
                    }
                }
            }
        }
    }

    /// Tries to open the source; queues what happened.
    async fn connect(&mut self) {
        match open(&self.source, &self.options, self.password.as_deref()).await {
            Ok(mut link) => {
                if let Link::HomeWizard(h) = &mut link {
                    // The telegram handed on before the reconnect is not handed on again.
                    h.continue_after(std::mem::take(&mut self.homewizard_last));
                }
                if let Some(p) = &mut self.pulse {
                    // A partial line from before the unplug means nothing now.
                    p.parser = PulseParser::new(p.source.format);
                    p.next_emit = Instant::now() + PULSE_READING_EVERY;
                }
                self.state = State::Open {
                    link,
                    last_bytes: Instant::now(),
                    silent_reports: 0,
                };
                self.pending.push_back(Event::Status(Status::Connected {
                    to: self.source.describe(),
                }));
            }
            Err(OpenError::Retry(reason)) => self.schedule_retry(reason),
            Err(OpenError::Fatal(reason)) => {
                self.state = State::Done;
                self.pending
                    .push_back(Event::Status(Status::Failed { reason }));
            }
        }
    }

    fn schedule_retry(&mut self, reason: String) {
        let after = self.backoff;
        self.backoff = (self.backoff * 2).min(self.options.backoff_max);
        self.state = State::Closed {
            retry_at: Instant::now() + after,
        };
        self.pending
            .push_back(Event::Status(Status::Reconnecting { after, reason }));
    }

    /// The open connection ended (end of stream or error).
    fn ended(&mut self, reason: String) {
        if let State::Open {
            link: Link::HomeWizard(h),
            ..
        } = &mut self.state
        {
            self.homewizard_last = h.take_last();
        }
        match self.source {
            Source::File { .. } | Source::Demo { .. } => {
                self.state = State::Done;
                self.pending.push_back(Event::Status(Status::Finished));
            }
            Source::Serial { ref path, .. } => {
                let reason = format!("{path}: {reason}");
                self.pending.push_back(Event::Status(Status::Disconnected {
                    reason: reason.clone(),
                }));
                self.schedule_retry(reason);
            }
            Source::Iec62056(ref m) => {
                let reason = format!("{}: {reason}", m.path);
                self.pending.push_back(Event::Status(Status::Disconnected {
                    reason: reason.clone(),
                }));
                self.schedule_retry(reason);
            }
            Source::Pulse(ref p) => {
                let reason = format!("{}: {reason}", p.path);
                self.pending.push_back(Event::Status(Status::Disconnected {
                    reason: reason.clone(),
                }));
                self.schedule_retry(reason);
            }
            _ => {
                self.pending.push_back(Event::Status(Status::Disconnected {
                    reason: reason.clone(),
                }));
                self.schedule_retry(reason);
            }
        }
    }

    /// For a file at recorded pace: when `event` may be released.
    fn pace_due(&self, event: &Event) -> Option<Instant> {
        let Source::File {
            pace: Pace::Real, ..
        } = self.source
        else {
            return None;
        };
        let Event::Decoded(d) = event else {
            return None;
        };
        let (at, prev) = self.pace_anchor?;
        Some(at + self.replay_gap(prev, &d.reading))
    }

    /// The wait before `reading` after a frame with meter time `prev`: the difference of the
    /// two meter times, or the protocol's [`nominal_interval`] when either has none; never
    /// less than 0 nor more than [`ReaderOptions::max_replay_gap`].
    fn replay_gap(&self, prev: Option<i64>, reading: &Reading) -> Duration {
        let gap = match (prev, reading.time) {
            (Some(prev), Some(t)) => Duration::from_secs(u64::try_from(t.unix - prev).unwrap_or(0)),
            _ => nominal_interval(reading),
        };
        gap.min(self.options.max_replay_gap)
    }

    /// Books the release of a frame at recorded pace (before it is stamped with the
    /// receive clock, so a frame without meter time stays one).
    fn note_paced(&mut self, d: &Decoded) {
        if let Source::File {
            pace: Pace::Real, ..
        } = self.source
        {
            let at = match self.pace_anchor {
                None => Instant::now(),
                Some((at, prev)) => at + self.replay_gap(prev, &d.reading),
            };
            self.pace_anchor = Some((at, d.reading.time.map(|t| t.unix)));
        }
    }
}

/// How often a meter of this reading's kind sends a frame, for replaying frames that carry no
/// meter time at their recorded pace: DSMR 5 and eMUCS (version `5…`) every second, DSMR 2.2
/// to 4 every 10 s; SML meters about every second; DLMS/COSEM push lists, IEC 62056-21
/// readouts (the reader's default interval), RAVEn and the rest every 10 s.
pub fn nominal_interval(reading: &Reading) -> Duration {
    let secs = match reading.protocol {
        Protocol::Dsmr
            if reading
                .dsmr_version
                .as_deref()
                .is_some_and(|v| v.starts_with('5')) =>
        {
            1
        }
        Protocol::Sml | Protocol::Pulse => 1,
        _ => 10,
    };
    Duration::from_secs(secs)
}

fn pulse_state(source: &PulseSource, start_register_wh: i64) -> Result<PulseState, PulseError> {
    let mut counter = PulseCounter::new(source.imp_per_kwh, start_register_wh)?;
    if let Some(ms) = source.debounce_ms {
        counter = counter.with_debounce_ms(ms);
    }
    let now = Instant::now();
    Ok(PulseState {
        counter,
        parser: PulseParser::new(source.format),
        source: source.clone(),
        epoch: now,
        next_emit: now + PULSE_READING_EVERY,
        readings: Stats::default(),
    })
}

/// Milliseconds on the reader's monotonic clock since `epoch`.
fn millis_since(epoch: Instant) -> u64 {
    u64::try_from(epoch.elapsed().as_millis()).unwrap_or(u64::MAX)
}
