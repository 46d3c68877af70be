//! Bulk coupon codes: N unique codes in a tenant's format, from the caller's RNG (the OS's in
//! the module, a seeded one in tests), none already taken. A batch may fill at most a tenth
//! of the format's codes, so collisions stay rare (the loop ends) and a guessed code is
//! unlikely to exist (32^8 codes for the default 8 characters).

use std::collections::HashSet;

use rand::Rng;
use serde::Serialize;

use crate::Problem;
use crate::code::{ALPHABET, CodeFormat};

pub const MAX_BATCH: usize = 100_000;

/// Why a batch could not be generated.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "code", rename_all = "snake_case")]
pub enum GenerateError {
    /// The format has problems.
    InvalidFormat { problems: Vec<Problem> },
    /// Zero codes, or more than [`MAX_BATCH`].
    CountOutOfRange { max: usize },
    /// The format's codes are too few for this batch plus the codes already taken: a batch
    /// may fill at most a tenth of the space, or codes become guessable and collisions slow.
    SpaceTooSmall { wanted: usize },
    /// The generator kept drawing taken codes (a broken or constant RNG).
    TooManyCollisions,
}

impl GenerateError {
    pub fn code(&self) -> &'static str {
        match self {
            GenerateError::InvalidFormat { .. } => "invalid_format",
            GenerateError::CountOutOfRange { .. } => "count_out_of_range",
            GenerateError::SpaceTooSmall { .. } => "space_too_small",
            GenerateError::TooManyCollisions => "too_many_collisions",
        }
    }
}

impl std::fmt::Display for GenerateError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            GenerateError::InvalidFormat { problems } => {
                write!(f, "the code format has {} problem(s)", problems.len())
            }
            GenerateError::CountOutOfRange { max } => write!(f, "from 1 to {max} codes at a time"),
            GenerateError::SpaceTooSmall { wanted } => write!(
                f,
                "{wanted} codes would fill more than a tenth of the format's codes: make them longer"
            ),
            GenerateError::TooManyCollisions => {
                write!(f, "the generator kept repeating codes; try again")
            }
        }
    }
}

impl std::error::Error for GenerateError {}

/// `count` new codes, none in `taken` (the tenant's existing codes) and none twice, drawn
/// from the caller's RNG (a seeded one in tests, the OS's in the module).
pub fn generate<R: Rng + ?Sized>(
    format: &CodeFormat,
    count: usize,
    rng: &mut R,
    taken: &HashSet<String>,
) -> Result<Vec<String>, GenerateError> {
    let problems = format.check();
    if !problems.is_empty() {
        return Err(GenerateError::InvalidFormat { problems });
    }
    if !(1..=MAX_BATCH).contains(&count) {
        return Err(GenerateError::CountOutOfRange { max: MAX_BATCH });
    }
    let space = 32u128.saturating_pow(u32::try_from(format.length).unwrap_or(u32::MAX));
    let wanted = count + taken.len();
    if (wanted as u128).saturating_mul(10) > space {
        return Err(GenerateError::SpaceTooSmall { wanted });
    }
    let mut made: HashSet<String> = HashSet::with_capacity(count);
    let mut codes = Vec::with_capacity(count);
    let mut body = vec![0u8; format.length];
    let mut attempts = 0usize;
    while codes.len() < count {
        attempts += 1;
        if attempts > count * 10 + 100 {
            return Err(GenerateError::TooManyCollisions);
        }
        for b in body.iter_mut() {
            *b = ALPHABET[rng.random_range(0..ALPHABET.len())];
        }
        let code = format.assemble(&body);
        if !taken.contains(&code) && made.insert(code.clone()) {
            codes.push(code);
        }
    }
    Ok(codes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand::rngs::StdRng;

    #[test]
    fn batches_are_unique_and_avoid_taken_codes() {
        let f = CodeFormat {
            prefix: String::new(),
            length: 4,
        };
        let mut rng = StdRng::seed_from_u64(1);
        let first = generate(&f, 50_000, &mut rng, &HashSet::new()).expect("first");
        let taken: HashSet<String> = first.into_iter().collect();
        assert_eq!(taken.len(), 50_000);
        let second = generate(&f, 40_000, &mut rng, &taken).expect("second");
        assert!(second.iter().all(|c| !taken.contains(c)));
        assert_eq!(second.iter().collect::<HashSet<_>>().len(), 40_000);
        // The largest batch, in the default format.
        let most = generate(&CodeFormat::default(), MAX_BATCH, &mut rng, &taken).expect("100k");
        assert_eq!(most.iter().collect::<HashSet<_>>().len(), MAX_BATCH);
        // 32^4 = 1,048,576: a tenth is 104,857, and 50,000 are taken.
        assert_eq!(
            generate(&f, 60_000, &mut rng, &taken)
                .map(|c| c.len())
                .map_err(|e| e.code()),
            Err("space_too_small")
        );
    }

    /// An RNG that always says 0.
    struct Stuck;

    impl rand::RngCore for Stuck {
        fn next_u32(&mut self) -> u32 {
            0
        }
        fn next_u64(&mut self) -> u64 {
            0
        }
        fn fill_bytes(&mut self, dest: &mut [u8]) {
            dest.fill(0);
        }
    }

    #[test]
    fn refusals_have_codes() {
        let mut rng = StdRng::seed_from_u64(1);
        let none = HashSet::new();
        let f = CodeFormat::default();
        assert_eq!(
            generate(&f, 0, &mut rng, &none).map_err(|e| e.code()),
            Err("count_out_of_range")
        );
        assert_eq!(
            generate(&f, MAX_BATCH + 1, &mut rng, &none).map_err(|e| e.code()),
            Err("count_out_of_range")
        );
        let bad = CodeFormat {
            prefix: "ab-".into(),
            length: 2,
        };
        let err = generate(&bad, 1, &mut rng, &none).expect_err("bad format");
        assert_eq!(err.code(), "invalid_format");
        assert!(err.to_string().contains("2 problem"));
        assert_eq!(
            serde_json::to_value(GenerateError::TooManyCollisions).expect("json"),
            serde_json::json!({"code": "too_many_collisions"})
        );
        // A constant RNG repeats itself.
        let mut stuck = Stuck;
        assert_eq!(
            generate(&f, 2, &mut stuck, &none).map_err(|e| e.code()),
            Err("too_many_collisions")
        );
    }
}
