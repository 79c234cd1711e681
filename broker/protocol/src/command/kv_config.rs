//! PUT_KV_CONFIG (100), GET_KV_CONFIG (101), DELETE_KV_CONFIG (102) and
//! GET_KVLIST_BY_NAMESPACE (219): the name server's namespaced key-value store.
//! A list is answered with a [`KvTable`](crate::body::kv_table::KvTable) body.

use super::command_header;

command_header! {
    /// Store one value.
    pub struct PutKvConfigRequestHeader {
        namespace: String => "namespace",
        key: String => "key",
        value: String => "value",
    }
}

command_header! {
    /// Read one value; a miss is QUERY_NOT_FOUND.
    pub struct GetKvConfigRequestHeader {
        namespace: String => "namespace",
        key: String => "key",
    }
}

command_header! {
    /// The value read.
    pub struct GetKvConfigResponseHeader {
        value: Option<String> => "value",
    }
}

command_header! {
    /// Delete one value.
    pub struct DeleteKvConfigRequestHeader {
        namespace: String => "namespace",
        key: String => "key",
    }
}

command_header! {
    /// Every value of a namespace.
    pub struct GetKvListByNamespaceRequestHeader {
        namespace: String => "namespace",
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::assert_round_trip_and_required;
    use super::*;

    #[test]
    fn put_round_trips_and_requires_its_fields() {
        let header = PutKvConfigRequestHeader {
            namespace: "ORDER_TOPIC_CONFIG".into(),
            key: "T".into(),
            value: "broker-a:4".into(),
        };
        assert_round_trip_and_required(&header, &["namespace", "key", "value"]);
    }

    #[test]
    fn get_and_delete_round_trip_and_require_their_fields() {
        let get = GetKvConfigRequestHeader {
            namespace: "ns".into(),
            key: "k".into(),
        };
        assert_round_trip_and_required(&get, &["namespace", "key"]);
        let delete = DeleteKvConfigRequestHeader {
            namespace: "ns".into(),
            key: "k".into(),
        };
        assert_round_trip_and_required(&delete, &["namespace", "key"]);
        let list = GetKvListByNamespaceRequestHeader {
            namespace: "ns".into(),
        };
        assert_round_trip_and_required(&list, &["namespace"]);
    }

    #[test]
    fn get_response_round_trips_with_and_without_a_value() {
        let found = GetKvConfigResponseHeader {
            value: Some("v".into()),
        };
        assert_round_trip_and_required(&found, &[]);
        assert_round_trip_and_required(&GetKvConfigResponseHeader::default(), &[]);
    }
}
