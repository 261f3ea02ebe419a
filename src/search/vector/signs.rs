//! Sign bits of vectors: a first pass that picks the rows worth scoring in full.
//!
//! Two vectors whose components agree in sign more often are closer in angle (the
//! Hamming distance of the signs estimates the angle between them: random hyperplane
//! hashing). Counting agreements reads 48 bytes per 384-d row instead of 384, so over
//! many rows a scan first ranks every row by its signs and then scores only the best
//! share of them exactly ([`super::VectorIndex::search`]).

/// 64-bit words holding one row's signs.
pub(super) fn words(dim: usize) -> usize {
    dim.div_ceil(64)
}

/// The signs of each row of `data` (`dim` components per row), `words(dim)` per row:
/// bit `i % 64` of word `i / 64` is set when component `i` is positive.
pub(super) fn of_rows(data: &[i8], dim: usize) -> Vec<u64> {
    if dim == 0 {
        return Vec::new();
    }
    let mut out = Vec::with_capacity(data.len() / dim * words(dim));
    for row in data.chunks_exact(dim) {
        for word in row.chunks(64) {
            out.push(pack(word.iter().map(|&x| x > 0)));
        }
    }
    out
}

/// The signs of one `f32` vector, laid out as [`of_rows`] lays out a row.
pub(super) fn of_query(query: &[f32]) -> Vec<u64> {
    query.chunks(64).map(|word| pack(word.iter().map(|&x| x > 0.0))).collect()
}

fn pack(bits: impl Iterator<Item = bool>) -> u64 {
    bits.enumerate().fold(0, |w, (i, b)| w | (u64::from(b) << i))
}

/// Components whose signs differ between a row and the query.
pub(super) fn distance(row: &[u64], query: &[u64]) -> u32 {
    row.iter().zip(query).map(|(a, b)| (a ^ b).count_ones()).sum()
}

/// The largest distance `d` such that at least `want` of `distances` are at most `d`
/// (all of them when fewer): rows at or under it go on to be scored. `u16::MAX` marks a
/// row left out by the filters and is never counted.
pub(super) fn threshold(distances: &[u16], dim: usize, want: usize) -> u16 {
    let mut counts = vec![0usize; dim + 1];
    for &d in distances {
        if let Some(c) = counts.get_mut(usize::from(d)) {
            *c += 1;
        }
    }
    let mut seen = 0;
    for (d, c) in counts.iter().enumerate() {
        seen += c;
        if seen >= want {
            return d as u16;
        }
    }
    dim as u16
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signs_count_the_components_that_disagree() {
        let dim = 70;
        let row: Vec<i8> = (0..dim).map(|i| if i % 3 == 0 { -5 } else { 7 }).collect();
        let rows = of_rows(&row, dim);
        assert_eq!(rows.len(), words(dim));
        let same: Vec<f32> = row.iter().map(|&x| f32::from(x)).collect();
        assert_eq!(distance(&rows, &of_query(&same)), 0);
        let opposite: Vec<f32> = same.iter().map(|x| -x).collect();
        assert_eq!(distance(&rows, &of_query(&opposite)), dim as u32);
        let mut one_off = same.clone();
        one_off[65] = -one_off[65];
        assert_eq!(distance(&rows, &of_query(&one_off)), 1);
    }

    #[test]
    fn the_threshold_keeps_at_least_as_many_rows_as_asked() {
        let distances = [5, 1, u16::MAX, 3, 3, 9, 0];
        assert_eq!(threshold(&distances, 10, 1), 0);
        assert_eq!(threshold(&distances, 10, 3), 3);
        assert_eq!(threshold(&distances, 10, 4), 3);
        assert_eq!(threshold(&distances, 10, 5), 5);
        // More asked than there are rows: every row the filters let through.
        assert_eq!(threshold(&distances, 10, 50), 10);
    }
}
