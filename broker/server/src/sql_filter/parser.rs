//! Tokens and a recursive-descent parser for Apache's `SelectorParser.jj` grammar:
//!
//! ```text
//! or         := and (OR and)*
//! and        := equality (AND equality)*
//! equality   := comparison ( '=' comparison | '<>' comparison | IS NULL | IS NOT NULL )*
//! comparison := unary ( ('>'|'>='|'<'|'<=') unary | [NOT] BETWEEN unary AND unary
//!                     | [NOT] IN '(' string (',' string)* ')' )*
//! unary      := '+' unary | '-' unary | NOT unary | primary
//! primary    := literal | identifier | '(' or ')'
//! ```
//!
//! Keywords are case-insensitive; identifiers are `[A-Za-z_$][A-Za-z0-9_$]*`; strings are
//! single-quoted with `''` for a quote; numbers are whole (`L` suffix allowed) or floating
//! (`1.5`, `.5`, `5e3`); `--` and `/* */` comments are skipped. Like Apache, `NOT` binds tighter
//! than comparisons (`NOT (a > 1)`, not `NOT a > 1`), and the semantic checks of its expression
//! factories apply: `=` does not take NULL (use IS NULL), `<`/`>` take only numbers and
//! properties, BETWEEN bounds that are both numbers must be ordered, IN needs a property, and
//! the whole expression must be boolean. Unlike Apache, tokens left after a complete expression
//! are an error rather than silently ignored.

use super::ast::{Cmp, Expr, Value, compare_values};

/// Why an expression was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid SQL92 expression at byte {at}: {reason}")]
pub struct ParseError {
    pub at: usize,
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Ident(String),
    Str(String),
    Long(i64),
    Double(f64),
    Kw(Kw),
    Sym(&'static str),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kw {
    Not,
    And,
    Or,
    Between,
    In,
    True,
    False,
    Null,
    Is,
}

fn keyword(word: &str) -> Option<Kw> {
    Some(match word.to_ascii_uppercase().as_str() {
        "NOT" => Kw::Not,
        "AND" => Kw::And,
        "OR" => Kw::Or,
        "BETWEEN" => Kw::Between,
        "IN" => Kw::In,
        "TRUE" => Kw::True,
        "FALSE" => Kw::False,
        "NULL" => Kw::Null,
        "IS" => Kw::Is,
        _ => return None,
    })
}

fn err<T>(at: usize, reason: impl Into<String>) -> Result<T, ParseError> {
    Err(ParseError {
        at,
        reason: reason.into(),
    })
}

fn lex(text: &str) -> Result<Vec<(usize, Tok)>, ParseError> {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        let start = i;
        match c {
            b' ' | b'\t' | b'\n' | b'\r' | 0x0c => i += 1,
            b'-' if bytes.get(i + 1) == Some(&b'-') => {
                while i < bytes.len() && bytes[i] != b'\n' && bytes[i] != b'\r' {
                    i += 1;
                }
            }
            b'/' if bytes.get(i + 1) == Some(&b'*') => {
                let Some(end) = text[i + 2..].find("*/") else {
                    return err(i, "unterminated comment");
                };
                i += 2 + end + 2;
            }
            b'\'' => {
                let mut s = String::new();
                i += 1;
                loop {
                    let Some(rest) = text.get(i..) else {
                        return err(start, "unterminated string");
                    };
                    let Some(q) = rest.find('\'') else {
                        return err(start, "unterminated string");
                    };
                    s.push_str(&rest[..q]);
                    i += q + 1;
                    if bytes.get(i) == Some(&b'\'') {
                        s.push('\'');
                        i += 1;
                    } else {
                        break;
                    }
                }
                out.push((start, Tok::Str(s)));
            }
            b'0'..=b'9' | b'.' => {
                let (tok, len) = number(&text[i..]).ok_or(ParseError {
                    at: i,
                    reason: "not a number".into(),
                })?;
                out.push((start, tok));
                i += len;
            }
            b'a'..=b'z' | b'A'..=b'Z' | b'_' | b'$' => {
                while i < bytes.len()
                    && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_' || bytes[i] == b'$')
                {
                    i += 1;
                }
                let word = &text[start..i];
                let tok = keyword(word).map_or_else(|| Tok::Ident(word.to_owned()), Tok::Kw);
                out.push((start, tok));
            }
            _ => {
                let two = text.get(i..i + 2).unwrap_or("");
                let sym = match two {
                    "<>" => Some("<>"),
                    ">=" => Some(">="),
                    "<=" => Some("<="),
                    _ => None,
                };
                if let Some(sym) = sym {
                    out.push((start, Tok::Sym(sym)));
                    i += 2;
                    continue;
                }
                let sym = match c {
                    b'=' => "=",
                    b'>' => ">",
                    b'<' => "<",
                    b'(' => "(",
                    b')' => ")",
                    b',' => ",",
                    b'+' => "+",
                    b'-' => "-",
                    _ => {
                        let ch = text[i..].chars().next().unwrap_or('?');
                        return err(i, format!("unexpected character {ch:?}"));
                    }
                };
                out.push((start, Tok::Sym(sym)));
                i += 1;
            }
        }
    }
    Ok(out)
}

/// A number token at the start of `s` and its length (JavaCC's longest match).
fn number(s: &str) -> Option<(Tok, usize)> {
    let b = s.as_bytes();
    let digits = |from: usize| b[from..].iter().take_while(|c| c.is_ascii_digit()).count();
    let int_len = digits(0);
    let mut len = int_len;
    let mut float = false;
    if b.get(len) == Some(&b'.') {
        let frac = digits(len + 1);
        if int_len == 0 && frac == 0 {
            return None;
        }
        len += 1 + frac;
        float = true;
    }
    if matches!(b.get(len), Some(b'e' | b'E')) {
        let mut j = len + 1;
        if matches!(b.get(j), Some(b'+' | b'-')) {
            j += 1;
        }
        let exp = digits(j);
        if exp > 0 {
            len = j + exp;
            float = true;
        }
    }
    if float {
        let value: f64 = s[..len].parse().ok()?;
        return Some((Tok::Double(value), len));
    }
    // DECIMAL_LITERAL: "0" | [1-9][0-9]*, with an optional L.
    let int_len = if b[0] == b'0' { 1 } else { int_len };
    let value: i64 = s[..int_len].parse().ok()?;
    let suffix = usize::from(matches!(b.get(int_len), Some(b'l' | b'L')));
    Some((Tok::Long(value), int_len + suffix))
}

struct Parser {
    toks: Vec<(usize, Tok)>,
    pos: usize,
    end: usize,
    /// Parentheses and unary operators open around the current token.
    depth: usize,
}

/// Most tokens an expression may have. The parser, the evaluator and the tree's drop recurse
/// once per level, and `a=1 OR a=1 OR ...` nests one level per operator: bounded here, a
/// consumer's subscription cannot exhaust a broker thread's stack.
pub const MAX_TOKENS: usize = 2048;
/// Deepest nesting of parentheses and unary operators (each level costs six parser frames).
pub const MAX_DEPTH: usize = 64;

/// Parses an expression into its boolean tree.
pub fn parse(text: &str) -> Result<Expr, ParseError> {
    let toks = lex(text)?;
    if toks.len() > MAX_TOKENS {
        return err(
            toks[MAX_TOKENS].0,
            format!("expression longer than {MAX_TOKENS} tokens"),
        );
    }
    let mut p = Parser {
        toks,
        pos: 0,
        end: text.len(),
        depth: 0,
    };
    if p.toks.is_empty() {
        return err(0, "empty expression");
    }
    let expr = p.or()?;
    if p.pos < p.toks.len() {
        return err(p.at(), "unexpected token after the expression");
    }
    as_boolean(expr, 0)
}

impl Parser {
    fn at(&self) -> usize {
        self.toks.get(self.pos).map_or(self.end, |(at, _)| *at)
    }
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.pos).map(|(_, t)| t)
    }
    fn peek2(&self) -> Option<&Tok> {
        self.toks.get(self.pos + 1).map(|(_, t)| t)
    }
    fn eat_kw(&mut self, kw: Kw) -> bool {
        if self.peek() == Some(&Tok::Kw(kw)) {
            self.pos += 1;
            true
        } else {
            false
        }
    }
    fn eat_sym(&mut self, sym: &str) -> bool {
        if matches!(self.peek(), Some(Tok::Sym(s)) if *s == sym) {
            self.pos += 1;
            true
        } else {
            false
        }
    }
    fn expect_kw(&mut self, kw: Kw) -> Result<(), ParseError> {
        if self.eat_kw(kw) {
            Ok(())
        } else {
            err(self.at(), format!("expected {kw:?}"))
        }
    }
    fn expect_sym(&mut self, sym: &str) -> Result<(), ParseError> {
        if self.eat_sym(sym) {
            Ok(())
        } else {
            err(self.at(), format!("expected '{sym}'"))
        }
    }

    fn or(&mut self) -> Result<Expr, ParseError> {
        let at = self.at();
        let mut left = self.and()?;
        while self.eat_kw(Kw::Or) {
            let right = self.and()?;
            left = Expr::Or(
                Box::new(as_boolean(left, at)?),
                Box::new(as_boolean(right, at)?),
            );
        }
        Ok(left)
    }

    fn and(&mut self) -> Result<Expr, ParseError> {
        let at = self.at();
        let mut left = self.equality()?;
        while self.eat_kw(Kw::And) {
            let right = self.equality()?;
            left = Expr::And(
                Box::new(as_boolean(left, at)?),
                Box::new(as_boolean(right, at)?),
            );
        }
        Ok(left)
    }

    fn equality(&mut self) -> Result<Expr, ParseError> {
        let mut left = self.comparison()?;
        loop {
            let at = self.at();
            if self.eat_sym("=") || self.eat_sym("<>") {
                let not = matches!(self.toks.get(self.pos - 1), Some((_, Tok::Sym("<>"))));
                let right = self.comparison()?;
                check_equal_operand(&left, at)?;
                check_equal_operand(&right, at)?;
                if left.is_boolean_constant() && !right.is_boolean() {
                    return err(at, "a boolean cannot be compared with a non-boolean");
                }
                let eq = Expr::Equal(Box::new(left), Box::new(right));
                left = if not { Expr::Not(Box::new(eq)) } else { eq };
            } else if self.peek() == Some(&Tok::Kw(Kw::Is)) {
                self.pos += 1;
                let not = self.eat_kw(Kw::Not);
                self.expect_kw(Kw::Null)?;
                let is_null = Expr::IsNull(Box::new(left));
                left = if not {
                    Expr::Not(Box::new(is_null))
                } else {
                    is_null
                };
            } else {
                return Ok(left);
            }
        }
    }

    fn comparison(&mut self) -> Result<Expr, ParseError> {
        let mut left = self.unary()?;
        loop {
            let at = self.at();
            let cmp = match self.peek() {
                Some(Tok::Sym(">")) => Some(Cmp::Gt),
                Some(Tok::Sym(">=")) => Some(Cmp::Ge),
                Some(Tok::Sym("<")) => Some(Cmp::Lt),
                Some(Tok::Sym("<=")) => Some(Cmp::Le),
                _ => None,
            };
            if let Some(cmp) = cmp {
                self.pos += 1;
                let right = self.unary()?;
                check_less_than_operand(&left, at)?;
                check_less_than_operand(&right, at)?;
                left = Expr::Compare(cmp, Box::new(left), Box::new(right));
                continue;
            }
            let not = self.peek() == Some(&Tok::Kw(Kw::Not))
                && matches!(self.peek2(), Some(Tok::Kw(Kw::Between | Kw::In)));
            if not {
                self.pos += 1;
            }
            if self.eat_kw(Kw::Between) {
                let low = self.unary()?;
                self.expect_kw(Kw::And)?;
                let high = self.unary()?;
                for operand in [&left, &low, &high] {
                    check_less_than_operand(operand, at)?;
                }
                if let (Expr::Const(l), Expr::Const(h)) = (&low, &high)
                    && compare_values(l, h).is_ok_and(|o| o == std::cmp::Ordering::Greater)
                {
                    return err(
                        at,
                        "Illegal values of between, left value must less than or equal to right value",
                    );
                }
                let between = Expr::Between(Box::new(left), Box::new(low), Box::new(high));
                left = if not {
                    Expr::Not(Box::new(between))
                } else {
                    between
                };
                continue;
            }
            if self.eat_kw(Kw::In) {
                let Expr::Property(name) = left else {
                    return err(at, "Expected a property for In expression");
                };
                self.expect_sym("(")?;
                let mut list = vec![self.string()?];
                while self.eat_sym(",") {
                    list.push(self.string()?);
                }
                self.expect_sym(")")?;
                left = Expr::In { name, list, not };
                continue;
            }
            if not {
                return err(at, "expected BETWEEN or IN after NOT");
            }
            return Ok(left);
        }
    }

    fn string(&mut self) -> Result<String, ParseError> {
        match self.peek() {
            Some(Tok::Str(s)) => {
                let s = s.clone();
                self.pos += 1;
                Ok(s)
            }
            _ => err(self.at(), "expected a string literal"),
        }
    }

    fn unary(&mut self) -> Result<Expr, ParseError> {
        self.depth += 1;
        let parsed = self.unary_inner();
        self.depth -= 1;
        parsed
    }

    fn unary_inner(&mut self) -> Result<Expr, ParseError> {
        let at = self.at();
        if self.depth > MAX_DEPTH {
            return err(at, format!("nested deeper than {MAX_DEPTH} levels"));
        }
        if self.eat_sym("+") {
            return self.unary();
        }
        if self.eat_sym("-") {
            return Ok(match self.unary()? {
                Expr::Const(Value::Long(n)) => Expr::Const(Value::Long(n.wrapping_neg())),
                Expr::Const(Value::Double(d)) => Expr::Const(Value::Double(-d)),
                other => Expr::Negate(Box::new(other)),
            });
        }
        if self.eat_kw(Kw::Not) {
            let inner = self.unary()?;
            return Ok(Expr::Not(Box::new(as_boolean(inner, at)?)));
        }
        self.primary()
    }

    fn primary(&mut self) -> Result<Expr, ParseError> {
        let at = self.at();
        let Some(tok) = self.peek().cloned() else {
            return err(at, "unexpected end of expression");
        };
        self.pos += 1;
        Ok(match tok {
            Tok::Str(s) => Expr::Const(Value::Str(s)),
            Tok::Long(n) => Expr::Const(Value::Long(n)),
            Tok::Double(d) => Expr::Const(Value::Double(d)),
            Tok::Kw(Kw::True) => Expr::Const(Value::Bool(true)),
            Tok::Kw(Kw::False) => Expr::Const(Value::Bool(false)),
            Tok::Kw(Kw::Null) => Expr::Const(Value::Null),
            Tok::Ident(name) => Expr::Property(name),
            Tok::Sym("(") => {
                let inner = self.or()?;
                self.expect_sym(")")?;
                inner
            }
            other => return err(at, format!("unexpected {other:?}")),
        })
    }
}

/// `asBooleanExpression`: a property is read as a boolean; other non-boolean values are refused.
fn as_boolean(expr: Expr, at: usize) -> Result<Expr, ParseError> {
    match expr {
        e if e.is_boolean() => Ok(e),
        Expr::Property(name) => Ok(Expr::PropertyIsTrue(name)),
        _ => err(at, "Expression will not result in a boolean value"),
    }
}

/// `checkEqualOperand`: NULL only with IS NULL.
fn check_equal_operand(expr: &Expr, at: usize) -> Result<(), ParseError> {
    if matches!(expr, Expr::Const(Value::Null)) {
        return err(at, "NULL cannot be compared; use IS NULL");
    }
    Ok(())
}

/// `checkLessThanOperand`: numbers and properties (and arithmetic) only.
fn check_less_than_operand(expr: &Expr, at: usize) -> Result<(), ParseError> {
    match expr {
        Expr::Const(Value::Long(_) | Value::Double(_)) => Ok(()),
        Expr::Const(_) => err(at, "value cannot be compared with <, <=, >, >= or BETWEEN"),
        e if e.is_boolean() => err(
            at,
            "a boolean cannot be compared with <, <=, >, >= or BETWEEN",
        ),
        _ => Ok(()),
    }
}
