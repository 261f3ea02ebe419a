//! Mutations of real files: byte flips, truncation, splices of the file into itself,
//! duplicated lines, inserted bytes, deleted ranges and deep nesting, several per case.

use proptest::prelude::*;
use proptest::sample::Index;

/// Openers repeated to nest deeply: JSON arrays and objects, YAML flow and block
/// sequences and mappings, indentation, Markdown quotes and lists.
const OPENERS: &[&str] =
    &["[", "{", "{\"a\":", "- ", "a: {", "a:\n ", "  ", "> ", "* ", "!!seq ", "&a [*a, "];

/// The most a case grows a file to: the deadline then checks that parsing is not
/// superlinear, not how fast a debug build reads megabytes.
pub(crate) const MAX_MUTATED_BYTES: usize = 1 << 20;

/// One edit of a file.
#[derive(Debug, Clone)]
pub(crate) enum Mutation {
    /// Replace a byte.
    Flip(Index, u8),
    /// Cut the file at a point.
    Truncate(Index),
    /// Copy a piece of the file to another place.
    Splice { from: Index, len: usize, to: Index },
    /// Repeat one line.
    DuplicateLine { line: Index, times: usize },
    /// Insert arbitrary bytes.
    Insert { at: Index, bytes: Vec<u8> },
    /// Delete a range.
    Delete { at: Index, len: usize },
    /// Insert an opener repeated `depth` times.
    Nest { at: Index, opener: usize, depth: usize },
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        4 => (any::<Index>(), any::<u8>()).prop_map(|(i, b)| Mutation::Flip(i, b)),
        1 => any::<Index>().prop_map(Mutation::Truncate),
        2 => (any::<Index>(), 1usize..400, any::<Index>())
            .prop_map(|(from, len, to)| Mutation::Splice { from, len, to }),
        2 => (any::<Index>(), 1usize..200)
            .prop_map(|(line, times)| Mutation::DuplicateLine { line, times }),
        2 => (any::<Index>(), proptest::collection::vec(any::<u8>(), 1..16))
            .prop_map(|(at, bytes)| Mutation::Insert { at, bytes }),
        1 => (any::<Index>(), 1usize..200).prop_map(|(at, len)| Mutation::Delete { at, len }),
        1 => (any::<Index>(), 0..OPENERS.len(), prop_oneof![1usize..200, 200usize..20_000])
            .prop_map(|(at, opener, depth)| Mutation::Nest { at, opener, depth }),
    ]
}

/// One to eight mutations.
pub(crate) fn mutations() -> impl Strategy<Value = Vec<Mutation>> {
    proptest::collection::vec(mutation(), 1..8)
}

/// `seed` with `edits` applied in order.
pub(crate) fn apply(seed: &[u8], edits: &[Mutation]) -> Vec<u8> {
    let mut bytes = seed.to_vec();
    for edit in edits {
        let at = |i: &Index, len: usize| if len == 0 { 0 } else { i.index(len + 1) };
        match edit {
            Mutation::Flip(i, b) if !bytes.is_empty() => {
                let n = i.index(bytes.len());
                bytes[n] = *b;
            }
            Mutation::Flip(..) => {}
            Mutation::Truncate(i) => bytes.truncate(at(i, bytes.len())),
            Mutation::Splice { from, len, to } => {
                let start = at(from, bytes.len());
                let end = (start + len).min(bytes.len());
                let piece = bytes[start..end].to_vec();
                if bytes.len() + piece.len() > MAX_MUTATED_BYTES {
                    continue;
                }
                let to = at(to, bytes.len());
                bytes.splice(to..to, piece);
            }
            Mutation::DuplicateLine { line, times } => {
                let starts: Vec<usize> = std::iter::once(0)
                    .chain(
                        bytes.iter().enumerate().filter(|(_, b)| **b == b'\n').map(|(i, _)| i + 1),
                    )
                    .filter(|s| *s < bytes.len())
                    .collect();
                if starts.is_empty() {
                    continue;
                }
                let start = starts[line.index(starts.len())];
                let end = bytes[start..]
                    .iter()
                    .position(|b| *b == b'\n')
                    .map_or(bytes.len(), |p| start + p + 1);
                let mut piece = bytes[start..end].to_vec();
                if !piece.ends_with(b"\n") {
                    piece.push(b'\n');
                }
                let room = MAX_MUTATED_BYTES.saturating_sub(bytes.len()) / piece.len();
                let repeated = piece.repeat((*times).min(room));
                bytes.splice(start..start, repeated);
            }
            Mutation::Insert { at: i, bytes: more } => {
                let to = at(i, bytes.len());
                bytes.splice(to..to, more.iter().copied());
            }
            Mutation::Delete { at: i, len } => {
                let start = at(i, bytes.len());
                let end = (start + len).min(bytes.len());
                bytes.drain(start..end);
            }
            Mutation::Nest { at: i, opener, depth } => {
                let to = at(i, bytes.len());
                let opener = OPENERS[*opener];
                let room = MAX_MUTATED_BYTES.saturating_sub(bytes.len()) / opener.len();
                bytes.splice(to..to, opener.repeat((*depth).min(room)).into_bytes());
            }
        }
    }
    bytes
}

/// Arbitrary bytes, mostly text-like (so parsers get past their first byte), sometimes
/// raw.
pub(crate) fn arbitrary_bytes() -> impl Strategy<Value = Vec<u8>> {
    let texty = proptest::collection::vec(
        prop_oneof![
            4 => proptest::sample::select(
                b" \n\t:-[]{}\"',#>*|&!%=$\\abcdefghijklmnopqrstuvwxyz0123456789".to_vec()
            ),
            1 => any::<u8>(),
        ],
        0..2048,
    );
    prop_oneof![3 => texty, 1 => proptest::collection::vec(any::<u8>(), 0..2048)]
}
