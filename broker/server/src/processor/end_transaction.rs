//! END_TRANSACTION (37): a producer commits or rolls back a half message (see
//! [`crate::transaction`]). Usually sent oneway, so the answer is mostly for tools and tests.
//!
//! COMMIT stores the message in its real topic and queue — the half record's properties as
//! stored, transaction bits COMMIT, `preparedTransactionOffset` = the half record's offset — then
//! writes the op record; ROLLBACK writes only the op record. State 0 (UNKNOW) is ignored: the
//! check service asks again later.

use rmq_protocol::RemotingCommand;
use rmq_protocol::code::ResponseCode;
use rmq_protocol::command::end_transaction::{EndTransactionRequestHeader, commit_or_rollback};
use rmq_protocol::message::properties::{self, keys};
use rmq_protocol::message::record::RecordView;
use rmq_remoting::ConnHandle;
use rmq_store::PutMessage;
use tracing::{error, info};

use super::reply::{answer, bad_header};
use crate::config::BrokerRole;
use crate::state::Broker;
use crate::transaction::{put_op, read_half};

/// Answers END_TRANSACTION.
pub async fn end_transaction(
    broker: &Broker,
    conn: &ConnHandle,
    request: &RemotingCommand,
) -> RemotingCommand {
    let header: EndTransactionRequestHeader = match request.decode_header() {
        Ok(header) => header,
        Err(error) => return bad_header(request, &error),
    };
    if broker.config.role == BrokerRole::Slave {
        return RemotingCommand::response_to(request, ResponseCode::SlaveNotAvailable);
    }
    let commit = match header.commit_or_rollback {
        commit_or_rollback::COMMIT => true,
        commit_or_rollback::ROLLBACK => false,
        // UNKNOW (or anything else): Apache answers nothing; the check service asks again.
        other => {
            info!(group = %header.producer_group, msg_id = %header.msg_id, state = other, from_check = header.from_transaction_check, "transaction state unknown; checked again later");
            return RemotingCommand::response_to(request, ResponseCode::Success);
        }
    };
    // One resolution at a time, and never during a check pass (which reads op records).
    let _serialized = broker.messaging.transaction_lock.lock().await;
    let Some(raw) = read_half(&broker.store, header.commit_log_offset) else {
        return answer(
            request,
            ResponseCode::SystemError,
            "Find prepared transaction message failed",
        );
    };
    let Ok(half) = RecordView::decode(&raw) else {
        return answer(
            request,
            ResponseCode::SystemError,
            "Find prepared transaction message failed",
        );
    };
    if let Err(remark) = check_prepared(&half, &header) {
        return answer(request, ResponseCode::SystemError, remark);
    }
    let half_props = half.properties();
    let uniq = properties::find(half_props, keys::UNIQ_KEY).unwrap_or(&header.msg_id);
    let first = !broker
        .messaging
        .resolved
        .contains(&header.producer_group, uniq);
    if commit && first {
        let Some((real_topic, real_queue, sys_flag)) =
            crate::route::committed(half_props, half.sys_flag())
        else {
            return answer(
                request,
                ResponseCode::SystemError,
                "half message has no REAL_TOPIC",
            );
        };
        let message = PutMessage {
            topic: real_topic,
            queue_id: real_queue,
            flag: half.flag(),
            sys_flag,
            born_timestamp: half.born_timestamp(),
            born_host: half.born_host(),
            reconsume_times: half.reconsume_times(),
            prepared_transaction_offset: header.commit_log_offset,
            body: half.body(),
            // As Apache stores it: the half record's property string (REAL_TOPIC, REAL_QID and
            // TRAN_MSG included; consumers take UNIQ_KEY as the transaction id).
            properties: half_props,
        };
        let put = crate::schedule::put_message(
            &broker.store,
            &broker.config.store.delay_levels,
            &message,
        );
        if let Err(e) = put {
            error!(topic = %real_topic, error = %e, "committed transaction message could not be stored");
            return answer(request, ResponseCode::SystemError, e.to_string());
        }
    } else if !first {
        info!(group = %header.producer_group, %uniq, "transaction already resolved; not stored again");
    }
    // Recorded only now: a commit whose store failed may be retried.
    broker
        .messaging
        .resolved
        .insert(&header.producer_group, uniq);
    if let Err(e) = put_op(
        &broker.store,
        &broker.topics,
        conn.peer(),
        half.queue_id(),
        half.queue_offset(),
        broker.clock.now_ms(),
    ) {
        error!(error = %e, "transaction op record could not be stored");
        return answer(request, ResponseCode::SystemError, e.to_string());
    }
    RemotingCommand::response_to(request, ResponseCode::Success)
}

/// Apache's `checkPrepareMessage`: the half record must be the one the producer names.
fn check_prepared(
    half: &RecordView<'_>,
    header: &EndTransactionRequestHeader,
) -> Result<(), &'static str> {
    if properties::find(half.properties(), keys::PGROUP) != Some(header.producer_group.as_str()) {
        return Err("The producer group wrong");
    }
    if half.queue_offset() != header.tran_state_table_offset {
        return Err("The transaction state table offset wrong");
    }
    if half.physical_offset() != header.commit_log_offset {
        return Err("The commit log offset wrong");
    }
    Ok(())
}
