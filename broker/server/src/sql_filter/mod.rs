//! SQL92 property filters (Apache's `filter` module: `SelectorParser.jj` and the ActiveMQ-derived
//! expression classes), evaluated by the broker against each message's properties.
//!
//! A consumer subscribes with `expressionType=SQL92` and an expression such as
//! `a > 5 AND b = 'x'`, over user properties (and `TAGS`, `KEYS`, ...). The broker accepts them
//! only with `enablePropertyFilter=true`. Property values are strings; like Apache (which always
//! parses with `convert_string_expressions`), a string compared with a number is converted to
//! that number's type, and `<`/`>` between two strings compares them as numbers. Three-valued
//! logic: a missing property makes a comparison *unknown*, and only TRUE selects a message; an
//! evaluation error (a property `abc` compared with `5`) selects nothing.
//!
//! | module | what |
//! |---|---|
//! | [`parser`] | tokens, grammar and Apache's parse-time checks |
//! | [`select`] | the filter of a pull: TAG or SQL92, with Apache's refusals |
//! | this file | the expression tree and its evaluation |

pub mod parser;
pub mod select;

use std::cmp::Ordering;

use rmq_protocol::message::properties;

pub use parser::{ParseError, parse};

/// A constant or an evaluated value.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    Long(i64),
    Double(f64),
    Str(String),
}

/// An ordering comparison.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cmp {
    Gt,
    Ge,
    Lt,
    Le,
}

/// A parsed expression.
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    Const(Value),
    Property(String),
    /// A property used where a boolean is expected (`createBooleanCast`).
    PropertyIsTrue(String),
    Negate(Box<Expr>),
    Not(Box<Expr>),
    And(Box<Expr>, Box<Expr>),
    Or(Box<Expr>, Box<Expr>),
    Equal(Box<Expr>, Box<Expr>),
    Compare(Cmp, Box<Expr>, Box<Expr>),
    Between(Box<Expr>, Box<Expr>, Box<Expr>),
    In {
        name: String,
        list: Vec<String>,
        not: bool,
    },
    IsNull(Box<Expr>),
}

impl Expr {
    /// Whether the expression yields a boolean (Apache's `BooleanExpression`).
    pub fn is_boolean(&self) -> bool {
        match self {
            Expr::Const(Value::Bool(_)) => true,
            Expr::Const(_) | Expr::Property(_) | Expr::Negate(_) => false,
            _ => true,
        }
    }

    fn is_boolean_constant(&self) -> bool {
        matches!(self, Expr::Const(Value::Bool(_)))
    }
}

/// Evaluation failed (Apache throws, and the message is not selected).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EvalError;

/// A compiled SQL92 subscription.
#[derive(Debug, Clone, PartialEq)]
pub struct SqlFilter {
    pub expression: String,
    root: Expr,
}

impl SqlFilter {
    /// Parses and checks an expression.
    pub fn compile(expression: &str) -> Result<SqlFilter, ParseError> {
        Ok(SqlFilter {
            expression: expression.to_owned(),
            root: parse(expression)?,
        })
    }

    /// Whether a message with this property string is selected.
    pub fn matches(&self, raw_properties: &[u8]) -> bool {
        let lookup = |name: &str| properties::find(raw_properties, name).map(str::to_owned);
        matches!(eval(&self.root, &lookup), Ok(Value::Bool(true)))
    }

    /// Evaluates against named values (tests and tools).
    pub fn matches_with(&self, lookup: &dyn Fn(&str) -> Option<String>) -> bool {
        matches!(eval(&self.root, lookup), Ok(Value::Bool(true)))
    }
}

type Lookup<'a> = &'a dyn Fn(&str) -> Option<String>;

fn eval(expr: &Expr, lookup: Lookup<'_>) -> Result<Value, EvalError> {
    Ok(match expr {
        Expr::Const(v) => v.clone(),
        Expr::Property(name) => lookup(name).map_or(Value::Null, Value::Str),
        Expr::PropertyIsTrue(name) => match lookup(name) {
            None => Value::Null,
            // Property values are strings, never Boolean.TRUE.
            Some(_) => Value::Bool(false),
        },
        Expr::Negate(inner) => match eval(inner, lookup)? {
            Value::Long(n) => Value::Long(n.wrapping_neg()),
            Value::Double(d) => Value::Double(-d),
            _ => Value::Null,
        },
        Expr::Not(inner) => match eval(inner, lookup)? {
            Value::Bool(b) => Value::Bool(!b),
            Value::Null => Value::Null,
            _ => return Err(EvalError),
        },
        Expr::And(l, r) => {
            let lv = truth(eval(l, lookup)?)?;
            if lv == Some(false) {
                return Ok(Value::Bool(false));
            }
            let rv = truth(eval(r, lookup)?)?;
            match (lv, rv) {
                (_, Some(false)) => Value::Bool(false),
                (Some(true), Some(true)) => Value::Bool(true),
                _ => Value::Null,
            }
        }
        Expr::Or(l, r) => {
            let lv = truth(eval(l, lookup)?)?;
            if lv == Some(true) {
                return Ok(Value::Bool(true));
            }
            let rv = truth(eval(r, lookup)?)?;
            match (lv, rv) {
                (_, Some(true)) => Value::Bool(true),
                (Some(false), Some(false)) => Value::Bool(false),
                _ => Value::Null,
            }
        }
        Expr::Equal(l, r) => equal(eval(l, lookup)?, eval(r, lookup)?)?,
        Expr::IsNull(inner) => Value::Bool(eval(inner, lookup)? == Value::Null),
        Expr::Compare(cmp, l, r) => compare(*cmp, eval(l, lookup)?, eval(r, lookup)?)?,
        Expr::Between(v, low, high) => {
            let v = eval(v, lookup)?;
            let ge = compare(Cmp::Ge, v.clone(), eval(low, lookup)?)?;
            let le_fn = || compare(Cmp::Le, v.clone(), eval(high, lookup)?);
            match truth(ge)? {
                Some(false) => Value::Bool(false),
                lv => match (lv, truth(le_fn()?)?) {
                    (_, Some(false)) => Value::Bool(false),
                    (Some(true), Some(true)) => Value::Bool(true),
                    _ => Value::Null,
                },
            }
        }
        Expr::In { name, list, not } => match lookup(name) {
            None => Value::Null,
            Some(v) => Value::Bool(list.contains(&v) ^ not),
        },
    })
}

fn truth(v: Value) -> Result<Option<bool>, EvalError> {
    match v {
        Value::Bool(b) => Ok(Some(b)),
        Value::Null => Ok(None),
        _ => Err(EvalError),
    }
}

/// `doCreateEqual`: null on either side (but not both) is unknown or false; same values are
/// equal; otherwise compare with conversion.
fn equal(l: Value, r: Value) -> Result<Value, EvalError> {
    match (&l, &r) {
        (Value::Null, Value::Null) => return Ok(Value::Bool(true)),
        (Value::Null, _) => return Ok(Value::Null),
        (_, Value::Null) => return Ok(Value::Bool(false)),
        _ => {}
    }
    if l == r {
        return Ok(Value::Bool(true));
    }
    Ok(Value::Bool(
        compare_values(&l, &r).is_ok_and(|o| o == Ordering::Equal),
    ))
}

fn compare(cmp: Cmp, l: Value, r: Value) -> Result<Value, EvalError> {
    if l == Value::Null || r == Value::Null {
        return Ok(Value::Null);
    }
    let ordering = match (&l, &r) {
        // Apache: ordering two strings is only allowed when both read as numbers.
        (Value::Str(a), Value::Str(b)) => {
            let a = java_double(a).ok_or(EvalError)?;
            let b = java_double(b).ok_or(EvalError)?;
            a.total_cmp(&b)
        }
        _ => match compare_values(&l, &r) {
            Ok(o) => o,
            // Incomparable types: Apache's __compare answers -1.
            Err(Incomparable::Types) => Ordering::Less,
            Err(Incomparable::Conversion) => return Err(EvalError),
        },
    };
    Ok(Value::Bool(match cmp {
        Cmp::Gt => ordering == Ordering::Greater,
        Cmp::Ge => ordering != Ordering::Less,
        Cmp::Lt => ordering == Ordering::Less,
        Cmp::Le => ordering != Ordering::Greater,
    }))
}

/// Why two values have no order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Incomparable {
    /// Types without a conversion (Apache: -1).
    Types,
    /// A string that does not read as the other side's number (Apache throws).
    Conversion,
}

/// `__compare` with string conversion: the string side takes the other side's type.
pub fn compare_values(l: &Value, r: &Value) -> Result<Ordering, Incomparable> {
    use Value::{Bool, Double, Long, Str};
    Ok(match (l, r) {
        (Long(a), Long(b)) => a.cmp(b),
        (Double(a), Double(b)) => a.total_cmp(b),
        (Long(a), Double(b)) => (*a as f64).total_cmp(b),
        (Double(a), Long(b)) => a.total_cmp(&(*b as f64)),
        (Str(a), Str(b)) => a.cmp(b),
        (Bool(a), Bool(b)) => a.cmp(b),
        (Long(a), Str(s)) => a.cmp(&java_long(s).ok_or(Incomparable::Conversion)?),
        (Str(s), Long(b)) => java_long(s).ok_or(Incomparable::Conversion)?.cmp(b),
        (Double(a), Str(s)) => a.total_cmp(&java_double(s).ok_or(Incomparable::Conversion)?),
        (Str(s), Double(b)) => java_double(s).ok_or(Incomparable::Conversion)?.total_cmp(b),
        (Str(s), Bool(b)) => s.eq_ignore_ascii_case("true").cmp(b),
        _ => return Err(Incomparable::Types),
    })
}

/// `Long.valueOf`: an optional sign and decimal digits, nothing else.
fn java_long(s: &str) -> Option<i64> {
    let digits = s.strip_prefix(['+', '-']).unwrap_or(s);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// `Double.valueOf`: surrounding whitespace allowed, an optional `d`/`f` suffix.
fn java_double(s: &str) -> Option<f64> {
    let t = s.trim();
    let t = t
        .strip_suffix(['d', 'D', 'f', 'F'])
        .filter(|rest| !rest.is_empty())
        .unwrap_or(t);
    if t.eq_ignore_ascii_case("nan") || t.eq_ignore_ascii_case("inf") {
        return None;
    }
    t.parse().ok()
}

#[cfg(test)]
mod tests;
