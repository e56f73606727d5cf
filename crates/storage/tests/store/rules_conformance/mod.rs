//! The domain's limit rules are the specification the SQL is checked against:
//! for each limit held by one conditional statement in the store, a driver
//! feeds the store and the domain's pure function the same long pseudo-random
//! run of events (attempts found wrong, right ones that clear, unchecked ones
//! that give their place back, clock moves onto the edges of windows and
//! locks, restarts with other limits) from the same empty state, and after
//! every step the store's answer and its row must equal the domain's. The
//! model's state is what the domain function returned, fed back in as
//! `previous`.
//!
//! Where a release or clear exists only in SQL, the driver models it in one
//! commented line (`SQL-only:`), as the domain has no function to ask.

use std::fmt::Debug;

use crate::helpers::T0;

mod authenticator;
mod budgets;
mod code_entries;
mod passwords;
mod second_step;

/// Seeds of the runs: a fixed one first, then a few more.
pub const SEEDS: [u64; 4] = [0x2545_F491_4F6C_DD1D, 1, 0x9E37_79B9_7F4A_7C15, 20_261_201];

/// Steps per run: enough for many locks and windows at small limits.
pub const STEPS: usize = 300;

/// The runs of a driver: every seed from each of the `small` limits (which a
/// restart may swap for another of them), and one seed with the defaults.
pub fn runs<L: Copy>(small: &[L], defaults: L) -> Vec<(L, Vec<L>, u64)> {
    small
        .iter()
        .flat_map(|&first| SEEDS.map(|seed| (first, small.to_vec(), seed)))
        .chain([(defaults, vec![defaults], SEEDS[0])])
        .collect()
}

/// xorshift64*: small, deterministic, no dependency.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        // Zero is xorshift's one fixed point.
        Self(seed.max(1))
    }

    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// A number in `0..bound`.
    pub fn below(&mut self, bound: u64) -> u64 {
        self.next_u64() % bound
    }

    pub fn percent(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }

    pub fn pick<T: Copy>(&mut self, choices: &[T]) -> T {
        choices[self.below(choices.len() as u64) as usize]
    }
}

/// One run of one driver: its random source, its clock, and what happened so
/// far, printed when the store and the domain disagree.
pub struct Run {
    pub rng: Rng,
    pub now: i64,
    label: String,
    seed: u64,
    step: usize,
    history: Vec<String>,
    places: usize,
    refusals: usize,
}

impl Run {
    pub fn new(label: impl Into<String>, seed: u64) -> Self {
        Self {
            rng: Rng::new(seed),
            now: T0,
            label: label.into(),
            seed,
            step: 0,
            history: Vec::new(),
            places: 0,
            refusals: 0,
        }
    }

    /// Starts step `n` with `event`.
    pub fn event(&mut self, event: impl Debug) {
        self.step += 1;
        self.history.push(format!(
            "  {:>3} at T0+{}: {event:?}",
            self.step,
            self.now - T0
        ));
    }

    pub fn step(&self) -> usize {
        self.step
    }

    /// Adds what the domain answered to the current step's line.
    pub fn note(&mut self, outcome: impl Debug) {
        if let Some(line) = self.history.last_mut() {
            line.push_str(&format!(" -> {outcome:?}"));
        }
    }

    /// Counts an attempt by whether the domain gave it a place.
    pub fn got_place(&mut self, placed: bool) {
        if placed {
            self.places += 1;
        } else {
            self.refusals += 1;
        }
    }

    /// A run that never reached its limit, or never got past it, proved
    /// nothing about the edge.
    pub fn finish(self) {
        assert!(
            self.places > 0 && self.refusals > 0,
            "{}, seed {}: {} places and {} refusals in {} steps: the run missed the limit",
            self.label,
            self.seed,
            self.places,
            self.refusals,
            self.step,
        );
    }

    /// The store's answer must be the domain's.
    #[track_caller]
    pub fn agree<T: PartialEq + Debug>(&self, what: &str, store: &T, domain: &T) {
        assert!(
            store == domain,
            "{label}, seed {seed}, step {step}: {what} differs\n  store:  {store:?}\n  domain: {domain:?}\nevents so far:\n{history}",
            label = self.label,
            seed = self.seed,
            step = self.step,
            history = self.history.join("\n"),
        );
    }

    /// Now and then a restart with other `limits` from `configs`, as an
    /// operator may make one: the stored state stays and is read under the
    /// new limits. Answers whether it restarted (this step's event).
    pub fn restart<L: Copy + PartialEq + Debug>(&mut self, configs: &[L], limits: &mut L) -> bool {
        let others: Vec<L> = configs.iter().copied().filter(|c| c != limits).collect();
        if others.is_empty() || !self.rng.percent(3) {
            return false;
        }
        *limits = self.rng.pick(&others);
        self.event(format!("restart with {limits:?}"));
        true
    }

    /// Moves the clock: not at all, a second, around each of `lengths` (a
    /// window's or a lock's length), exactly onto `edge` (when the model says
    /// where the next one is) or well past everything.
    pub fn move_clock(&mut self, lengths: &[i64], edge: Option<i64>) {
        let mut targets = vec![self.now, self.now + 1, self.now + 100_000];
        for &length in lengths {
            targets.extend([length - 1, length, length + 1].map(|by| self.now + by));
        }
        if let Some(edge) = edge.filter(|&edge| edge > self.now) {
            // Weighted: the edge itself is what the rules disagree on, if anything.
            targets.extend([edge - 1, edge, edge, edge + 1]);
        }
        let to = self.rng.pick(&targets);
        self.event(format!("clock +{}", to - self.now));
        self.now = to;
    }
}
