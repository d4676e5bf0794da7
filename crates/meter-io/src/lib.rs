//! Meter sources: where bytes come from (serial ports, LAN bridges, recorded files, a simulated
//! household meter) and how a port's settings and protocol are detected.
#![forbid(unsafe_code)]
