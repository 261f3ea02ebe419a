//! The trace decoders (`lore::traces::decode`: OTLP/JSON, OTLP protobuf, Jaeger, Zipkin)
//! over arbitrary bytes and mutations of real trace files: no panic, no hang, and every
//! error gives a reason and, for JSON, the place (`line N column M` from the JSON reader,
//! or the JSON path of a value of the wrong shape). Protobuf has no lines; prost's
//! message (what failed to decode, in which field) is the reason.

use std::sync::OnceLock;

use lore::traces::decode::{self, Format};
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use proptest::prelude::*;
use proptest::sample::Index;
use proptest::test_runner::TestCaseError;

use super::mutate::{apply, arbitrary_bytes, mutations};
use super::{DEADLINE, config, within};

const FORMATS: [Format; 4] = [Format::OtlpJson, Format::OtlpProto, Format::Jaeger, Format::Zipkin];

/// Real trace files by format, with OTLP/JSON files also encoded as protobuf.
fn seeds() -> &'static [(Format, Vec<u8>)] {
    static SEEDS: OnceLock<Vec<(Format, Vec<u8>)>> = OnceLock::new();
    SEEDS.get_or_init(|| {
        let mut seeds = Vec::new();
        let root = crate::support::corpus("traces");
        for entry in walkdir::WalkDir::new(root).sort_by_file_name().into_iter().flatten() {
            if !entry.file_type().is_file() {
                continue;
            }
            let Ok(bytes) = std::fs::read(entry.path()) else { continue };
            let name = entry.file_name().to_string_lossy();
            let Some(format) = decode::detect(&name, &bytes) else { continue };
            if format == Format::OtlpJson {
                if let Ok(req) = serde_json::from_slice::<ExportTraceServiceRequest>(&bytes) {
                    seeds.push((Format::OtlpProto, prost::Message::encode_to_vec(&req)));
                }
            }
            seeds.push((format, bytes));
        }
        seeds
    })
}

fn seeds_of(format: Format) -> Vec<&'static [u8]> {
    let found: Vec<&[u8]> =
        seeds().iter().filter(|(f, _)| *f == format).map(|(_, b)| b.as_slice()).collect();
    assert!(!found.is_empty(), "no real {format:?} trace file in the corpora");
    found
}

/// Decodes under the deadline; an error must give a reason, and for JSON its place.
fn check_decode(format: Format, bytes: Vec<u8>) -> Result<(), TestCaseError> {
    let result = within(&format!("decode {format:?}"), DEADLINE, move || {
        let _ = decode::detect("x.json", &bytes);
        decode::decode(format, &bytes).map(|(spans, rejected)| (spans.len(), rejected))
    })?;
    if let Err(message) = result {
        if format == Format::OtlpProto {
            let reason = message.split_once(':').map_or("", |(_, r)| r.trim());
            prop_assert!(!reason.is_empty(), "no reason: {message}");
        } else {
            let placed = message.contains(" line ")
                || message.starts_with("data")
                || message.starts_with("expected a JSON array");
            prop_assert!(placed, "{format:?} error without a place: {message}");
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn arbitrary_bytes_decode_or_say_where(format in 0..FORMATS.len(), bytes in arbitrary_bytes()) {
        check_decode(FORMATS[format], bytes)?;
    }

    #[test]
    fn mutated_real_trace_files_decode_or_say_where(
        format in 0..FORMATS.len(),
        pick in any::<Index>(),
        edits in mutations(),
    ) {
        let files = seeds_of(FORMATS[format]);
        let bytes = apply(files[pick.index(files.len())], &edits);
        check_decode(FORMATS[format], bytes)?;
    }
}

#[test]
fn every_trace_format_has_real_files_to_mutate() {
    for format in FORMATS {
        assert!(!seeds_of(format).is_empty());
    }
}
