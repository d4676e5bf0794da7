//! What the user chose in the desktop's file dialogs (or dropped on its window), held on this
//! side of the window: the page gets a random single-use token for each choice and acts on it
//! by giving the token back, so a path the page makes up opens or writes nothing.

use std::time::{Duration, Instant};

/// 128 random bits.
type Token = [u8; 16];

/// Choices of `T` (a file to write, files to read), each behind a token, for
/// [`Held::FOR`] at most and [`Held::MOST`] at once.
#[derive(Debug)]
pub struct Held<T> {
    held: Vec<(Token, T, Instant)>,
}

impl<T> Default for Held<T> {
    fn default() -> Self {
        Held { held: Vec::new() }
    }
}

/// The system's random number generator failed: no token could be made.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("The system's random number generator failed; try again.")]
pub struct NoRandom;

impl<T> Held<T> {
    /// How long a choice stays good.
    pub const FOR: Duration = Duration::from_secs(15 * 60);
    /// Choices held at most: a new one pushes out the oldest.
    pub const MOST: usize = 8;

    /// Holds `item`, chosen at `now`; returns its token (32 hex digits).
    pub fn hold(&mut self, item: T, now: Instant) -> Result<String, NoRandom> {
        let mut token: Token = [0; 16];
        getrandom::fill(&mut token).map_err(|_| NoRandom)?;
        self.forget_expired(now);
        if self.held.len() >= Self::MOST {
            self.held.remove(0);
        }
        self.held.push((token, item, now));
        Ok(token.iter().map(|b| format!("{b:02x}")).collect())
    }

    /// What `token` stands for, given up (a token works once); `None` for a token never
    /// given, already used or older than [`Held::FOR`] at `now`.
    pub fn take(&mut self, token: &str, now: Instant) -> Option<T> {
        self.forget_expired(now);
        let wanted = parse_token(token)?;
        // Each comparison reads every byte, so its time says nothing about how much matched.
        let i = self.held.iter().position(|(t, ..)| {
            t.iter().zip(&wanted).fold(0u8, |acc, (a, b)| acc | (a ^ b)) == 0
        })?;
        Some(self.held.remove(i).1)
    }

    fn forget_expired(&mut self, now: Instant) {
        self.held
            .retain(|(_, _, at)| now.saturating_duration_since(*at) < Self::FOR);
    }
}

/// 32 lowercase hex digits back into a token.
fn parse_token(s: &str) -> Option<Token> {
    let s = s.as_bytes();
    if s.len() != 32 || !s.iter().all(u8::is_ascii_hexdigit) {
        return None;
    }
    let mut t: Token = [0; 16];
    for (b, pair) in t.iter_mut().zip(s.chunks(2)) {
        *b = u8::from_str_radix(std::str::from_utf8(pair).ok()?, 16).ok()?;
    }
    Some(t)
}
