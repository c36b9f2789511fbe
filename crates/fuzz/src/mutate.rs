//! Deterministic, seeded byte mutations for the fuzz driver: bit flips, byte edits, chunk
//! duplication, splicing, truncation, format tokens (quotes, commas, braces, line breaks,
//! BOMs, NULs), huge runs, UTF-16 re-encoding, gzip wrapping and line shuffles.

use crate::seeds::gzip;

/// Largest input the mutator produces; big enough for size-limit paths, small enough to
/// keep executions fast.
pub const MAX_INPUT_BYTES: usize = 256 * 1024;
/// Most mutations stacked on one input.
const MAX_STACK: u64 = 8;
/// Longest run of one byte a "huge run" inserts.
const MAX_RUN: u64 = 100_000;

/// Tokens every format gets, on top of the target's dictionary.
const COMMON_TOKENS: &[&[u8]] = &[
    b"\xef\xbb\xbf",
    b"\xff\xfe",
    b"\x00",
    b"\xff",
    b"\xc3",
    b"\xed\xa0\x80",
    "\u{feff}".as_bytes(),
    "é".as_bytes(),
    "𝄞".as_bytes(),
    "\u{202e}".as_bytes(),
    b"\r",
    b"\n",
    b"\r\n",
    b" ",
    b"\t",
];

/// SplitMix64: tiny, fast and reproducible from a seed.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Self(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (0 when `n` is 0).
    pub fn below(&mut self, n: u64) -> u64 {
        if n == 0 {
            0
        } else {
            self.next_u64() % n
        }
    }

    pub fn index(&mut self, len: usize) -> usize {
        self.below(len as u64) as usize
    }

    pub fn chance(&mut self, one_in: u64) -> bool {
        self.below(one_in) == 0
    }

    pub fn byte(&mut self) -> u8 {
        self.next_u64().to_le_bytes()[0]
    }
}

/// Applies stacked mutations using a target's dictionary and a pool of inputs to splice.
pub struct Mutator<'a> {
    pub rng: Rng,
    pub dictionary: &'a [&'a [u8]],
}

impl Mutator<'_> {
    /// A mutated copy of `input`, with 1 to 8 stacked mutations; `other` is a second input
    /// for splicing.
    pub fn mutate(&mut self, input: &[u8], other: &[u8]) -> Vec<u8> {
        let mut data = input.to_vec();
        let stack = 1 + self.rng.below(MAX_STACK);
        for _ in 0..stack {
            self.once(&mut data, other);
        }
        data.truncate(MAX_INPUT_BYTES);
        data
    }

    fn token(&mut self) -> &[u8] {
        let common = COMMON_TOKENS.len();
        let i = self.rng.index(common + self.dictionary.len());
        match i.checked_sub(common) {
            Some(j) => self.dictionary.get(j).copied().unwrap_or_default(),
            None => COMMON_TOKENS.get(i).copied().unwrap_or_default(),
        }
    }

    /// A position near a structural byte, so edits land where parsers make decisions.
    fn interesting_pos(&mut self, data: &[u8]) -> usize {
        let at = self.rng.index(data.len() + 1);
        if self.rng.chance(2) {
            let structural = |b: &u8| b"\"{}[],:\n\r$=".contains(b);
            if let Some(off) = data.get(at..).and_then(|d| d.iter().position(structural)) {
                return at + off + usize::from(self.rng.chance(2));
            }
        }
        at
    }

    fn once(&mut self, data: &mut Vec<u8>, other: &[u8]) {
        let len = data.len();
        match self.rng.below(18) {
            0 if len > 0 => {
                let i = self.rng.index(len);
                let bit = 1u8 << self.rng.below(8);
                if let Some(b) = data.get_mut(i) {
                    *b ^= bit;
                }
            }
            1 if len > 0 => {
                let i = self.rng.index(len);
                let b = self.rng.byte();
                if let Some(slot) = data.get_mut(i) {
                    *slot = b;
                }
            }
            2 => {
                let i = self.rng.index(len + 1);
                let b = self.rng.byte();
                data.insert(i, b);
            }
            3 if len > 0 => {
                let i = self.rng.index(len);
                let n = 1 + self.rng.index((len - i).min(64));
                data.drain(i..i + n);
            }
            4 if len > 0 => {
                // Duplicate a chunk in place.
                let i = self.rng.index(len);
                let n = 1 + self.rng.index((len - i).min(4096));
                let chunk = data.get(i..i + n).unwrap_or_default().to_vec();
                let at = self.rng.index(data.len() + 1);
                data.splice(at..at, chunk);
            }
            5 if !other.is_empty() => {
                // Splice: a prefix of this input and a suffix of the other.
                let cut = self.interesting_pos(data).min(data.len());
                let from = self.rng.index(other.len());
                data.truncate(cut);
                data.extend_from_slice(other.get(from..).unwrap_or_default());
            }
            6 if len > 0 => {
                let at = self.interesting_pos(data).min(len);
                data.truncate(at);
            }
            7..=9 => {
                let at = self.interesting_pos(data).min(data.len());
                let token = self.token().to_vec();
                data.splice(at..at, token);
            }
            10 => {
                // A huge run of one byte (the size-limit paths).
                let at = self.rng.index(len + 1);
                let b = *b"x\"{[ ,\n0\\".get(self.rng.index(9)).unwrap_or(&b'x');
                let n = 1 + self.rng.below(MAX_RUN) as usize;
                let n = n.min(MAX_INPUT_BYTES.saturating_sub(len));
                data.splice(at..at, std::iter::repeat_n(b, n));
            }
            11 if self.rng.chance(4) => {
                // UTF-16 re-encoding, with or without a byte-order mark.
                let text = String::from_utf8_lossy(data).into_owned();
                let big = self.rng.chance(2);
                let mut out = Vec::with_capacity(text.len() * 2 + 2);
                if self.rng.chance(2) {
                    out.extend_from_slice(if big { b"\xfe\xff" } else { b"\xff\xfe" });
                }
                for unit in text.encode_utf16() {
                    out.extend_from_slice(&if big {
                        unit.to_be_bytes()
                    } else {
                        unit.to_le_bytes()
                    });
                }
                *data = out;
            }
            12 if self.rng.chance(3) => {
                let mut zipped = gzip(data);
                if self.rng.chance(2) && !zipped.is_empty() {
                    // A truncated or corrupted gzip stream.
                    let cut = 2 + self.rng.index(zipped.len().saturating_sub(2).max(1));
                    zipped.truncate(cut);
                }
                *data = zipped;
            }
            13 if len > 0 => {
                // Swap two lines, or duplicate one.
                let mut lines: Vec<Vec<u8>> = data
                    .split_inclusive(|&b| b == b'\n')
                    .map(<[u8]>::to_vec)
                    .collect();
                let a = self.rng.index(lines.len());
                let b = self.rng.index(lines.len());
                if self.rng.chance(2) {
                    lines.swap(a, b);
                } else if let Some(line) = lines.get(a).cloned() {
                    lines.insert(b, line);
                }
                *data = lines.concat();
            }
            14 if len > 0 => {
                // Replace a digit run with an extreme number.
                let numbers: [&[u8]; 6] = [
                    b"0",
                    b"-1",
                    b"4294967296",
                    b"99999999999999999999",
                    b"1e308",
                    b"-0.0",
                ];
                if let Some(start) = data.iter().position(u8::is_ascii_digit).map(|p| {
                    let skip = self.rng.index(len - p);
                    data.iter()
                        .skip(p + skip)
                        .position(u8::is_ascii_digit)
                        .map_or(p, |q| p + skip + q)
                }) {
                    let end = data
                        .iter()
                        .skip(start)
                        .position(|b| !b.is_ascii_digit())
                        .map_or(len, |q| start + q);
                    let pick = numbers
                        .get(self.rng.index(numbers.len()))
                        .copied()
                        .unwrap_or(b"0");
                    data.splice(start..end, pick.iter().copied());
                }
            }
            15 if len > 1 => {
                // Copy a chunk over another place (keeps the length).
                let n = 1 + self.rng.index(len.min(64));
                let from = self.rng.index(len - n + 1);
                let to = self.rng.index(len - n + 1);
                let chunk = data.get(from..from + n).unwrap_or_default().to_vec();
                data.splice(to..to + n, chunk);
            }
            16 if len > 0 => {
                // Delete a larger range (whole fields and records).
                let i = self.rng.index(len);
                let n = 1 + self.rng.index((len - i).min(2048));
                data.drain(i..i + n);
            }
            _ => {
                let at = self.interesting_pos(data).min(data.len());
                let token = self.token().to_vec();
                let copies = 1 + self.rng.index(4);
                for _ in 0..copies {
                    data.splice(at..at, token.iter().copied());
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mutation_is_deterministic_for_a_seed_and_bounded() {
        let run = |seed| {
            let mut m = Mutator {
                rng: Rng::new(seed),
                dictionary: &[b"{"],
            };
            (0..200)
                .map(|_| m.mutate(b"{\"a\":[1,2]}\n{\"b\":\"c\"}\n", b"x,y\n"))
                .collect::<Vec<_>>()
        };
        let a = run(42);
        assert_eq!(a, run(42));
        assert_ne!(a, run(43));
        assert!(a.iter().all(|m| m.len() <= MAX_INPUT_BYTES));
        assert!(
            a.iter().any(|m| m.starts_with(&[0x1f, 0x8b])),
            "gzip wrapping happens"
        );
    }

    #[test]
    fn below_stays_in_range() {
        let mut rng = Rng::new(1);
        assert!((0..1000).all(|_| rng.below(7) < 7));
        assert_eq!(rng.below(0), 0);
    }
}
