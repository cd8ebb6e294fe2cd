//! The binding-code space: a million codes per kind (six digits between the kind digit and the
//! check digit), drawn at random when an org, venue or grid is created. Draws that hit a taken
//! code are counted, and so is every creation that found no free code: both are in `/metrics`,
//! so an operator sees a kind filling up long before creation fails.

use std::sync::atomic::{AtomicU64, Ordering};

use domain::code::{BindingCode, CodeKind};
use uuid::Uuid;

/// Codes per kind.
pub const CODES_PER_KIND: u32 = 1_000_000;

/// Draws before a creation gives up with 503 `code.exhausted`. With a fraction `f` of a kind's
/// codes taken, a creation fails with probability `f^32`: one in 37 000 at 72 % full, one in
/// 30 at 90 % full.
pub const DRAWS: usize = 32;

const KINDS: [CodeKind; 3] = [CodeKind::Org, CodeKind::Venue, CodeKind::Grid];

/// The code space and its counters (one per process).
#[derive(Debug)]
pub struct CodeSpace {
    size: u32,
    collisions: [AtomicU64; 3],
    exhausted: [AtomicU64; 3],
}

impl Default for CodeSpace {
    fn default() -> Self {
        Self::with_size(CODES_PER_KIND)
    }
}

impl CodeSpace {
    /// A space of the first `size` serials of each kind (1 to [`CODES_PER_KIND`]): smaller
    /// only for capacity drills and tests.
    pub fn with_size(size: u32) -> Self {
        Self {
            size: size.clamp(1, CODES_PER_KIND),
            collisions: Default::default(),
            exhausted: Default::default(),
        }
    }

    /// A random code of `kind` from this space.
    pub fn draw(&self, kind: CodeKind) -> BindingCode {
        let bytes = Uuid::new_v4().into_bytes();
        let serial = u32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]) % self.size;
        BindingCode::new(kind, serial)
    }

    pub(crate) fn collided(&self, kind: CodeKind) {
        self.collisions[index(kind)].fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn ran_out(&self, kind: CodeKind) {
        self.exhausted[index(kind)].fetch_add(1, Ordering::Relaxed);
    }

    /// `(kind, draws that hit a taken code, creations that found no free code)` per kind.
    pub fn counters(&self) -> Vec<(&'static str, u64, u64)> {
        KINDS
            .iter()
            .map(|&kind| {
                let i = index(kind);
                (
                    name(kind),
                    self.collisions[i].load(Ordering::Relaxed),
                    self.exhausted[i].load(Ordering::Relaxed),
                )
            })
            .collect()
    }
}

fn index(kind: CodeKind) -> usize {
    match kind {
        CodeKind::Org => 0,
        CodeKind::Venue => 1,
        CodeKind::Grid => 2,
    }
}

/// The kind's name in metrics and problems.
pub fn name(kind: CodeKind) -> &'static str {
    match kind {
        CodeKind::Org => "org",
        CodeKind::Venue => "venue",
        CodeKind::Grid => "grid",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn draws_stay_in_the_space_and_counters_are_per_kind() {
        let space = CodeSpace::with_size(3);
        for _ in 0..200 {
            let code = space.draw(CodeKind::Venue);
            assert!(code.serial() < 3, "{code:?}");
        }
        space.collided(CodeKind::Venue);
        space.collided(CodeKind::Venue);
        space.ran_out(CodeKind::Grid);
        assert_eq!(
            space.counters(),
            vec![("org", 0, 0), ("venue", 2, 0), ("grid", 0, 1)]
        );
        assert_eq!(CodeSpace::with_size(0).size, 1);
        assert_eq!(CodeSpace::with_size(u32::MAX).size, CODES_PER_KIND);
    }
}
