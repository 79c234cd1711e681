use proptest::prelude::*;

use super::*;

fn props(pairs: &[(&str, &str)]) -> Vec<u8> {
    properties::encode(pairs.iter().copied())
}

fn selects(expr: &str, pairs: &[(&str, &str)]) -> bool {
    SqlFilter::compile(expr)
        .unwrap_or_else(|e| panic!("{expr}: {e}"))
        .matches(&props(pairs))
}

#[test]
fn comparisons_convert_string_properties_to_the_literal_type() {
    assert!(selects("a > 5", &[("a", "10")]));
    assert!(!selects("a > 5", &[("a", "3")]));
    assert!(selects("a >= 5 AND a <= 5", &[("a", "5")]));
    assert!(selects("a = 5", &[("a", "5")]));
    assert!(selects("a = 5.0", &[("a", "5")]));
    assert!(selects("a < 1.5", &[("a", "1.25")]));
    assert!(selects("b = 'x'", &[("b", "x")]));
    assert!(selects("b <> 'x'", &[("b", "y")]));
    // Negating a (string) property yields nothing, as in Apache.
    assert!(!selects("-a < -5", &[("a", "10")]));
    assert!(selects("a > 5 AND b = 'x'", &[("a", "6"), ("b", "x")]));
    assert!(!selects("a > 5 AND b = 'x'", &[("a", "6"), ("b", "y")]));
}

#[test]
fn a_missing_property_is_unknown_and_selects_nothing() {
    assert!(!selects("a > 5", &[]));
    assert!(!selects("NOT (a > 5)", &[]));
    assert!(selects("a > 5 OR TRUE", &[]));
    assert!(!selects("a > 5 AND TRUE", &[]));
    assert!(selects("a IS NULL", &[]));
    assert!(!selects("a IS NOT NULL", &[]));
    assert!(selects("a IS NOT NULL", &[("a", "1")]));
}

#[test]
fn between_in_and_not_forms() {
    assert!(selects("a BETWEEN 1 AND 3", &[("a", "2")]));
    assert!(!selects("a BETWEEN 1 AND 3", &[("a", "4")]));
    assert!(selects("a NOT BETWEEN 1 AND 3", &[("a", "4")]));
    assert!(selects("c IN ('r', 'g')", &[("c", "g")]));
    assert!(!selects("c IN ('r', 'g')", &[("c", "b")]));
    assert!(selects("c NOT IN ('r', 'g')", &[("c", "b")]));
    assert!(!selects("c NOT IN ('r')", &[]), "unknown, not true");
    assert!(selects("NOT (c = 'r')", &[("c", "b")]));
}

#[test]
fn literals_keywords_and_comments() {
    assert!(selects("TRUE", &[]));
    assert!(!selects("false", &[]));
    assert!(selects("s = 'it''s'", &[("s", "it's")]));
    assert!(selects("a = 10L", &[("a", "10")]));
    assert!(selects("a = .5", &[("a", "0.5")]));
    assert!(selects("a = 5e1", &[("a", "50")]));
    assert!(selects("a = 1 -- comment\n", &[("a", "1")]));
    assert!(selects("/* c */ a = 1", &[("a", "1")]));
    assert!(selects("a = 1 and b = 2 or c = 3", &[("c", "3")]));
    assert!(selects("TAGS = 'TagA'", &[("TAGS", "TagA")]));
}

#[test]
fn evaluation_errors_select_nothing() {
    assert!(!selects("a > 5", &[("a", "abc")]));
    assert!(!selects("a = 5", &[("a", "abc")]));
    // Two strings ordered as numbers, as Apache does.
    assert!(selects("a > b", &[("a", "10"), ("b", "9")]));
    assert!(!selects("a > b", &[("a", "x"), ("b", "9")]));
    // A bare property is not a boolean value.
    assert!(!selects("a", &[("a", "true")]));
}

#[test]
fn bad_expressions_are_refused_like_apache() {
    for bad in [
        "",
        "a >",
        "a = NULL",
        "a > 'x'",
        "5",
        "'x'",
        "a + 1 = 2",
        "a != 1",
        "(a = 1",
        "a IN ()",
        "a IN (1, 2)",
        "5 IN ('x')",
        "a BETWEEN 3 AND 1",
        "NOT a > 5",
        "a = 1 b",
        "a = 'unterminated",
        "a = 1 /* open",
        "a = #",
        "TRUE = 1",
    ] {
        assert!(
            SqlFilter::compile(bad).is_err(),
            "{bad:?} should be refused"
        );
    }
}

proptest! {
    #[test]
    fn the_parser_never_panics(text in "\\PC{0,64}") {
        let _ = SqlFilter::compile(&text);
    }

    #[test]
    fn the_parser_never_panics_on_grammar_soup(
        parts in proptest::collection::vec(
            prop_oneof![
                Just("a"), Just("b"), Just("'x'"), Just("1"), Just("2.5"), Just("-"), Just("+"),
                Just("("), Just(")"), Just(","), Just("="), Just("<>"), Just(">"), Just("<="),
                Just("AND"), Just("OR"), Just("NOT"), Just("BETWEEN"), Just("IN"), Just("IS"),
                Just("NULL"), Just("TRUE"), Just("FALSE"), Just("--"), Just("/*"), Just("*/"),
            ],
            0..24,
        ),
        a in proptest::option::of("[0-9a-z.]{0,6}"),
    ) {
        let text = parts.join(" ");
        if let Ok(filter) = SqlFilter::compile(&text) {
            let props = match &a {
                Some(v) => properties::encode([("a", v.as_str())]),
                None => Vec::new(),
            };
            let _ = filter.matches(&props);
        }
    }
}

#[test]
fn expressions_nested_too_deep_or_too_long_are_refused_before_they_can_exhaust_the_stack() {
    // A consumer's subscription must not crash the broker: 900 parentheses overflowed a 2 MiB
    // thread stack before the limits.
    for text in [
        format!("{}a=1{}", "(".repeat(900), ")".repeat(900)),
        format!("{}a=1", "NOT ".repeat(20_000)),
        vec!["a=1"; 2000].join(" OR "),
    ] {
        let refused = parser::parse(&text).expect_err("refused");
        assert!(
            refused.reason.contains("deeper") || refused.reason.contains("longer"),
            "{refused}"
        );
    }
    let nested = format!("{}a=1{}", "(".repeat(60), ")".repeat(60));
    assert!(parser::parse(&nested).is_ok());
    assert!(parser::parse(&vec!["a=1"; 500].join(" OR ")).is_ok());
}
