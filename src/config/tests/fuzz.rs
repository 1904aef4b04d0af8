//! Whatever the text, loading answers with a config or an error, never a
//! panic. Cases: `NOSEY_PROPTEST_CASES` (default 500).

use proptest::prelude::*;

use super::*;

fn cases() -> u32 {
    std::env::var("NOSEY_PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(500)
}

fn env() -> MapEnv {
    MapEnv::from([
        ("CRM_TOKEN", "t"),
        ("NOSEY_ROUTE__ENROLMENTS__TIMEOUT", "1s"),
    ])
}

/// Characters that matter to TOML, to paths and to `${VAR}`.
fn interesting_char() -> impl Strategy<Value = char> {
    prop_oneof![
        prop::sample::select(vec![
            '[', ']', '{', '}', '"', '\'', '\\', '=', ',', '\n', '#', '$', '.', '*', ':', '@', '/',
            '0', '-', 'é', '\u{0}',
        ]),
        any::<char>(),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(cases()))]

    #[test]
    fn arbitrary_text_never_panics(text in ".{0,400}") {
        let _ = load_from_str(&text, None, &env());
    }

    #[test]
    fn toml_like_text_never_panics(text in r#"(\[\[?[a-z]{1,8}\]\]?\n|[a-z_]{1,12} = ("[^"\n]{0,20}"|[0-9]{1,6}|true|\[[^\]\n]{0,20}\]|\{[^}\n]{0,30}\})\n){0,12}"#) {
        let _ = load_from_str(&text, None, &env());
    }

    #[test]
    fn a_cut_example_never_panics(cut in 0usize..10_000) {
        let ex = example();
        let mut end = cut % (ex.len() + 1);
        while !ex.is_char_boundary(end) {
            end -= 1;
        }
        let _ = load_from_str(&ex[..end], None, &env());
    }

    #[test]
    fn a_mutated_example_never_panics(
        edits in prop::collection::vec((0usize..10_000, interesting_char(), 0usize..3), 1..6)
    ) {
        let mut text = example().to_string();
        for (at, c, kind) in edits {
            let mut i = at % (text.len() + 1);
            while !text.is_char_boundary(i) {
                i -= 1;
            }
            match kind {
                0 => text.insert(i, c),
                1 if i < text.len() => {
                    text.remove(i);
                }
                _ => text.insert_str(i, &c.to_string().repeat(3)),
            }
        }
        let _ = load_from_str(&text, None, &env());
    }
}

#[test]
fn the_example_also_loads_with_the_fuzzing_environment() {
    let c = load_from_str(example(), None, &env()).unwrap();
    assert_eq!(
        c.route("enrolments").unwrap().timeout,
        std::time::Duration::from_secs(1)
    );
}
