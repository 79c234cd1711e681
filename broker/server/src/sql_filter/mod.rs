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
//! | [`ast`] | the expression tree |
//! | [`parser`] | tokens, grammar and Apache's parse-time checks |
//! | [`select`] | the filter of a pull: TAG or SQL92, with Apache's refusals |
//! | this file | evaluation |

pub mod ast;
pub mod parser;
pub mod select;

use std::cmp::Ordering;

use rmq_protocol::message::properties;

use ast::java_double;
pub use ast::{Cmp, Expr, Incomparable, Value, compare_values};
pub use parser::{ParseError, parse};

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

#[cfg(test)]
mod tests;
