//! Exact amounts: prices per kWh and money as scaled integers, read from decimal text.
//!
//! Floats never touch an amount. A price is an `i128` count of pico-units (10⁻¹² of the
//! currency) per kWh; energy is an `i64` count of mWh; their product is then an exact count of
//! atto-units (10⁻¹⁸), which is what [`Money`] holds. Sums of any number of such products are
//! exact; only pro-rata fractions (a partial month, VAT) round, at 10⁻¹⁸ of the currency. Money
//! is rounded to cents only where it is shown ([`Money::cents`]).

use std::fmt;
use std::ops::{Add, AddAssign, Neg, Sub, SubAssign};

/// Money in atto-units (10⁻¹⁸) of the contract's currency.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Money(pub i128);

/// A price per kWh (or per kW-year) in pico-units (10⁻¹²) of the currency.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Price(pub i128);

/// Decimal places of [`Money`].
pub const MONEY_SCALE: u32 = 18;
/// Decimal places of [`Price`].
pub const PRICE_SCALE: u32 = 12;
const MONEY_ONE: i128 = 10i128.pow(MONEY_SCALE);
/// mWh per kWh: `energy_mwh * price` is in units of 10⁻¹² × 10⁻⁶ = 10⁻¹⁸, i.e. [`Money`].
pub const MWH_PER_KWH: i64 = 1_000_000;

impl Money {
    /// Zero.
    pub const ZERO: Money = Money(0);

    /// Whole currency units (tests and presets).
    pub const fn units(n: i64) -> Money {
        Money(n as i128 * MONEY_ONE)
    }

    /// Reads a decimal literal (`3.50`, `-0.04`, `1_000`, `5e-2`) exactly.
    pub fn parse(text: &str) -> Option<Money> {
        parse_scaled(text, MONEY_SCALE).map(Money)
    }

    /// Rounded to whole cents (half away from zero), the only rounding a user sees.
    pub fn cents(self) -> i64 {
        let per_cent = MONEY_ONE / 100;
        let c = div_round(self.0, per_cent);
        c.clamp(i128::from(i64::MIN), i128::from(i64::MAX)) as i64
    }

    /// Rounded to cents, as a float for JSON output (exact to the cent for any real bill).
    pub fn to_f64_cents(self) -> f64 {
        self.cents() as f64 / 100.0
    }

    /// `self × num / den`, rounded half away from zero at 10⁻¹⁸; zero when `den` is zero.
    pub fn mul_ratio(self, num: i128, den: i128) -> Money {
        if den == 0 {
            return Money::ZERO;
        }
        // Reduce the ratio, then split so the product stays inside i128; a ratio of two huge
        // amounts is scaled down (losing precision only far below 10⁻¹⁸ relative).
        let g = gcd(num, den).max(1);
        let (mut num, mut den) = (num / g, den / g);
        let q = self.0 / den;
        let mut r = self.0 % den;
        let whole = q.saturating_mul(num);
        while r.checked_mul(num).is_none() {
            num /= 2;
            den /= 2;
            r /= 2;
            if den == 0 {
                return Money(whole);
            }
        }
        Money(whole.saturating_add(div_round(r * num, den)))
    }

    /// The larger of two amounts.
    pub fn max(self, other: Money) -> Money {
        if self >= other { self } else { other }
    }
}

impl Price {
    /// Reads a decimal literal exactly.
    pub fn parse(text: &str) -> Option<Price> {
        parse_scaled(text, PRICE_SCALE).map(Price)
    }

    /// A price of `n` thousandths of a unit per kWh (tests and presets).
    pub const fn milli(n: i64) -> Price {
        Price(n as i128 * 1_000_000_000)
    }

    /// The cost of `mwh` mWh at this price, exact.
    pub fn of_mwh(self, mwh: i64) -> Money {
        Money(self.0.saturating_mul(i128::from(mwh)))
    }

    /// Adds a percentage given as a [`Percent`].
    pub fn with_percent(self, pct: Percent) -> Price {
        Price(
            self.0
                .saturating_add(div_round(self.0.saturating_mul(pct.0), 100 * PERCENT_ONE)),
        )
    }

    /// As a float (charts and summaries only).
    pub fn to_f64(self) -> f64 {
        self.0 as f64 / 1e12
    }
}

/// A percentage in millionths of a percent (`6.0` is 6 000 000).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct Percent(pub i128);
const PERCENT_ONE: i128 = 1_000_000;

impl Percent {
    /// Reads a decimal literal exactly.
    pub fn parse(text: &str) -> Option<Percent> {
        parse_scaled(text, 6).map(Percent)
    }

    /// `amount × self / 100`.
    pub fn of(self, amount: Money) -> Money {
        amount.mul_ratio(self.0, 100 * PERCENT_ONE)
    }
}

impl Add for Money {
    type Output = Money;
    fn add(self, o: Money) -> Money {
        Money(self.0.saturating_add(o.0))
    }
}
impl Sub for Money {
    type Output = Money;
    fn sub(self, o: Money) -> Money {
        Money(self.0.saturating_sub(o.0))
    }
}
impl Neg for Money {
    type Output = Money;
    fn neg(self) -> Money {
        Money(self.0.saturating_neg())
    }
}
impl AddAssign for Money {
    fn add_assign(&mut self, o: Money) {
        *self = *self + o;
    }
}
impl SubAssign for Money {
    fn sub_assign(&mut self, o: Money) {
        *self = *self - o;
    }
}
impl std::iter::Sum for Money {
    fn sum<I: Iterator<Item = Money>>(iter: I) -> Money {
        iter.fold(Money::ZERO, |a, b| a + b)
    }
}
impl Add for Price {
    type Output = Price;
    fn add(self, o: Price) -> Price {
        Price(self.0.saturating_add(o.0))
    }
}

impl fmt::Display for Money {
    /// Rounded to cents: `12.34`, `-0.05`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let c = self.cents();
        let sign = if c < 0 { "-" } else { "" };
        let a = c.unsigned_abs();
        write!(f, "{sign}{}.{:02}", a / 100, a % 100)
    }
}

fn gcd(mut a: i128, mut b: i128) -> i128 {
    a = a.abs();
    b = b.abs();
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

/// Integer division rounding half away from zero.
pub(crate) fn div_round(n: i128, d: i128) -> i128 {
    if d == 0 {
        return 0;
    }
    let q = n / d;
    let r = n % d;
    if r.unsigned_abs() * 2 >= d.unsigned_abs() {
        if (n < 0) != (d < 0) { q - 1 } else { q + 1 }
    } else {
        q
    }
}

/// Parses a decimal literal into an integer scaled by 10^`scale`. Accepts a sign, `_`
/// separators (TOML), a fraction and an exponent; rejects anything finer than the scale
/// (which would be rounded) and anything that does not fit.
pub(crate) fn parse_scaled(text: &str, scale: u32) -> Option<i128> {
    let t: String = text.trim().chars().filter(|c| *c != '_').collect();
    let (neg, body) = match t.as_bytes().first()? {
        b'-' => (true, &t[1..]),
        b'+' => (false, &t[1..]),
        _ => (false, &t[..]),
    };
    let (mantissa, exp) = match body.find(['e', 'E']) {
        Some(i) => (&body[..i], body[i + 1..].parse::<i32>().ok()?),
        None => (body, 0),
    };
    let (int, frac) = match mantissa.find('.') {
        Some(i) => (&mantissa[..i], &mantissa[i + 1..]),
        None => (mantissa, ""),
    };
    if int.is_empty() && frac.is_empty() {
        return None;
    }
    if !int.bytes().all(|b| b.is_ascii_digit()) || !frac.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let digits = format!("{int}{frac}");
    let digits = digits.trim_start_matches('0');
    // value = digits × 10^(exp - frac.len()), scaled by 10^scale.
    let shift = i64::from(exp) - frac.len() as i64 + i64::from(scale);
    let mut v: i128 = 0;
    for b in digits.bytes() {
        v = v.checked_mul(10)?.checked_add(i128::from(b - b'0'))?;
    }
    if shift >= 0 {
        let p = 10i128.checked_pow(u32::try_from(shift).ok()?)?;
        v = v.checked_mul(p)?;
    } else {
        let p = 10i128.checked_pow(u32::try_from(-shift).ok()?).unwrap_or(0);
        if p == 0 {
            return if v == 0 { Some(0) } else { None };
        }
        if v % p != 0 {
            return None;
        }
        v /= p;
    }
    Some(if neg { -v } else { v })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimal_literals_are_exact() {
        assert_eq!(Price::parse("0.0503"), Some(Price(50_300_000_000)));
        assert_eq!(Price::parse("0.27"), Some(Price(270_000_000_000)));
        assert_eq!(Price::parse("-0.04"), Some(Price(-40_000_000_000)));
        assert_eq!(Price::parse("1_000"), Some(Price(1_000 * 10i128.pow(12))));
        assert_eq!(Price::parse("5e-2"), Some(Price(50_000_000_000)));
        assert_eq!(Price::parse("2.5E1"), Some(Price(25 * 10i128.pow(12))));
        assert_eq!(Money::parse("3.50"), Some(Money(35 * 10i128.pow(17))));
        assert_eq!(Percent::parse("6.0"), Some(Percent(6_000_000)));
        // Finer than a pico-unit would need rounding: refused rather than silently rounded.
        assert_eq!(Price::parse("0.0000000000001"), None);
        for bad in ["", "-", ".", "abc", "1.2.3", "1e", "nan", "inf", "1e999"] {
            assert_eq!(Price::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn energy_times_price_is_exact_money() {
        // 1.234 kWh (1 234 000 mWh) at 0.0503/kWh = 0.0620702 exactly.
        let m = Price::parse("0.0503").unwrap().of_mwh(1_234_000);
        assert_eq!(m, Money::parse("0.0620702").unwrap());
        assert_eq!(m.cents(), 6);
        assert_eq!(m.to_string(), "0.06");
    }

    #[test]
    fn cents_round_half_away_from_zero() {
        assert_eq!(Money::parse("0.125").unwrap().cents(), 13);
        assert_eq!(Money::parse("-0.125").unwrap().cents(), -13);
        assert_eq!(Money::parse("0.12499").unwrap().cents(), 12);
        assert_eq!(Money::parse("-1.005").unwrap().to_string(), "-1.01");
    }

    #[test]
    fn ratios_and_percentages() {
        // 3.50 × 17/31 = 1.91935483870967741935... → 1.92
        let m = Money::parse("3.50").unwrap().mul_ratio(17, 31);
        assert_eq!(m.cents(), 192);
        assert_eq!(m, Money(1_919_354_838_709_677_419));
        // 21 % of 100.00 = 21.00 exactly.
        assert_eq!(
            Percent::parse("21").unwrap().of(Money::units(100)),
            Money::units(21)
        );
        assert_eq!(Money::units(5).mul_ratio(1, 0), Money::ZERO);
        // A ratio of two large amounts (capacity paid / charge) does not overflow.
        let big = Money::parse("26.63").unwrap();
        assert_eq!(
            Money::parse("13.315").unwrap().mul_ratio(big.0, big.0),
            Money::parse("13.315").unwrap()
        );
        let half = Money::parse("13.315").unwrap().mul_ratio(big.0 / 2, big.0);
        assert_eq!(half.cents(), 666);
    }
}
