//! [`ExtFields`]: the custom-header fields of a command, by Java field name.
//!
//! A send carries a dozen of them on every message. They live in one text buffer with a sorted
//! index of ranges, so decoding a header allocates twice instead of twice per field.

use std::fmt;
use std::ops::Range;

/// Name → text, sorted by name (so encodings are stable); names are unique.
#[derive(Clone, Default)]
pub struct ExtFields {
    /// Every name and value, back to back; replaced values leave their old text behind.
    text: String,
    /// Sorted by name, no duplicates.
    entries: Vec<Entry>,
}

#[derive(Clone, Copy)]
struct Entry {
    key: (u32, u32),
    value: (u32, u32),
}

/// Up to this many fields a lookup walks them in order; past it, it bisects.
const LINEAR_SEARCH_MAX: usize = 24;

#[inline]
fn range((start, end): (u32, u32)) -> Range<usize> {
    start as usize..end as usize
}

/// `a.cmp(b)`, byte by byte in line: names are a few bytes long (one in a V2 send header), where
/// a call to `memcmp` per probe cost more than the comparison itself.
fn compare_names(a: &[u8], b: &[u8]) -> std::cmp::Ordering {
    for (x, y) in a.iter().zip(b) {
        if x != y {
            return x.cmp(y);
        }
    }
    a.len().cmp(&b.len())
}

impl ExtFields {
    /// No fields.
    pub const fn new() -> ExtFields {
        ExtFields {
            text: String::new(),
            entries: Vec::new(),
        }
    }

    /// Room for `fields` fields of `text` bytes in all.
    pub fn with_capacity(fields: usize, text: usize) -> ExtFields {
        ExtFields {
            text: String::with_capacity(text),
            entries: Vec::with_capacity(fields),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    #[inline]
    fn key_of(&self, entry: &Entry) -> &str {
        &self.text[range(entry.key)]
    }

    #[inline]
    fn value_of(&self, entry: &Entry) -> &str {
        &self.text[range(entry.value)]
    }

    /// Where `key` is (`Ok`) or would go (`Err`), as `binary_search` answers.
    fn find(&self, key: &str) -> Result<usize, usize> {
        let (text, key) = (self.text.as_bytes(), key.as_bytes());
        let compare = |entry: &Entry| compare_names(&text[range(entry.key)], key);
        if self.entries.len() > LINEAR_SEARCH_MAX {
            return self.entries.binary_search_by(compare);
        }
        // A header has a dozen fields: walking them costs one well-predicted branch each,
        // where a binary search's probes mispredict about half the time.
        for (at, entry) in self.entries.iter().enumerate() {
            match compare(entry) {
                std::cmp::Ordering::Less => {}
                std::cmp::Ordering::Equal => return Ok(at),
                std::cmp::Ordering::Greater => return Err(at),
            }
        }
        Err(self.entries.len())
    }

    /// The value of `key`.
    pub fn get(&self, key: &str) -> Option<&str> {
        let at = self.find(key).ok()?;
        Some(self.value_of(&self.entries[at]))
    }

    pub fn contains_key(&self, key: &str) -> bool {
        self.find(key).is_ok()
    }

    fn push_text(&mut self, text: &str) -> (u32, u32) {
        let start = self.text.len();
        self.text.push_str(text);
        // Headers are bounded by the frame limit (16 MiB), far below u32.
        (start as u32, self.text.len() as u32)
    }

    /// Sets `key` to `value`, replacing a value it had.
    pub fn insert(&mut self, key: impl AsRef<str>, value: impl AsRef<str>) {
        let (key, value) = (key.as_ref(), value.as_ref());
        if self.push_sorted(key, value) {
            return;
        }
        match self.find(key) {
            Ok(at) => {
                let value = self.push_text(value);
                self.entries[at].value = value;
            }
            Err(at) => {
                let key = self.push_text(key);
                let value = self.push_text(value);
                self.entries.insert(at, Entry { key, value });
            }
        }
    }

    /// Appends `key` = `value` when `key` sorts after every name so far (the order fastjson
    /// writes); false, with nothing added, otherwise.
    pub(crate) fn push_sorted(&mut self, key: &str, value: &str) -> bool {
        if let Some(last) = self.entries.last()
            && compare_names(self.key_of(last).as_bytes(), key.as_bytes()).is_ge()
        {
            return false;
        }
        let key = self.push_text(key);
        let value = self.push_text(value);
        self.entries.push(Entry { key, value });
        true
    }

    /// Removes `key`; true if it was there.
    pub fn remove(&mut self, key: &str) -> bool {
        match self.find(key) {
            Ok(at) => {
                self.entries.remove(at);
                true
            }
            Err(_) => false,
        }
    }

    pub fn clear(&mut self) {
        self.text.clear();
        self.entries.clear();
    }

    /// Fields in name order.
    #[inline]
    pub fn iter(&self) -> impl ExactSizeIterator<Item = (&str, &str)> + Clone + '_ {
        self.entries
            .iter()
            .map(|entry| (self.key_of(entry), self.value_of(entry)))
    }

    /// Names in order.
    pub fn keys(&self) -> impl ExactSizeIterator<Item = &str> + '_ {
        self.entries.iter().map(|entry| self.key_of(entry))
    }

    /// Adds every field of `other`, replacing values of the same names.
    pub fn extend_from(&mut self, other: &ExtFields) {
        for (key, value) in other.iter() {
            self.insert(key, value);
        }
    }
}

impl PartialEq for ExtFields {
    fn eq(&self, other: &ExtFields) -> bool {
        self.len() == other.len() && self.iter().eq(other.iter())
    }
}

impl Eq for ExtFields {}

impl fmt::Debug for ExtFields {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

impl<K: AsRef<str>, V: AsRef<str>> FromIterator<(K, V)> for ExtFields {
    fn from_iter<I: IntoIterator<Item = (K, V)>>(iter: I) -> ExtFields {
        let mut fields = ExtFields::new();
        fields.extend(iter);
        fields
    }
}

impl<K: AsRef<str>, V: AsRef<str>> Extend<(K, V)> for ExtFields {
    fn extend<I: IntoIterator<Item = (K, V)>>(&mut self, iter: I) {
        for (key, value) in iter {
            self.insert(key, value);
        }
    }
}

impl std::ops::Index<&str> for ExtFields {
    type Output = str;

    /// The value of `key`; panics when it is absent, like a map's index.
    fn index(&self, key: &str) -> &str {
        self.get(key)
            .unwrap_or_else(|| panic!("no ext field `{key}`"))
    }
}

impl serde::Serialize for ExtFields {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_map(self.iter())
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use proptest::prelude::*;

    use super::*;

    #[derive(Debug, Clone)]
    enum Op {
        Insert(String, String),
        Remove(String),
    }

    fn any_op() -> impl Strategy<Value = Op> {
        prop_oneof![
            3 => ("[a-e]{0,2}", "\\PC{0,6}").prop_map(|(k, v)| Op::Insert(k, v)),
            1 => "[a-e]{0,2}".prop_map(Op::Remove),
        ]
    }

    proptest! {
        #[test]
        fn behaves_like_a_sorted_map_under_any_inserts_and_removes(
            ops in proptest::collection::vec(any_op(), 0..40),
        ) {
            let mut model = BTreeMap::new();
            let mut fields = ExtFields::new();
            for op in ops {
                match op {
                    Op::Insert(k, v) => {
                        fields.insert(&k, &v);
                        model.insert(k, v);
                    }
                    Op::Remove(k) => {
                        prop_assert_eq!(fields.remove(&k), model.remove(&k).is_some());
                    }
                }
                prop_assert_eq!(fields.len(), model.len());
                let ours: Vec<(&str, &str)> = fields.iter().collect();
                let theirs: Vec<(&str, &str)> =
                    model.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
                prop_assert_eq!(ours, theirs);
                for k in ["", "a", "b", "ab", "e"] {
                    prop_assert_eq!(fields.get(k), model.get(k).map(String::as_str));
                }
            }
        }
    }

    #[test]
    fn push_sorted_refuses_a_name_that_does_not_sort_last() {
        let mut fields = ExtFields::new();
        assert!(fields.push_sorted("a", "1"));
        assert!(fields.push_sorted("b", "2"));
        assert!(!fields.push_sorted("b", "3"), "a duplicate");
        assert!(!fields.push_sorted("a0", "4"), "out of order");
        assert_eq!(fields.iter().collect::<Vec<_>>(), [("a", "1"), ("b", "2")]);
    }

    #[test]
    fn equality_ignores_insertion_order_and_leftover_text() {
        let mut one = ExtFields::new();
        one.insert("b", "old");
        one.insert("a", "1");
        one.insert("b", "2");
        let two: ExtFields = [("a", "1"), ("b", "2")].into_iter().collect();
        assert_eq!(one, two);
        assert_eq!(&one["b"], "2");
        assert_eq!(format!("{one:?}"), r#"{"a": "1", "b": "2"}"#);
    }
}
