//! CLONE_GROUP_OFFSET (314): copy one group's committed offsets to another group.

use super::command_header;

command_header! {
    /// Copy `src_group`'s offsets on `topic` (every topic it committed on, when absent) to
    /// `dest_group`; `offline` skips the check that the source group subscribes to the topic.
    pub struct CloneGroupOffsetRequestHeader {
        src_group: String => "srcGroup",
        dest_group: String => "destGroup",
        topic: Option<String> => "topic",
        offline: bool => "offline" or false,
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::assert_round_trip_and_required;
    use super::*;

    #[test]
    fn the_header_requires_both_groups() {
        let header = CloneGroupOffsetRequestHeader {
            src_group: "a".into(),
            dest_group: "b".into(),
            topic: Some("T".into()),
            offline: true,
        };
        assert_round_trip_and_required(&header, &["srcGroup", "destGroup"]);
    }
}
