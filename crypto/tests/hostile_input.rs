//! Hostile input to the parsers of outside tokens: health-code and poster tokens, session
//! tokens and identity assertions. Whatever arrives — the checked-in corpus of tricky inputs
//! (`tests/corpus/tokens.txt`, one per line) or arbitrary strings — is refused with an error,
//! never accepted by mistake and never a panic.

use crypto::assertion;
use crypto::code_token::CodeKeyring;
use crypto::keys::Keys;
use crypto::session;
use proptest::prelude::*;
use time::macros::datetime;
use time::OffsetDateTime;

const NOW: OffsetDateTime = datetime!(2026-03-02 01:00 UTC);

fn keys() -> &'static (Keys, crypto::keys::DevProvider) {
    static KEYS: std::sync::OnceLock<(Keys, crypto::keys::DevProvider)> =
        std::sync::OnceLock::new();
    KEYS.get_or_init(Keys::generate_for_tests)
}

fn ring() -> &'static CodeKeyring {
    &keys().0.code_keys
}

/// Every parser refuses `input` without panicking.
fn all_refuse(input: &str) {
    let (keys, provider) = keys();
    assert!(ring().verify(input).is_err(), "code token {input:?}");
    assert!(ring().verify_poster(input).is_err(), "poster {input:?}");
    assert!(
        session::verify(&keys.session_key, input, NOW).is_err(),
        "session {input:?}"
    );
    assert!(
        assertion::verify(input, &[provider.provider_key()], NOW).is_err(),
        "assertion {input:?}"
    );
}

#[test]
fn the_corpus_is_refused_by_every_parser() {
    let corpus = include_str!("corpus/tokens.txt");
    let mut seen = 0;
    for line in corpus.split('\n') {
        all_refuse(line);
        seen += 1;
    }
    assert!(seen > 20, "the corpus was read");
    all_refuse(&"A".repeat(100_000));
    all_refuse(&format!("YK1.c1.{}", ".".repeat(10_000)));
    all_refuse(&format!("YK2.c1.{}", ".".repeat(10_000)));
}

#[test]
fn a_genuine_token_with_one_character_changed_is_refused() {
    let person = uuid::Uuid::new_v4();
    let token = ring().sign(person, 1_772_413_200_000_000);
    assert_eq!(ring().verify(&token).map(|c| c.person), Ok(person));
    for (i, c) in token.char_indices() {
        let replacement = if c == 'B' { 'C' } else { 'B' };
        let mut altered = token.clone();
        altered.replace_range(i..i + c.len_utf8(), &replacement.to_string());
        if altered != token {
            assert!(ring().verify(&altered).is_err(), "position {i}");
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_strings_are_refused(input in any::<String>()) {
        all_refuse(&input);
    }

    #[test]
    fn token_shaped_strings_are_refused(
        prefix in prop::sample::select(vec!["YK1.", "YKP1.", "yk_s_", "eyJ"]),
        parts in prop::collection::vec("[A-Za-z0-9_\\-=+/]{0,40}", 1..5),
    ) {
        all_refuse(&format!("{prefix}{}", parts.join(".")));
    }
}
