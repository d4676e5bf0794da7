//! The HomeWizard Wi-Fi P1 meter (product type `HWE-P1`) read through its local API v1: plain
//! HTTP on port 80, `GET /api` says what the device is, `GET /api/v1/telegram` returns the last
//! raw DSMR telegram the meter sent, byte for byte (HomeWizard's API documentation,
//! api-documentation.homewizard.com, "v1 → Telegram" and "v1 → Device information"). The local
//! API must be switched on in the HomeWizard Energy app; when it is off the device answers
//! `403 Forbidden` (error 202, `API_DISABLED`).
//!
//! The telegram is polled once a second (a DSMR 5 meter's pace; older meters send every 10 s and
//! the same telegram comes back meanwhile). A body identical to the previous one is dropped, so
//! the same telegram polled twice is one reading; new bodies go to the normal DSMR decoder, which
//! checks the CRC and plausibility as for a cable. Every request opens a new connection through
//! the LAN guard ([`crate::network`]), with our own minimal HTTP client ([`http`]).
//!
//! API v2 (HTTPS with a bearer token from pairing by the device's button, `GET /api/telegram`) is
//! not spoken: a device that only offers v2 gets a clear error.

pub mod http;

use crate::network::{AddressError, allowed_addresses};
use crate::reader::ReaderOptions;
use crate::source::{HomeWizardSource, host_port};
use http::{HttpError, Limits};
use std::net::SocketAddr;
use std::time::Duration;
use tokio::time::{Instant, sleep_until, timeout};

/// The product type of the Wi-Fi P1 meter in `GET /api`.
pub const P1_PRODUCT_TYPE: &str = "HWE-P1";
/// How often the telegram is asked for.
pub const POLL_EVERY: Duration = Duration::from_secs(1);
/// Longest telegram body accepted (a DSMR telegram is 1-3 KB).
pub const MAX_BODY: usize = 64 * 1024;

/// Where the local API is switched on, in the words of the HomeWizard Energy app.
const TURN_ON: &str = "turn on 'Local API' in the HomeWizard Energy app \
                       (Settings → Meters → your P1 meter → Local API)";

/// Why a HomeWizard P1 meter could not be read, in words a homeowner can act on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum HomeWizardError {
    /// The address is outside the home network and public addresses were not allowed.
    #[error(transparent)]
    Address(#[from] AddressError),
    /// The host name could not be resolved.
    #[error("cannot find {host} on the network: {detail}")]
    Lookup {
        /// The name given.
        host: String,
        /// The system's words.
        detail: String,
    },
    /// Nothing listens on the HTTP port.
    #[error(
        "nothing answers at {0}: is the P1 meter plugged in, and is this its address? \
         (the HomeWizard Energy app shows it under Settings → Meters → your P1 meter)"
    )]
    Refused(SocketAddr),
    /// The device took too long to answer, or answered too slowly.
    #[error("the device at {0} did not answer in time (is it on your Wi-Fi?)")]
    Timeout(SocketAddr),
    /// The local API is switched off (`403`), or the telegram endpoint is missing (`404`).
    #[error("the HomeWizard P1 meter at {addr} does not let Hearth read it: {TURN_ON}")]
    LocalApiOff {
        /// The device.
        addr: SocketAddr,
    },
    /// `GET /api` did not answer like a HomeWizard device.
    #[error("the device at {addr} is not a HomeWizard P1 meter ({detail})")]
    NotHomeWizard {
        /// The device.
        addr: SocketAddr,
        /// What it answered.
        detail: String,
    },
    /// A HomeWizard device, but not a P1 meter (an energy socket, a water meter, ...).
    #[error(
        "the device at {addr} is a HomeWizard {product_type}, not a P1 meter: give the P1 \
         meter's address"
    )]
    NotP1 {
        /// The device.
        addr: SocketAddr,
        /// Its product type, e.g. `HWE-SKT`.
        product_type: String,
    },
    /// The device offers only API v2 (HTTPS with a paired token), which Hearth does not speak.
    #[error(
        "the HomeWizard P1 meter at {addr} only offers API {api_version}, which Hearth does not \
         speak yet; {TURN_ON} (API v1)"
    )]
    V2Only {
        /// The device.
        addr: SocketAddr,
        /// The version it names.
        api_version: String,
    },
    /// An HTTP status other than the ones above.
    #[error("the HomeWizard P1 meter at {addr} answered with error {status}")]
    Status {
        /// The device.
        addr: SocketAddr,
        /// The HTTP status code.
        status: u16,
    },
    /// The telegram endpoint answered with something that is not a DSMR telegram.
    #[error(
        "the HomeWizard P1 meter at {addr} answered with something that is not a meter telegram"
    )]
    NotTelegram {
        /// The device.
        addr: SocketAddr,
    },
    /// The answer broke the HTTP rules or Hearth's caps.
    #[error("the HomeWizard P1 meter: {0}")]
    Http(HttpError),
}

impl HomeWizardError {
    /// Whether trying again can never help (a public address, another kind of device).
    pub fn is_permanent(&self) -> bool {
        matches!(
            self,
            HomeWizardError::Address(_) | HomeWizardError::NotP1 { .. }
        )
    }
}

impl From<HttpError> for HomeWizardError {
    fn from(e: HttpError) -> Self {
        match e {
            HttpError::Refused(a) => HomeWizardError::Refused(a),
            HttpError::Timeout(a) => HomeWizardError::Timeout(a),
            other => HomeWizardError::Http(other),
        }
    }
}

/// What `GET /api` says about the device (its serial, the MAC address, is not kept).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Device {
    /// `HWE-P1` for the P1 meter.
    pub product_type: String,
    /// A fixed name, e.g. `P1 meter`.
    pub product_name: Option<String>,
    /// The firmware version.
    pub firmware_version: Option<String>,
    /// `v1`, or a v2 version such as `2.0.0`.
    pub api_version: Option<String>,
}

/// An open P1 meter: the address that answered, and the telegrams not yet handed on.
#[derive(Debug)]
pub(crate) struct HomeWizardLink {
    addr: SocketAddr,
    host: String,
    limits: Limits,
    /// The last body received (a repeat of it is not handed on).
    last: Vec<u8>,
    pending: Vec<u8>,
    pos: usize,
    next_poll: Instant,
}

/// The caps for `options`: the connection timeout, the answer timeout for the whole exchange.
fn limits(options: &ReaderOptions) -> Limits {
    Limits {
        head: 8 * 1024,
        body: MAX_BODY,
        connect: options.connect_timeout,
        exchange: options.answer_timeout,
    }
}

/// The addresses of `source` the LAN rule allows.
async fn resolve(
    source: &HomeWizardSource,
    options: &ReaderOptions,
) -> Result<Vec<SocketAddr>, HomeWizardError> {
    let lookup = tokio::net::lookup_host((source.host.as_str(), source.port));
    let resolved = match timeout(options.connect_timeout, lookup).await {
        Ok(Ok(addrs)) => addrs.collect::<Vec<_>>(),
        Ok(Err(e)) => {
            return Err(HomeWizardError::Lookup {
                host: source.host.clone(),
                detail: e.to_string(),
            });
        }
        Err(_) => {
            return Err(HomeWizardError::Lookup {
                host: source.host.clone(),
                detail: "the look-up timed out".into(),
            });
        }
    };
    Ok(allowed_addresses(resolved, source.allow_public)?)
}

/// The `Host` header: the name as given, with the port when it is not 80.
fn host_header(source: &HomeWizardSource) -> String {
    if source.port == 80 {
        if source.host.contains(':') {
            format!("[{}]", source.host)
        } else {
            source.host.clone()
        }
    } else {
        host_port(&source.host, source.port)
    }
}

/// The string value of a top-level `"key": "value"` in a small JSON object, without escapes
/// (HomeWizard's device fields have none); `None` when absent or not a plain string.
fn json_string<'a>(json: &'a str, key: &str) -> Option<&'a str> {
    let quoted = format!("\"{key}\"");
    let at = json.find(&quoted)? + quoted.len();
    let rest = json[at..].trim_start().strip_prefix(':')?.trim_start();
    let rest = rest.strip_prefix('"')?;
    let end = rest.find('"')?;
    let value = &rest[..end];
    (!value.contains('\\') && value.len() <= 64).then_some(value)
}

/// `GET /api`: which device answers at `addr`.
async fn identify_at(
    addr: SocketAddr,
    host: &str,
    limits: &Limits,
) -> Result<Device, HomeWizardError> {
    let small = Limits {
        body: 4096,
        ..*limits
    };
    let r = http::get(addr, host, "/api", &small).await?;
    match r.status {
        200 => {}
        403 => return Err(HomeWizardError::LocalApiOff { addr }),
        status => {
            return Err(HomeWizardError::NotHomeWizard {
                addr,
                detail: format!("GET /api answered {status}"),
            });
        }
    }
    let text = std::str::from_utf8(&r.body).unwrap_or_default();
    let Some(product_type) = json_string(text, "product_type") else {
        return Err(HomeWizardError::NotHomeWizard {
            addr,
            detail: "GET /api names no product type".into(),
        });
    };
    let device = Device {
        product_type: product_type.to_owned(),
        product_name: json_string(text, "product_name").map(str::to_owned),
        firmware_version: json_string(text, "firmware_version").map(str::to_owned),
        api_version: json_string(text, "api_version").map(str::to_owned),
    };
    if device.product_type != P1_PRODUCT_TYPE {
        return Err(HomeWizardError::NotP1 {
            addr,
            product_type: device.product_type,
        });
    }
    match device.api_version.as_deref() {
        None | Some("v1") => Ok(device),
        Some(v) => Err(HomeWizardError::V2Only {
            addr,
            api_version: v.to_owned(),
        }),
    }
}

/// `GET /api/v1/telegram`: the last telegram, with a line end after its CRC (the decoder needs
/// one to know the telegram ended); `None` while the meter has sent none yet (an empty body).
async fn telegram_at(
    addr: SocketAddr,
    host: &str,
    limits: &Limits,
) -> Result<Option<Vec<u8>>, HomeWizardError> {
    let r = http::get(addr, host, "/api/v1/telegram", limits).await?;
    match r.status {
        200 => {}
        403 | 404 => return Err(HomeWizardError::LocalApiOff { addr }),
        status => return Err(HomeWizardError::Status { addr, status }),
    }
    let mut body = r.body;
    let start = body.iter().position(|b| !b.is_ascii_whitespace());
    let Some(start) = start else {
        return Ok(None);
    };
    if body[start] != b'/' || !body.contains(&b'!') {
        return Err(HomeWizardError::NotTelegram { addr });
    }
    if !body.ends_with(b"\n") {
        body.extend_from_slice(b"\r\n");
    }
    Ok(Some(body))
}

/// The first address of `source` where a HomeWizard P1 meter answers, and what it is.
async fn find(
    source: &HomeWizardSource,
    options: &ReaderOptions,
) -> Result<(SocketAddr, Device), HomeWizardError> {
    let host = host_header(source);
    let limits = limits(options);
    let mut last = None;
    for addr in resolve(source, options).await? {
        match identify_at(addr, &host, &limits).await {
            Ok(device) => return Ok((addr, device)),
            // Another address of the same name may be the meter; a wrong device is final.
            Err(e @ (HomeWizardError::Refused(_) | HomeWizardError::Timeout(_))) => last = Some(e),
            Err(e) => return Err(e),
        }
    }
    Err(last.unwrap_or_else(|| HomeWizardError::Lookup {
        host: source.host.clone(),
        detail: "it has no address".into(),
    }))
}

/// What the device at `source` is (`GET /api`), checked to be a P1 meter speaking API v1.
pub async fn identify(
    source: &HomeWizardSource,
    options: &ReaderOptions,
) -> Result<Device, HomeWizardError> {
    find(source, options).await.map(|(_, d)| d)
}

/// One telegram from the P1 meter at `source`, for a preview: checks the device (`GET /api`),
/// then `GET /api/v1/telegram`. The bytes go to a DSMR decoder as they are. A meter that has
/// sent nothing yet is asked again once a second until `options.answer_timeout` passes.
pub async fn fetch_telegram(
    source: &HomeWizardSource,
    options: &ReaderOptions,
) -> Result<Vec<u8>, HomeWizardError> {
    let (addr, _) = find(source, options).await?;
    let host = host_header(source);
    let limits = limits(options);
    let give_up = Instant::now() + options.answer_timeout;
    loop {
        if let Some(t) = telegram_at(addr, &host, &limits).await? {
            return Ok(t);
        }
        if Instant::now() + POLL_EVERY > give_up {
            return Err(HomeWizardError::Timeout(addr));
        }
        tokio::time::sleep(POLL_EVERY).await;
    }
}

impl HomeWizardLink {
    /// Finds the meter and asks for its first telegram.
    pub(crate) async fn open(
        source: &HomeWizardSource,
        options: &ReaderOptions,
    ) -> Result<HomeWizardLink, HomeWizardError> {
        let (addr, _) = find(source, options).await?;
        let mut link = HomeWizardLink {
            addr,
            host: host_header(source),
            limits: limits(options),
            last: Vec::new(),
            pending: Vec::new(),
            pos: 0,
            next_poll: Instant::now(),
        };
        link.poll().await?;
        Ok(link)
    }

    /// After a reconnect: `last` is the telegram handed on before it, which is not handed on
    /// again (the meter may not have sent a new one yet).
    pub(crate) fn continue_after(&mut self, last: Vec<u8>) {
        if last.is_empty() {
            return;
        }
        if self.pos == 0 && self.pending == last {
            self.pending.clear();
        }
        if self.last.is_empty() {
            self.last = last;
        }
    }

    /// The last telegram received, for [`HomeWizardLink::continue_after`].
    pub(crate) fn take_last(&mut self) -> Vec<u8> {
        std::mem::take(&mut self.last)
    }

    /// Asks for the telegram now; keeps it when it differs from the last one.
    async fn poll(&mut self) -> Result<(), HomeWizardError> {
        self.next_poll = (self.next_poll + POLL_EVERY).max(Instant::now());
        if let Some(body) = telegram_at(self.addr, &self.host, &self.limits).await?
            && body != self.last
        {
            self.pending.clone_from(&body);
            self.pos = 0;
            self.last = body;
        }
        Ok(())
    }

    /// The next bytes of new telegrams, polling once a second until there are some. Cancel-safe:
    /// a poll dropped midway is simply asked again.
    pub(crate) async fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        while self.pos == self.pending.len() {
            sleep_until(self.next_poll).await;
            self.poll().await.map_err(std::io::Error::other)?;
        }
        let n = (self.pending.len() - self.pos).min(buf.len());
        buf[..n].copy_from_slice(&self.pending[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn device_fields_from_the_documented_answer() {
        // HomeWizard's documented `GET /api` answer (v1, "Device information").
        let json = r#"{
      "product_type": "HWE-P1",
      "product_name": "P1 Meter",
      "serial": "3c39e7aabbcc",
      "firmware_version": "5.18",
      "api_version": "v1"
}"#;
        assert_eq!(json_string(json, "product_type"), Some("HWE-P1"));
        assert_eq!(json_string(json, "firmware_version"), Some("5.18"));
        assert_eq!(json_string(json, "api_version"), Some("v1"));
        assert_eq!(json_string(json, "missing"), None);
        assert_eq!(json_string(r#"{"product_type": 3}"#, "product_type"), None);
        assert_eq!(
            json_string(r#"{"product_type": "a\"b"}"#, "product_type"),
            None
        );
    }

    #[test]
    fn host_headers() {
        let s = |host: &str, port| HomeWizardSource {
            host: host.into(),
            port,
            allow_public: false,
        };
        assert_eq!(host_header(&s("192.168.1.50", 80)), "192.168.1.50");
        assert_eq!(host_header(&s("p1meter.local", 8080)), "p1meter.local:8080");
        assert_eq!(host_header(&s("fd00::5", 80)), "[fd00::5]");
        assert_eq!(host_header(&s("fd00::5", 81)), "[fd00::5]:81");
    }
}
