//! PUT_KV_CONFIG (100), GET_KV_CONFIG (101), DELETE_KV_CONFIG (102) and
//! GET_KVLIST_BY_NAMESPACE (219): the namespaced KV store. A change is answered once it is on
//! disk; a miss is QUERY_NOT_FOUND with Apache's remark.

use rmq_protocol::body::kv_table::KvTable;
use rmq_protocol::command::kv_config::{
    DeleteKvConfigRequestHeader, GetKvConfigRequestHeader, GetKvConfigResponseHeader,
    GetKvListByNamespaceRequestHeader, PutKvConfigRequestHeader,
};
use rmq_protocol::{RemotingCommand, ResponseCode};

use super::{Namesrv, ProcessError, success};

/// Stores one value.
pub(super) async fn put(
    namesrv: &Namesrv,
    request: &RemotingCommand,
) -> Result<RemotingCommand, ProcessError> {
    let header: PutKvConfigRequestHeader = request.decode_header()?;
    namesrv
        .change_kv(move |store| store.put(&header.namespace, &header.key, &header.value))
        .await?;
    Ok(success(request))
}

/// Reads one value.
pub(super) fn get(
    namesrv: &Namesrv,
    request: &RemotingCommand,
) -> Result<RemotingCommand, ProcessError> {
    let header: GetKvConfigRequestHeader = request.decode_header()?;
    let value = namesrv
        .kv()
        .get(&header.namespace, &header.key)
        .map(str::to_owned);
    Ok(match value {
        Some(value) => {
            success(request).with_header(&GetKvConfigResponseHeader { value: Some(value) })
        }
        None => {
            RemotingCommand::response_to(request, ResponseCode::QueryNotFound).with_remark(format!(
                "No config item, Namespace: {} Key: {}",
                header.namespace, header.key
            ))
        }
    })
}

/// Deletes one value; deleting an absent value succeeds.
pub(super) async fn delete(
    namesrv: &Namesrv,
    request: &RemotingCommand,
) -> Result<RemotingCommand, ProcessError> {
    let header: DeleteKvConfigRequestHeader = request.decode_header()?;
    namesrv
        .change_kv(move |store| store.delete(&header.namespace, &header.key))
        .await?;
    Ok(success(request))
}

/// Every entry of a namespace as a `{"table":{...}}` body.
pub(super) fn list_namespace(
    namesrv: &Namesrv,
    request: &RemotingCommand,
) -> Result<RemotingCommand, ProcessError> {
    let header: GetKvListByNamespaceRequestHeader = request.decode_header()?;
    let entries = namesrv.kv().namespace(&header.namespace).cloned();
    Ok(match entries {
        Some(table) => {
            success(request).with_body(rmq_protocol::body::encode("KVTable", &KvTable { table })?)
        }
        None => RemotingCommand::response_to(request, ResponseCode::QueryNotFound)
            .with_remark(format!("No config item, Namespace: {}", header.namespace)),
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use rmq_protocol::body::kv_table::KvTable;
    use rmq_protocol::command::kv_config::{
        DeleteKvConfigRequestHeader, GetKvConfigRequestHeader, GetKvConfigResponseHeader,
        GetKvListByNamespaceRequestHeader, PutKvConfigRequestHeader,
    };
    use rmq_protocol::{RemotingCommand, RequestCode, ResponseCode};

    use crate::kv::KvConfigStore;
    use crate::processor::Namesrv;
    use crate::processor::testing::namesrv;

    fn put(key: &str, value: &str) -> RemotingCommand {
        RemotingCommand::request_with_header(
            RequestCode::PutKvConfig,
            &PutKvConfigRequestHeader {
                namespace: "ns".into(),
                key: key.into(),
                value: value.into(),
            },
        )
    }

    async fn get(namesrv: &Namesrv, key: &str) -> RemotingCommand {
        let request = RemotingCommand::request_with_header(
            RequestCode::GetKvConfig,
            &GetKvConfigRequestHeader {
                namespace: "ns".into(),
                key: key.into(),
            },
        );
        namesrv.process(1, &request).await
    }

    #[tokio::test]
    async fn put_get_delete_round_trip_through_the_file() {
        let (dir, namesrv) = namesrv();
        let response = namesrv.process(1, &put("k", "v")).await;
        assert_eq!(response.code, i32::from(ResponseCode::Success));

        let response = get(&namesrv, "k").await;
        assert_eq!(response.code, i32::from(ResponseCode::Success));
        let header: GetKvConfigResponseHeader = response.decode_header().unwrap();
        assert_eq!(header.value.as_deref(), Some("v"));
        let on_disk = KvConfigStore::open(dir.path().join("kvConfig.json")).unwrap();
        assert_eq!(on_disk.get("ns", "k"), Some("v"));

        let delete = RemotingCommand::request_with_header(
            RequestCode::DeleteKvConfig,
            &DeleteKvConfigRequestHeader {
                namespace: "ns".into(),
                key: "k".into(),
            },
        );
        let response = namesrv.process(1, &delete).await;
        assert_eq!(response.code, i32::from(ResponseCode::Success));
        let response = get(&namesrv, "k").await;
        assert_eq!(response.code, i32::from(ResponseCode::QueryNotFound));
        assert_eq!(
            response.remark.as_deref(),
            Some("No config item, Namespace: ns Key: k")
        );
        let on_disk = KvConfigStore::open(dir.path().join("kvConfig.json")).unwrap();
        assert_eq!(on_disk.get("ns", "k"), None);
    }

    #[tokio::test]
    async fn a_namespace_is_listed_whole_and_an_unknown_one_is_not_found() {
        let (_dir, namesrv) = namesrv();
        namesrv.process(1, &put("a", "1")).await;
        namesrv.process(1, &put("b", "2")).await;
        let list = |namespace: &str| {
            RemotingCommand::request_with_header(
                RequestCode::GetKvlistByNamespace,
                &GetKvListByNamespaceRequestHeader {
                    namespace: namespace.into(),
                },
            )
        };
        let response = namesrv.process(1, &list("ns")).await;
        assert_eq!(response.code, i32::from(ResponseCode::Success));
        let table: KvTable = rmq_protocol::body::decode("KVTable", &response.body).unwrap();
        assert_eq!(table.table.len(), 2);
        assert_eq!(table.table["b"], "2");

        let response = namesrv.process(1, &list("other")).await;
        assert_eq!(response.code, i32::from(ResponseCode::QueryNotFound));
        assert_eq!(
            response.remark.as_deref(),
            Some("No config item, Namespace: other")
        );
    }

    #[tokio::test]
    async fn a_put_that_cannot_be_written_is_a_system_error_and_not_applied() {
        let (dir, namesrv) = namesrv();
        std::fs::create_dir(dir.path().join("kvConfig.json.tmp")).unwrap();
        let response = namesrv.process(1, &put("k", "v")).await;
        assert_eq!(response.code, i32::from(ResponseCode::SystemError));
        assert!(response.remark.unwrap().contains("not persisted"));
        assert_eq!(
            get(&namesrv, "k").await.code,
            i32::from(ResponseCode::QueryNotFound)
        );
    }
}
