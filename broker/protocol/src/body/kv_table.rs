//! `KVTable`: `{"table":{"k":"v",...}}`, the body of GET_BROKER_RUNTIME_INFO and
//! GET_KVLIST_BY_NAMESPACE. All values are strings.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// A string table.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct KvTable {
    pub table: BTreeMap<String, String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kv_table_has_the_java_shape_and_round_trips() {
        let mut table = KvTable::default();
        table
            .table
            .insert("brokerVersionDesc".into(), "V4_9_4".into());
        table
            .table
            .insert("commitLogMaxOffset".into(), "1024".into());
        let json = serde_json::to_string(&table).unwrap();
        assert_eq!(
            json,
            r#"{"table":{"brokerVersionDesc":"V4_9_4","commitLogMaxOffset":"1024"}}"#
        );
        assert_eq!(
            crate::body::decode::<KvTable>("KVTable", json.as_bytes()).unwrap(),
            table
        );
    }
}
