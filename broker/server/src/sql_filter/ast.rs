//! The SQL92 expression tree the parser builds and the filter evaluates, and the comparison of
//! its values.

use std::cmp::Ordering;

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

    pub(crate) fn is_boolean_constant(&self) -> bool {
        matches!(self, Expr::Const(Value::Bool(_)))
    }
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
pub(crate) fn java_double(s: &str) -> Option<f64> {
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
