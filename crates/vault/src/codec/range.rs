//! Adaptive binary range coding of a column's bytes (the LZMA range coder): each byte is coded
//! bit by bit down a binary tree of adaptive probabilities, so a column whose small deltas
//! take a few distinct byte values costs close to their entropy, below zstd's one bit per
//! byte. The probabilities depend on whether the previous byte continued a varint, so first
//! and later bytes of a number are modelled apart, and adapt fast while a node learns and
//! slower once it has seen enough. No tables are stored: both sides adapt the same way.

/// Probabilities are 15-bit fixed point (32768 = certain).
const PROB_BITS: u32 = 15;
const TOP: u32 = 1 << 24;
/// How far each bit moves its node's probability (as a shift: 1 = half the way), by how
/// often the node has been seen: fast while it learns, steady once it knows.
const RATE: [u8; 24] = [
    1, 2, 2, 3, 3, 3, 4, 4, 4, 4, 4, 5, 5, 5, 5, 5, 5, 5, 6, 6, 6, 6, 6, 6,
];
const RATE_MAX: u8 = 6;
/// [`RATE`] for every possible `seen` (then [`RATE_MAX`]), so the hot loop looks it up
/// without a bounds check.
const RATE_BY_SEEN: [u8; 256] = {
    let mut t = [RATE_MAX; 256];
    let mut i = 0;
    while i < RATE.len() {
        t[i] = RATE[i];
        i += 1;
    }
    t
};

/// One adaptive bit probability with its use count.
#[derive(Clone, Copy)]
struct Prob {
    p: u16,
    seen: u8,
}

impl Prob {
    const INIT: Prob = Prob {
        p: 1 << (PROB_BITS - 1),
        seen: 0,
    };

    /// Moves the probability towards `bit` (0 or 1). Without branches on the bit: noisy
    /// columns make it unpredictable, and a mispredicted branch costs more than both paths.
    #[inline]
    fn update(&mut self, bit: u8) {
        let shift = RATE_BY_SEEN[usize::from(self.seen)];
        let p = u32::from(self.p);
        let up = ((1 << PROB_BITS) - p) >> shift;
        let down = p >> shift;
        let one = 0u32.wrapping_sub(u32::from(bit));
        // p stays within 1..2^15 - 1, so it fits u16.
        self.p = (p + (up & !one) - (down & one)) as u16;
        self.seen = self.seen.saturating_add(1);
    }
}

/// One 256-leaf probability tree per context.
struct Model {
    trees: [[Prob; 256]; CONTEXTS],
}

impl Model {
    fn new() -> Self {
        Model {
            trees: [[Prob::INIT; 256]; CONTEXTS],
        }
    }
}

const CONTEXTS: usize = 2;

/// The context of the next byte: 1 when the previous byte continued a varint, so first and
/// later bytes of a number learn their own statistics.
#[inline]
fn context(prev: u8) -> usize {
    usize::from(prev >> 7)
}

/// Range-codes `bytes`; [`decode`] with `bytes.len()` gives them back.
pub(super) fn encode(bytes: &[u8]) -> Vec<u8> {
    let mut sink = Sink {
        cache: 0,
        cache_size: 1,
        out: Vec::with_capacity(bytes.len() / 2 + 8),
    };
    // The coder's state lives in locals so it stays in registers in the hot loop.
    let mut low = 0u64;
    let mut range = u32::MAX;
    let mut model = Model::new();
    let mut prev = 0u8;
    for &b in bytes {
        let tree = &mut model.trees[context(prev)];
        let mut node = 1usize;
        for i in (0..8).rev() {
            let bit = (b >> i) & 1;
            // `node` is below 256 here; the mask only spares the bounds check.
            let prob = &mut tree[node & 0xff];
            let bound = (range >> PROB_BITS) * u32::from(prob.p);
            // Branch-free: a 0 keeps [low, low + bound), a 1 the rest.
            let one = 0u32.wrapping_sub(u32::from(bit));
            low += u64::from(bound & one);
            range = (bound & !one) | (range.wrapping_sub(bound) & one);
            prob.update(bit);
            while range < TOP {
                range <<= 8;
                low = sink.shift_low(low);
            }
            node = node << 1 | usize::from(bit);
        }
        prev = b;
    }
    for _ in 0..5 {
        low = sink.shift_low(low);
    }
    sink.out
}

/// Decodes `len` bytes. Damaged input gives wrong bytes (which the column parser then
/// rejects or the vault's authentication has already caught), never a panic.
pub(super) fn decode(coded: &[u8], len: usize) -> Vec<u8> {
    let mut dec = Decoder {
        code: 0,
        range: u32::MAX,
        input: coded.iter(),
    };
    for _ in 0..5 {
        dec.code = dec.code << 8 | u32::from(dec.next_byte());
    }
    let mut model = Model::new();
    let mut out = Vec::with_capacity(len);
    let mut prev = 0u8;
    for _ in 0..len {
        let tree = &mut model.trees[context(prev)];
        let mut node = 1usize;
        for _ in 0..8 {
            let bit = dec.bit(&mut tree[node]);
            node = node << 1 | usize::from(bit);
        }
        let b = node as u8;
        out.push(b);
        prev = b;
    }
    out
}

/// Where the encoder's bytes go: LZMA's carry handling (a byte is held back while a carry
/// could still change it).
struct Sink {
    cache: u8,
    cache_size: u64,
    out: Vec<u8>,
}

impl Sink {
    /// Moves the top byte of `low` out; returns the new `low`. Called about once per byte
    /// coded: kept out of line so the bit loop keeps its state in registers.
    #[inline(never)]
    fn shift_low(&mut self, low: u64) -> u64 {
        if !(0xff00_0000..=0xffff_ffff).contains(&low) {
            let carry = (low >> 32) as u8;
            let mut temp = self.cache;
            loop {
                self.out.push(temp.wrapping_add(carry));
                temp = 0xff;
                self.cache_size -= 1;
                if self.cache_size == 0 {
                    break;
                }
            }
            self.cache = (low >> 24) as u8;
        }
        self.cache_size += 1;
        (low & 0x00ff_ffff) << 8
    }
}

struct Decoder<'a> {
    code: u32,
    range: u32,
    input: std::slice::Iter<'a, u8>,
}

impl Decoder<'_> {
    #[inline]
    fn next_byte(&mut self) -> u8 {
        self.input.next().copied().unwrap_or(0)
    }

    #[inline]
    fn bit(&mut self, prob: &mut Prob) -> u8 {
        let bound = (self.range >> PROB_BITS) * u32::from(prob.p);
        let bit = u8::from(self.code >= bound);
        let one = 0u32.wrapping_sub(u32::from(bit));
        self.code = self.code.wrapping_sub(bound & one);
        self.range = (bound & !one) | (self.range.wrapping_sub(bound) & one);
        prob.update(bit);
        while self.range < TOP {
            self.range <<= 8;
            self.code = self.code << 8 | u32::from(self.next_byte());
        }
        bit
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips() {
        let mut x = 0x1234_5678_9abc_def0u64;
        let mut noisy = Vec::new();
        for _ in 0..5000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            noisy.push((x % 7) as u8 * 2);
        }
        for bytes in [
            Vec::new(),
            vec![0],
            vec![0xff; 1000],
            (0..=255).collect::<Vec<u8>>(),
            noisy.clone(),
        ] {
            let coded = encode(&bytes);
            assert_eq!(decode(&coded, bytes.len()), bytes);
        }
        // Seven equally likely symbols: log2(7) = 2.81 bits each, so about 5000 * 2.81 / 8
        // = 1755 bytes, plus what the adaptation costs.
        let coded = encode(&noisy);
        assert!(coded.len() < 1_850, "{}", coded.len());
    }

    #[test]
    fn garbage_does_not_panic() {
        let _ = decode(&[], 100);
        let _ = decode(&[0xff; 3], 100);
        let _ = decode(&[0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0x12], 1000);
    }
}
