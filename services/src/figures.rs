//! Figures shown to regions, grids and analysts never single out fewer than k people (SPEC §2;
//! k = 5 by default): a count of 1 to k-1 people is shown as `<k`. Zero stays zero (no one is
//! singled out by it), and counts of staff (workers bound, authorised) are not people screened.

use std::fmt;

/// A count as shown: exact, or "fewer than k".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Figure {
    Count(i64),
    FewerThan(i64),
}

impl Figure {
    /// `n` as shown under threshold `k`.
    pub fn of(n: i64, k: i64) -> Self {
        if n > 0 && n < k {
            Figure::FewerThan(k)
        } else {
            Figure::Count(n)
        }
    }

    /// The value a chart draws: the count, or 0 for a suppressed cell (its label says `<k`).
    pub fn chart_value(self) -> i64 {
        match self {
            Figure::Count(n) => n,
            Figure::FewerThan(_) => 0,
        }
    }
}

impl fmt::Display for Figure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Figure::Count(n) => write!(f, "{n}"),
            Figure::FewerThan(k) => write!(f, "<{k}"),
        }
    }
}

impl serde::Serialize for Figure {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Figure::Count(n) => serializer.serialize_i64(*n),
            Figure::FewerThan(k) => serializer.collect_str(&format_args!("<{k}")),
        }
    }
}

/// The default threshold.
pub const DEFAULT_K: i64 = 5;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_of_one_to_k_minus_one_are_shown_as_fewer_than_k() {
        assert_eq!(Figure::of(0, 5), Figure::Count(0));
        for n in 1..5 {
            assert_eq!(Figure::of(n, 5), Figure::FewerThan(5), "{n}");
            assert_eq!(Figure::of(n, 5).to_string(), "<5");
            assert_eq!(serde_json::to_value(Figure::of(n, 5)).expect("json"), "<5");
        }
        assert_eq!(Figure::of(5, 5), Figure::Count(5));
        assert_eq!(serde_json::to_value(Figure::of(12, 5)).expect("json"), 12);
        assert_eq!(Figure::of(3, 5).chart_value(), 0);
        assert_eq!(Figure::of(3, 3), Figure::Count(3), "k is configurable");
    }
}
