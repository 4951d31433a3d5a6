//! The strict scanner: a [`serde::Deserializer`] of the plain JSON yizhan writes.
//!
//! It reads strings without escapes and numbers without exponents, borrowing every
//! string from the text, and declines ([`Declined`]) anything else; the line reader
//! then reads the line the generic way. What it accepts is valid JSON and
//! deserialises as `serde_json` deserialises it: the same `visit_*` calls, the
//! numbers too (see [`Num`]). It never reads past a newline: one line, one feature.

use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::forward_to_deserialize_any;

/// Nesting deeper than this sends the line to the generic path.
const MAX_DEPTH: u32 = 64;

/// A strict reader of plain JSON, faster than `serde_json` on the lines yizhan
/// writes (see the [module](self) documentation).
pub(crate) struct Scan<'a> {
    s: &'a str,
    i: usize,
    depth: u32,
}

/// The scanner declined the text (the line reader then reads it the generic way).
#[derive(Debug)]
pub(crate) struct Declined;

impl fmt::Display for Declined {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("declined by the strict scanner")
    }
}

impl std::error::Error for Declined {}

impl de::Error for Declined {
    fn custom<T: fmt::Display>(_: T) -> Self {
        Declined
    }
}

/// 10^k for k ≤ 22, exact in f64 (and the same constants `serde_json` divides by).
const POW10: [f64; 23] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16,
    1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
];

/// A number as [`Scan::number`] read it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Num {
    negative: bool,
    /// All digits, without the point.
    significand: u64,
    /// Digits after the point (`None` without a point).
    fraction: Option<u32>,
}

impl Num {
    /// The value as `serde_json` gives it to an f64: `significand / 10^fraction`, one
    /// correctly rounded division of two exact values (significand < 2^53, fraction ≤ 22),
    /// which is also what its `float_roundtrip` mode would give.
    pub fn f64(self) -> Option<f64> {
        let k = self.fraction.unwrap_or(0) as usize;
        if self.significand > 1 << 53 || k >= POW10.len() {
            return None;
        }
        let f = self.significand as f64 / POW10[k];
        Some(if self.negative { -f } else { f })
    }

    /// Visit the number as `serde_json` does: a whole number without sign as a u64,
    /// with a sign as an i64 (`-0` as the f64 -0.0), any other as an f64.
    fn visit<'de, V: Visitor<'de>>(self, v: V) -> Result<V::Value, Declined> {
        match (self.fraction, self.negative) {
            (None, false) => v.visit_u64(self.significand),
            (None, true) if self.significand == 0 => v.visit_f64(-0.0),
            (None, true) => match i64::try_from(self.significand) {
                Ok(n) => v.visit_i64(-n),
                Err(_) => Err(Declined),
            },
            (Some(_), _) => v.visit_f64(self.f64().ok_or(Declined)?),
        }
    }
}

impl<'a> Scan<'a> {
    /// A scanner of `s` from byte `i`.
    pub fn at(s: &'a str, i: usize) -> Self {
        Scan { s, i, depth: 0 }
    }

    /// Where the scanner stands.
    pub fn pos(&self) -> usize {
        self.i
    }

    #[cfg(test)]
    fn new(s: &'a str) -> Self {
        Self::at(s, 0)
    }

    /// The text from where the scanner stands.
    pub fn rest(&self) -> &'a str {
        self.s.get(self.i..).unwrap_or("")
    }

    /// Step over `n` bytes already matched (with [`Scan::rest`]).
    pub fn skip_bytes(&mut self, n: usize) {
        self.i += n;
    }

    fn bytes(&self) -> &'a [u8] {
        self.s.as_bytes()
    }

    /// The next byte after whitespace, not counting newlines as whitespace: the
    /// scanner reads one line, and declines a value split over lines.
    pub fn peek(&mut self) -> Option<u8> {
        let b = self.bytes();
        if let Some(&c) = b.get(self.i) {
            if c > b' ' {
                return Some(c);
            }
        }
        while let Some(&c) = b.get(self.i) {
            if matches!(c, b' ' | b'\t' | b'\r') {
                self.i += 1;
            } else {
                return Some(c);
            }
        }
        None
    }

    pub fn eat(&mut self, c: u8) -> Option<()> {
        if self.peek()? == c {
            self.i += 1;
            Some(())
        } else {
            None
        }
    }

    /// `null` (consumed) or not (nothing consumed).
    pub fn null(&mut self) -> Option<bool> {
        if self.peek()? == b'n' {
            self.word(b"null")?;
            Some(true)
        } else {
            Some(false)
        }
    }

    fn word(&mut self, w: &[u8]) -> Option<()> {
        if self.bytes()[self.i..].starts_with(w) {
            self.i += w.len();
            Some(())
        } else {
            None
        }
    }

    /// A string without escapes or control characters.
    pub fn string(&mut self) -> Option<&'a str> {
        self.eat(b'"')?;
        let start = self.i;
        let rest = &self.bytes()[start..];
        let n = find_special(rest)?;
        if rest[n] != b'"' {
            return None;
        }
        self.i = start + n + 1;
        self.s.get(start..start + n)
    }

    /// A number without exponent and of at most 19 digits (so the significand fits a
    /// u64 as it does in `serde_json`, which then reads it the same way).
    pub fn number(&mut self) -> Option<Num> {
        self.peek()?;
        let b = self.bytes();
        let negative = b.get(self.i) == Some(&b'-');
        if negative {
            self.i += 1;
        }
        let mut significand = 0u64;
        let mut digits = 0;
        let mut digit = |this: &mut Self| -> Option<bool> {
            match b.get(this.i) {
                Some(&c) if c.is_ascii_digit() => {
                    if digits == 19 {
                        return None;
                    }
                    digits += 1;
                    significand = significand * 10 + u64::from(c - b'0');
                    this.i += 1;
                    Some(true)
                }
                _ => Some(false),
            }
        };
        match b.get(self.i) {
            Some(b'0') => {
                digit(self)?;
                if b.get(self.i).is_some_and(u8::is_ascii_digit) {
                    return None; // a leading zero
                }
            }
            Some(c) if c.is_ascii_digit() => while digit(self)? {},
            _ => return None,
        }
        let mut fraction = None;
        if b.get(self.i) == Some(&b'.') {
            self.i += 1;
            let mut k = 0;
            while digit(self)? {
                k += 1;
            }
            if k == 0 {
                return None;
            }
            fraction = Some(k);
        }
        if matches!(b.get(self.i), Some(b'e' | b'E')) {
            return None;
        }
        Some(Num {
            negative,
            significand,
            fraction,
        })
    }

    /// After a member or element: `,` (true) or the closing bracket (false).
    pub fn next(&mut self, close: u8) -> Option<bool> {
        match self.peek()? {
            b',' => {
                self.i += 1;
                Some(true)
            }
            c if c == close => {
                self.i += 1;
                Some(false)
            }
            _ => None,
        }
    }

    /// The members of an object: `member` reads the value of each key.
    pub fn object(
        &mut self,
        mut member: impl FnMut(&mut Self, &'a str) -> Option<()>,
    ) -> Option<()> {
        self.eat(b'{')?;
        if self.peek()? == b'}' {
            self.i += 1;
            return Some(());
        }
        loop {
            let key = self.string()?;
            self.eat(b':')?;
            member(self, key)?;
            if !self.next(b'}')? {
                return Some(());
            }
        }
    }

    /// The end of the text (after whitespace).
    #[cfg(test)]
    pub fn end(&mut self) -> Option<()> {
        match self.peek() {
            None => Some(()),
            Some(_) => None,
        }
    }
}

/// Position of the first `"`, `\\` or control character (eight bytes at a time).
fn find_special(b: &[u8]) -> Option<usize> {
    const LO7: u64 = 0x7f7f_7f7f_7f7f_7f7f;
    // High bit of each byte set iff the byte is 0 (exact: no carries between bytes).
    let zero = |x: u64| !(((x & LO7) + LO7) | x) & !LO7;
    let mut words = b.chunks_exact(8);
    let mut k = 0;
    for w in &mut words {
        let w = u64::from_le_bytes([w[0], w[1], w[2], w[3], w[4], w[5], w[6], w[7]]);
        let m = zero(w ^ 0x2222_2222_2222_2222)
            | zero(w ^ 0x5c5c_5c5c_5c5c_5c5c)
            | zero(w & 0xe0e0_e0e0_e0e0_e0e0);
        if m != 0 {
            return Some(k + (m.trailing_zeros() / 8) as usize);
        }
        k += 8;
    }
    words
        .remainder()
        .iter()
        .position(|&c| c == b'"' || c == b'\\' || c < 0x20)
        .map(|p| k + p)
}

impl<'de> Deserializer<'de> for &mut Scan<'de> {
    type Error = Declined;

    fn deserialize_any<V: Visitor<'de>>(self, v: V) -> Result<V::Value, Declined> {
        match self.peek().ok_or(Declined)? {
            b'"' => v.visit_borrowed_str(self.string().ok_or(Declined)?),
            b'{' => self.nested(|m| v.visit_map(m)),
            b'[' => self.nested(|m| v.visit_seq(m)),
            b'n' => {
                self.word(b"null").ok_or(Declined)?;
                v.visit_unit()
            }
            b't' => {
                self.word(b"true").ok_or(Declined)?;
                v.visit_bool(true)
            }
            b'f' => {
                self.word(b"false").ok_or(Declined)?;
                v.visit_bool(false)
            }
            _ => self.number().ok_or(Declined)?.visit(v),
        }
    }

    fn deserialize_option<V: Visitor<'de>>(self, v: V) -> Result<V::Value, Declined> {
        if self.null().ok_or(Declined)? {
            v.visit_none()
        } else {
            v.visit_some(self)
        }
    }

    forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf unit unit_struct newtype_struct seq tuple
        tuple_struct map struct enum identifier ignored_any
    }
}

impl<'de> Scan<'de> {
    /// Step into an object or array (`{` or `[`, not yet consumed).
    fn enter(&mut self) -> Result<(), Declined> {
        if self.depth >= MAX_DEPTH {
            return Err(Declined);
        }
        self.depth += 1;
        self.i += 1;
        Ok(())
    }

    /// The object or array that starts here, its members read by `visit`.
    fn nested<T>(
        &mut self,
        visit: impl FnOnce(Members<'_, 'de>) -> Result<T, Declined>,
    ) -> Result<T, Declined> {
        self.enter()?;
        let r = visit(Members {
            sc: self,
            first: true,
        })?;
        self.depth -= 1;
        Ok(r)
    }
}

/// The members of an object or the elements of an array, after its opening bracket.
struct Members<'s, 'de> {
    sc: &'s mut Scan<'de>,
    first: bool,
}

impl Members<'_, '_> {
    /// Whether another member or element follows (consuming the `,` or the bracket).
    fn more(&mut self, close: u8) -> Result<bool, Declined> {
        if std::mem::take(&mut self.first) {
            if self.sc.peek().ok_or(Declined)? == close {
                self.sc.i += 1;
                return Ok(false);
            }
            return Ok(true);
        }
        self.sc.next(close).ok_or(Declined)
    }
}

/// What `next_key_seed` and `next_element_seed` answer: the next member, `None` at
/// the end.
type Next<T> = Result<Option<T>, Declined>;

impl Members<'_, '_> {
    /// The next member before `close`, read by `read`.
    fn next_member<T>(
        &mut self,
        close: u8,
        read: impl FnOnce(&mut Self) -> Result<T, Declined>,
    ) -> Next<T> {
        if !self.more(close)? {
            return Ok(None);
        }
        read(self).map(Some)
    }
}

impl<'de> MapAccess<'de> for Members<'_, 'de> {
    type Error = Declined;

    fn next_key_seed<K: DeserializeSeed<'de>>(&mut self, seed: K) -> Next<K::Value> {
        self.next_member(b'}', |m| {
            let key = m.sc.string().ok_or(Declined)?;
            m.sc.eat(b':').ok_or(Declined)?;
            seed.deserialize(de::value::BorrowedStrDeserializer::new(key))
        })
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, Declined> {
        seed.deserialize(&mut *self.sc)
    }
}

impl<'de> SeqAccess<'de> for Members<'_, 'de> {
    type Error = Declined;

    fn next_element_seed<T: DeserializeSeed<'de>>(&mut self, seed: T) -> Next<T::Value> {
        self.next_member(b']', |m| seed.deserialize(&mut *m.sc))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[test]
    fn special_bytes() {
        let slow = |b: &[u8]| b.iter().position(|&c| c == b'"' || c == b'\\' || c < 0x20);
        let mut rng = 12345u64;
        for len in 0..40 {
            for _ in 0..200 {
                let b: Vec<u8> = (0..len)
                    .map(|_| {
                        rng = rng
                            .wrapping_mul(6364136223846793005)
                            .wrapping_add(1442695040888963407);
                        [b'a', b'"', b'\\', 0x1f, 0x20, 0xe9, 0x7f, 0x80, 0xa2, 0xdc]
                            [(rng >> 60) as usize % 10]
                    })
                    .collect();
                assert_eq!(find_special(&b), slow(&b), "{b:?}");
            }
        }
    }

    #[test]
    fn scanned_numbers_are_serde_json_numbers() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(3);
        let mut tokens: Vec<String> = [
            "0",
            "-0",
            "0.0",
            "-0.0",
            "1",
            "118.4716",
            "24.7196",
            "-180",
            "180.0000000",
            "9007199254740993",
            "9007199254740992.5",
            "0.1",
            "0.30000000000000004",
            "1234567890123456789",
            "12345678901234567890",
            "1.0000000000000000000001",
            "01",
            "1.",
            ".5",
            "-",
            "1e5",
            "1E-3",
            "+1",
            "-01",
            "4294967295",
            "4294967296",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        for _ in 0..20_000 {
            let int: u64 = rng.random_range(0..1_000_000_000_000u64) >> rng.random_range(0..40);
            let frac_digits = rng.random_range(0..18);
            let frac: u64 = rng.random_range(0..10u64.pow(frac_digits.min(18)));
            let sign = if rng.random_bool(0.3) { "-" } else { "" };
            tokens.push(if frac_digits == 0 {
                format!("{sign}{int}")
            } else {
                format!("{sign}{int}.{frac:0w$}", w = frac_digits as usize)
            });
        }
        for t in &tokens {
            let serde_f64 = serde_json::from_str::<f64>(t).ok();
            let serde_u32 = serde_json::from_str::<u32>(t).ok();
            let num = Scan::new(t).number().filter(|_| true);
            let whole = |n: Option<Num>| {
                n.filter(|_| {
                    let mut sc = Scan::new(t);
                    sc.number().is_some() && sc.end().is_some()
                })
            };
            if let Some(x) = whole(num).and_then(Num::f64) {
                assert_eq!(Some(x.to_bits()), serde_f64.map(f64::to_bits), "{t}");
            }
            // As a deserializer: the same value as serde_json's, whole numbers and all.
            let mut sc = Scan::new(t);
            if let Ok(v) = serde_json::Value::deserialize(&mut sc) {
                if sc.end().is_some() {
                    let serde_v = serde_json::from_str::<serde_json::Value>(t).ok();
                    assert_eq!(Some(&v), serde_v.as_ref(), "{t}");
                    if let Some(v) = v.as_f64() {
                        assert_eq!(Some(v.to_bits()), serde_f64.map(f64::to_bits), "{t}");
                    }
                    assert_eq!(
                        v.as_u64().and_then(|n| u32::try_from(n).ok()),
                        serde_u32,
                        "{t}"
                    );
                }
            }
        }
        // The common cases are not declined.
        for t in ["118.4716", "-33.9", "0", "7"] {
            assert!(Scan::new(t).number().and_then(Num::f64).is_some(), "{t}");
        }
    }

    #[test]
    fn ignored_values_are_checked_like_value() {
        // What the scanner accepts, `serde_json::Value` accepts too (it declines the rest).
        let t = |s: &str| match crate::io::props::HotspotProps::deserialize(&mut Scan::new(s)) {
            Ok(_) => serde_json::from_str::<serde_json::Value>(s).is_ok(),
            Err(Declined) => true,
        };
        assert!(t(r#"{"x":"\ud800"}"#));
        assert!(t(r#"{"x":1e400}"#));
        assert!(t(r#"{"x":[1,{"y":"\u00e9\ud83d\ude00"}]}"#));
        assert!(t(r#"{"x":"a	b"}"#));
        assert!(t(r#"{"\ud800":1}"#));
    }
}
