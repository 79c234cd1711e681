//! END_TRANSACTION (37): a producer commits or rolls back a half message (see
//! [`crate::transaction`]). Usually sent oneway, so the answer is mostly for tools and tests.
//!
//! COMMIT stores the message in its real topic and queue — the half record's properties as
//! stored, transaction bits COMMIT, `preparedTransactionOffset` = the half record's offset — then
//! writes the op record; ROLLBACK writes only the op record. State 0 (UNKNOW) is ignored: the
//! check service asks again later.

pub mod decide;

use std::sync::atomic::Ordering;

use rmq_protocol::RemotingCommand;
use rmq_protocol::code::ResponseCode;
use rmq_protocol::command::end_transaction::EndTransactionRequestHeader;
use rmq_protocol::message::properties::{self, keys};
use rmq_protocol::message::record::RecordView;
use rmq_remoting::ConnHandle;
use rmq_store::PutMessage;
use tracing::{error, info};

use self::decide::{Action, EndTransactionRefused, HalfRecord, Resolution};
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
    let resolution = decide::resolution(header.commit_or_rollback);
    if let Resolution::Unknown(state) = resolution {
        info!(group = %header.producer_group, msg_id = %header.msg_id, state, from_check = header.from_transaction_check, "transaction state unknown; checked again later");
        return RemotingCommand::response_to(request, ResponseCode::Success);
    }
    // One resolution at a time, and never during a check pass (which reads op records).
    let _serialized = broker.messaging.transaction_lock.lock().await;
    match resolve(broker, conn, &header, resolution) {
        Ok(()) => RemotingCommand::response_to(request, ResponseCode::Success),
        Err(refused) => {
            if let EndTransactionRefused::Store(error) = &refused {
                error!(group = %header.producer_group, %error, "transaction could not be resolved");
            }
            answer(request, refused.code(), refused.to_string())
        }
    }
}

/// Checks the half record, stores the committed message (once) and the op record.
fn resolve(
    broker: &Broker,
    conn: &ConnHandle,
    header: &EndTransactionRequestHeader,
    resolution: Resolution,
) -> Result<(), EndTransactionRefused> {
    let raw = read_half(&broker.store, header.commit_log_offset)
        .ok_or(EndTransactionRefused::HalfNotFound)?;
    let half = RecordView::decode(&raw).map_err(|_| EndTransactionRefused::HalfNotFound)?;
    let half_props = half.properties();
    decide::check_prepared(
        &HalfRecord {
            producer_group: properties::find(half_props, keys::PGROUP),
            queue_offset: half.queue_offset(),
            physical_offset: half.physical_offset(),
        },
        &header.producer_group,
        header.tran_state_table_offset,
        header.commit_log_offset,
    )?;
    let uniq = properties::find(half_props, keys::UNIQ_KEY).unwrap_or(&header.msg_id);
    let first = !broker
        .messaging
        .resolved
        .contains(&header.producer_group, uniq);
    if first && matches!(resolution, decide::Resolution::Rollback) {
        broker.metrics.rollbacks.fetch_add(1, Ordering::Relaxed);
    }
    match decide::action(resolution, first) {
        Some(Action::CommitAndMark) => {
            let (real_topic, real_queue, sys_flag) =
                crate::route::committed(half_props, half.sys_flag())
                    .ok_or(EndTransactionRefused::NoRealTopic)?;
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
                // As Apache stores it: the half record's property string (REAL_TOPIC, REAL_QID
                // and TRAN_MSG included; consumers take UNIQ_KEY as the transaction id).
                properties: half_props,
            };
            crate::schedule::put_message(
                &broker.store,
                &broker.config.store.delay_levels,
                &message,
            )
            .map_err(|e| EndTransactionRefused::Store(e.to_string()))?;
            broker.metrics.commits.fetch_add(1, Ordering::Relaxed);
        }
        Some(Action::MarkOnly) if !first => {
            info!(group = %header.producer_group, %uniq, "transaction already resolved; not stored again");
        }
        Some(Action::MarkOnly) | None => {}
    }
    // Recorded only now: a commit whose store failed may be retried.
    broker
        .messaging
        .resolved
        .insert(&header.producer_group, uniq);
    put_op(
        &broker.store,
        &broker.topics,
        conn.peer(),
        half.queue_id(),
        half.queue_offset(),
        broker.clock.now_ms(),
    )
    .map_err(|e| EndTransactionRefused::Store(e.to_string()))?;
    Ok(())
}
