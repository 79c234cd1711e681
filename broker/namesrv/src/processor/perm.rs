//! WIPE_WRITE_PERM_OF_BROKER (205) and ADD_WRITE_PERM_OF_BROKER (327): take a broker group's
//! queues out of (or back into) the write routes, e.g. around a broker shutdown. The answer
//! counts the topics touched.

use rmq_protocol::RemotingCommand;
use rmq_protocol::command::wipe_write_perm::{
    AddWritePermOfBrokerRequestHeader, AddWritePermOfBrokerResponseHeader,
    WipeWritePermOfBrokerRequestHeader, WipeWritePermOfBrokerResponseHeader,
};
use tracing::info;

use super::{Namesrv, ProcessError, success};

/// Clears the write bit of the broker's queue data on every topic.
pub(super) fn wipe_write_perm(
    namesrv: &Namesrv,
    request: &RemotingCommand,
) -> Result<RemotingCommand, ProcessError> {
    let header: WipeWritePermOfBrokerRequestHeader = request.decode_header()?;
    let count = namesrv.routes_mut().wipe_write_perm(&header.broker_name);
    info!(broker = %header.broker_name, topics = count, "write permission wiped");
    Ok(
        success(request).with_header(&WipeWritePermOfBrokerResponseHeader {
            wipe_topic_count: count,
        }),
    )
}

/// Makes the broker's queue data read-write on every topic.
pub(super) fn add_write_perm(
    namesrv: &Namesrv,
    request: &RemotingCommand,
) -> Result<RemotingCommand, ProcessError> {
    let header: AddWritePermOfBrokerRequestHeader = request.decode_header()?;
    let count = namesrv.routes_mut().add_write_perm(&header.broker_name);
    info!(broker = %header.broker_name, topics = count, "write permission added");
    Ok(
        success(request).with_header(&AddWritePermOfBrokerResponseHeader {
            add_topic_count: count,
        }),
    )
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use rmq_protocol::command::wipe_write_perm::{
        AddWritePermOfBrokerRequestHeader, AddWritePermOfBrokerResponseHeader,
        WipeWritePermOfBrokerRequestHeader, WipeWritePermOfBrokerResponseHeader,
    };
    use rmq_protocol::{RemotingCommand, RequestCode, ResponseCode};

    use crate::processor::testing::{namesrv, register_master};

    #[tokio::test]
    async fn wipe_then_add_answer_topic_counts_and_flip_the_write_bit() {
        let (_dir, namesrv) = namesrv();
        register_master(&namesrv, "broker-a", "a:1", &["T", "U"]).await;
        let wipe = RemotingCommand::request_with_header(
            RequestCode::WipeWritePermOfBroker,
            &WipeWritePermOfBrokerRequestHeader {
                broker_name: "broker-a".into(),
            },
        );
        let response = namesrv.process(1, &wipe).await;
        assert_eq!(response.code, i32::from(ResponseCode::Success));
        let header: WipeWritePermOfBrokerResponseHeader = response.decode_header().unwrap();
        assert_eq!(header.wipe_topic_count, 2);
        assert_eq!(namesrv.routes().route("T").unwrap().queue_datas[0].perm, 4);

        let add = RemotingCommand::request_with_header(
            RequestCode::AddWritePermOfBroker,
            &AddWritePermOfBrokerRequestHeader {
                broker_name: "broker-a".into(),
            },
        );
        let response = namesrv.process(1, &add).await;
        let header: AddWritePermOfBrokerResponseHeader = response.decode_header().unwrap();
        assert_eq!(header.add_topic_count, 2);
        assert_eq!(namesrv.routes().route("T").unwrap().queue_datas[0].perm, 6);
    }
}
