//! MQTT client link: subscribes to a broker on the local network (where a Glow CAD, Tasmota or
//! ESPHome bridge publishes) and hands each message on as one `TOPIC PAYLOAD` line, the form the
//! Glow and mapped decoders read (the same as `mosquitto_sub -v` prints).
//!
//! Hearth is only ever a client here: it resolves the broker's name, keeps the addresses the
//! LAN rule allows ([`crate::network`]) and only then connects. Reconnecting after the broker
//! goes away is the [`crate::Reader`]'s job (its backoff), not the MQTT library's: each attempt
//! is a fresh connection that passes the address check again. The password is handed in by the
//! caller (the vault keeps it sealed) and never shown, logged or put in a `Debug` output.

use crate::reader::OpenError;
use crate::source::{MqttPreset, MqttSource};
use hearth_meter::Decoder;
use hearth_meter::glow::{GlowDecoder, MappedDecoder, MqttMapping};
use rumqttc::{
    AsyncClient, ConnAck, ConnectReturnCode, ConnectionError, Event, EventLoop, MqttOptions,
    Packet, Publish, QoS, SubscribeReasonCode, TlsConfiguration, Transport,
};
use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

/// The largest MQTT packet accepted from the broker (a Glow payload is about 600 bytes; the
/// decoders reject lines above 64 KiB as oversized, counted).
const MAX_INCOMING_PACKET: usize = 256 * 1024;

/// How often the client pings an otherwise quiet broker.
const KEEP_ALIVE: Duration = Duration::from_secs(30);

/// The decoder for a broker's messages: [`GlowDecoder`] for Glow, a [`MappedDecoder`] with
/// the preset's mapping for Tasmota and ESPHome. For ESPHome the node is the first level of
/// the source's topic filter (`+` when it is a wildcard).
pub fn decoder_for(source: &MqttSource) -> Box<dyn Decoder + Send> {
    match source.preset {
        MqttPreset::Glow => Box::new(GlowDecoder::new()),
        MqttPreset::Tasmota => Box::new(MappedDecoder::new(MqttMapping::tasmota_sml())),
        MqttPreset::Esphome => {
            let node = source.topic.split('/').next().unwrap_or("+");
            let node = if node.is_empty() || node == "#" {
                "+"
            } else {
                node
            };
            Box::new(MappedDecoder::new(MqttMapping::esphome_dsmr(node)))
        }
    }
}

/// An open MQTT subscription, read as a byte stream of `TOPIC PAYLOAD\n` lines.
pub(crate) struct MqttLink {
    /// Kept alive: the event loop ends when every client handle is dropped.
    _client: AsyncClient,
    events: EventLoop,
    /// `HOST:PORT`, for messages.
    broker: String,
    line: Vec<u8>,
    pos: usize,
}

impl fmt::Debug for MqttLink {
    /// No options: they hold the credentials.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MqttLink")
            .field("pending", &(self.line.len() - self.pos))
            .finish_non_exhaustive()
    }
}

/// A client id unique to this process and connection, so two collectors never kick each
/// other off the broker.
fn client_id() -> String {
    static N: AtomicU32 = AtomicU32::new(0);
    format!(
        "hearth-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    )
}

/// Words a homeowner can act on for a failed connection or a lost one.
fn reason(broker: &str, e: &ConnectionError) -> String {
    match e {
        ConnectionError::ConnectionRefused(code) => match code {
            // Mosquitto answers "not authorized" to a wrong password too.
            ConnectReturnCode::BadUserNamePassword | ConnectReturnCode::NotAuthorized => {
                format!("the MQTT broker {broker} refused the user name or password")
            }
            ConnectReturnCode::ServiceUnavailable => {
                format!("the MQTT broker {broker} is not available")
            }
            other => format!("the MQTT broker {broker} refused the connection ({other:?})"),
        },
        ConnectionError::NetworkTimeout => format!("connecting to {broker} timed out"),
        ConnectionError::Io(io) => match io.kind() {
            std::io::ErrorKind::ConnectionRefused => {
                format!("nothing answers at {broker} (is the MQTT broker running?)")
            }
            std::io::ErrorKind::UnexpectedEof | std::io::ErrorKind::ConnectionReset => {
                format!("the MQTT broker {broker} closed the connection")
            }
            _ => format!("MQTT broker {broker}: {io}"),
        },
        ConnectionError::Tls(t) => format!("TLS with the MQTT broker {broker} failed: {t}"),
        other => format!("MQTT broker {broker}: {other}"),
    }
}

/// A TLS configuration on the ring provider, trusting `source.ca` or the system's roots.
fn tls_config(source: &MqttSource) -> Result<Arc<rustls::ClientConfig>, OpenError> {
    use rustls::pki_types::CertificateDer;
    use rustls::pki_types::pem::PemObject as _;
    let mut roots = rustls::RootCertStore::empty();
    match &source.ca {
        Some(path) => {
            let certs = CertificateDer::pem_file_iter(path)
                .and_then(|it| it.collect::<Result<Vec<_>, _>>())
                .map_err(|e| {
                    OpenError::Fatal(format!(
                        "cannot read the CA certificate {}: {e}",
                        path.display()
                    ))
                })?;
            let (added, _) = roots.add_parsable_certificates(certs);
            if added == 0 {
                return Err(OpenError::Fatal(format!(
                    "{} holds no usable CA certificate (PEM expected)",
                    path.display()
                )));
            }
        }
        None => {
            let native = rustls_native_certs::load_native_certs();
            roots.add_parsable_certificates(native.certs);
            if roots.is_empty() {
                return Err(OpenError::Fatal(
                    "no trusted certificates found on this system for TLS; give the broker's \
                     CA with ca=FILE"
                        .into(),
                ));
            }
        }
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| OpenError::Fatal(format!("TLS setup failed: {e}")))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(Arc::new(config))
}

impl MqttLink {
    /// Resolves the broker, applies the LAN rule, connects, waits for the broker's
    /// acknowledgement and subscribes to the source's topic filter.
    pub(crate) async fn open(
        source: &MqttSource,
        password: Option<&str>,
        connect_timeout: Duration,
    ) -> Result<MqttLink, OpenError> {
        let host = source.host.as_str();
        let port = source.port;
        let resolved = match tokio::time::timeout(
            connect_timeout,
            tokio::net::lookup_host((host, port)),
        )
        .await
        {
            Ok(Ok(addrs)) => addrs.collect::<Vec<_>>(),
            Ok(Err(e)) => return Err(OpenError::Retry(format!("cannot find {host}: {e}"))),
            Err(_) => return Err(OpenError::Retry(format!("looking up {host} timed out"))),
        };
        let allowed = crate::network::allowed_addresses(resolved, source.allow_public)
            .map_err(|e| OpenError::Fatal(e.to_string()))?;
        if !rumqttc::valid_filter(&source.topic) {
            return Err(OpenError::Fatal(format!(
                "'{}' is not an MQTT topic filter",
                source.topic
            )));
        }
        let tls = if source.tls {
            Some(tls_config(source)?)
        } else {
            None
        };
        let mut last = format!("{host} has no address");
        for addr in allowed {
            // Plain TCP connects to the address that passed the check, so the library cannot
            // resolve the name again to something else. TLS needs the name to verify the
            // certificate; the name was checked just above.
            let broker = match &tls {
                Some(_) => host.to_owned(),
                None if addr.is_ipv6() => format!("[{}]", addr.ip()),
                None => addr.ip().to_string(),
            };
            let mut options = MqttOptions::new(client_id(), broker, port);
            options
                .set_keep_alive(KEEP_ALIVE)
                .set_clean_session(true)
                .set_max_packet_size(MAX_INCOMING_PACKET, 64 * 1024);
            if let Some(user) = &source.user {
                options.set_credentials(user.clone(), password.unwrap_or_default());
            }
            if let Some(config) = &tls {
                options.set_transport(Transport::tls_with_config(TlsConfiguration::Rustls(
                    config.clone(),
                )));
            }
            let (client, mut events) = AsyncClient::new(options, 16);
            let mut network = events.network_options();
            network.set_connection_timeout(connect_timeout.as_secs().max(1));
            events.set_network_options(network);
            // Queued now, sent right after the broker's acknowledgement.
            if let Err(e) = client.try_subscribe(source.topic.clone(), QoS::AtMostOnce) {
                return Err(OpenError::Fatal(format!(
                    "cannot subscribe to {}: {e}",
                    source.topic
                )));
            }
            let shown = crate::source::host_port(host, port);
            match events.poll().await {
                Ok(Event::Incoming(Packet::ConnAck(ConnAck {
                    code: ConnectReturnCode::Success,
                    ..
                }))) => {}
                Ok(other) => {
                    last = format!("MQTT broker {shown} answered {other:?}");
                    continue;
                }
                Err(e) => {
                    last = reason(&shown, &e);
                    continue;
                }
            }
            let mut link = MqttLink {
                _client: client,
                events,
                broker: shown.clone(),
                line: Vec::new(),
                pos: 0,
            };
            // Connected means subscribed: wait for the broker to confirm the subscription,
            // so nothing published after `Connected` is missed.
            let subscribed = tokio::time::timeout(connect_timeout, link.until_subscribed()).await;
            return match subscribed {
                Ok(Ok(())) => Ok(link),
                Ok(Err(reason)) => Err(OpenError::Retry(reason)),
                Err(_) => Err(OpenError::Retry(format!(
                    "the MQTT broker {shown} did not confirm the subscription"
                ))),
            };
        }
        Err(OpenError::Retry(last))
    }

    /// Polls until the broker acknowledges the subscription; messages arriving meanwhile
    /// are kept.
    async fn until_subscribed(&mut self) -> Result<(), String> {
        loop {
            match self.events.poll().await {
                Ok(Event::Incoming(Packet::SubAck(ack))) => {
                    return if ack
                        .return_codes
                        .iter()
                        .any(|c| matches!(c, SubscribeReasonCode::Failure))
                    {
                        Err(
                            "the MQTT broker refused the subscription (check the topic and \
                             the user's rights)"
                                .into(),
                        )
                    } else {
                        Ok(())
                    };
                }
                Ok(Event::Incoming(Packet::Publish(p))) => self.keep(&p),
                Ok(_) => {}
                Err(e) => return Err(reason(&self.broker, &e)),
            }
        }
    }

    /// Appends one message as a `TOPIC PAYLOAD` line.
    fn keep(&mut self, p: &Publish) {
        self.line.extend_from_slice(p.topic.as_bytes());
        self.line.push(b' ');
        // One message, one line: JSON may be pretty-printed, and whitespace between its
        // tokens means nothing.
        self.line.extend(p.payload.iter().map(|b| match b {
            b'\n' | b'\r' => b' ',
            b => *b,
        }));
        self.line.push(b'\n');
    }

    /// The next bytes: the rest of the current message line, or the next message's.
    /// Cancel-safe: a message is kept in `line` as soon as it is polled.
    pub(crate) async fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        while self.pos == self.line.len() {
            self.line.clear();
            self.pos = 0;
            match self.events.poll().await {
                Ok(Event::Incoming(Packet::Publish(p))) => self.keep(&p),
                Ok(_) => {}
                Err(e) => return Err(std::io::Error::other(reason(&self.broker, &e))),
            }
        }
        let n = (self.line.len() - self.pos).min(buf.len());
        buf[..n].copy_from_slice(&self.line[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}
