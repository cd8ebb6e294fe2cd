//! Hostile feed files (`yuekang feed import`): CSV and NDJSON from outside. Whatever the text —
//! the checked-in corpus of tricky lines (`tests/corpus/feed_lines.txt`) or arbitrary text —
//! every non-blank line gives exactly one entry (a record, or a refusal naming its line), and
//! nothing panics.

use proptest::prelude::*;
use services::feed::import::parse;

fn non_blank(text: &str) -> usize {
    text.lines()
        .filter(|l| !l.trim_end_matches('\r').trim().is_empty())
        .count()
}

/// Each non-blank line is one entry, the CSV header aside; refusals name their line.
fn one_entry_a_line(text: &str, csv: bool) {
    let lines = parse(text, csv);
    let header = text
        .lines()
        .map(|l| l.trim_end_matches('\r'))
        .find(|l| !l.trim().is_empty())
        .is_some_and(|l| l.trim().starts_with("record_id,"));
    // A first line that is the CSV header makes the file CSV, and is no record.
    let expected = non_blank(text) - usize::from(header);
    assert_eq!(lines.len(), expected, "{text:?}");
    for refused in lines.iter().filter_map(|l| l.as_ref().err()) {
        assert!(refused.record_id.starts_with("line "), "{refused:?}");
        assert_eq!(refused.code, "record.malformed");
    }
}

#[test]
fn the_corpus_parses_one_entry_a_line_as_csv_and_as_ndjson() {
    let corpus = include_str!("corpus/feed_lines.txt");
    one_entry_a_line(corpus, true);
    let without_header: String = corpus.lines().skip(1).collect::<Vec<_>>().join("\n");
    one_entry_a_line(&without_header, false);
    one_entry_a_line(&without_header, true);
    let lines = parse(corpus, false);
    assert_eq!(
        lines[0].as_ref().map(|r| r.name.as_str()),
        Ok("Zhang, San"),
        "the header makes it CSV"
    );
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_text_never_panics(text in any::<String>(), csv in any::<bool>()) {
        one_entry_a_line(&text, csv);
    }

    #[test]
    fn csv_shaped_text_never_panics(
        rows in prop::collection::vec(prop::collection::vec("[a-z0-9\",\\- ]{0,12}", 0..10), 0..8),
    ) {
        let text = rows.iter().map(|r| r.join(",")).collect::<Vec<_>>().join("\n");
        one_entry_a_line(&text, true);
    }
}
