//! The ACL check of one request against the rules in force, and Apache 4.9.7's answer to a
//! refused one: SYSTEM_ERROR with `org.apache.rocketmq.acl.common.AclException: <reason>` as
//! remark (its RPC hook throws, and the remoting layer answers any exception so; a oneway
//! request gets no answer). The reason never holds a secret.

use std::net::SocketAddr;

use rmq_protocol::acl::{ACCESS_KEY, SIGNATURE};
use rmq_protocol::{RemotingCommand, ResponseCode};

use super::decide::{self, Presented};
use super::needs;
use super::rules::AclRules;

/// Apache's exception class, the start of every refusal's remark.
pub const EXCEPTION: &str = "org.apache.rocketmq.acl.common.AclException";

/// Why `request` from `peer` may not pass, or `None`.
pub fn refused(rules: &AclRules, peer: SocketAddr, request: &RemotingCommand) -> Option<String> {
    let ext = &request.ext_fields;
    let needs = match needs::needs(request.code, |name| ext.get(name), &request.body) {
        Ok(needs) => needs,
        Err(error) => return Some(error.to_string()),
    };
    let presented = Presented {
        remote: peer.ip(),
        access_key: ext.get(ACCESS_KEY),
        signature: ext.get(SIGNATURE),
        ext_fields: ext,
        body: &request.body,
    };
    rules
        .with_current(|config| decide::check(config, presented, &needs))
        .err()
        .map(|denied| denied.to_string())
}

/// The answer to a refused request.
pub fn answer(request: &RemotingCommand, reason: &str) -> RemotingCommand {
    RemotingCommand::response_to(request, ResponseCode::SystemError)
        .with_remark(format!("{EXCEPTION}: {reason}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules(dir: &std::path::Path) -> AclRules {
        let path = dir.join("plain_acl.yml");
        std::fs::write(
            &path,
            "accounts:\n  - {accessKey: RocketMQ, secretKey: 12345678, defaultTopicPerm: SUB, defaultGroupPerm: SUB}\n",
        )
        .unwrap();
        AclRules::load(path).unwrap()
    }

    fn pull() -> RemotingCommand {
        let mut request = RemotingCommand::request(11_i32);
        request.ext_fields.insert("topic", "T");
        request.ext_fields.insert("consumerGroup", "g");
        request
    }

    #[test]
    fn a_signed_request_passes_and_a_forged_or_unsigned_one_gets_apaches_answer() {
        let dir = tempfile::tempdir().unwrap();
        let rules = rules(dir.path());
        let peer: SocketAddr = "127.0.0.1:5000".parse().unwrap();
        let mut signed = pull();
        rmq_protocol::acl::sign(&mut signed, "RocketMQ", "12345678");
        assert_eq!(refused(&rules, peer, &signed), None);

        let mut forged = pull();
        rmq_protocol::acl::sign(&mut forged, "RocketMQ", "wrong-secret");
        let reason = refused(&rules, peer, &forged).unwrap();
        assert_eq!(reason, "Check signature failed for accessKey=RocketMQ");
        let reply = answer(&forged, &reason);
        assert_eq!(reply.code, ResponseCode::SystemError as i32);
        assert_eq!(
            reply.remark.as_deref(),
            Some(
                "org.apache.rocketmq.acl.common.AclException: Check signature failed for accessKey=RocketMQ"
            )
        );
        assert_eq!(
            refused(&rules, peer, &pull()).as_deref(),
            Some("No accessKey is configured")
        );

        let mut send = RemotingCommand::request(310_i32).with_body("x");
        send.ext_fields.insert("a", "pg");
        send.ext_fields.insert("b", "T");
        rmq_protocol::acl::sign(&mut send, "RocketMQ", "12345678");
        assert_eq!(
            refused(&rules, peer, &send).as_deref(),
            Some("No default permission for topic:T")
        );
    }
}
