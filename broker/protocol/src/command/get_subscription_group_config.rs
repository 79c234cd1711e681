//! GET_SUBSCRIPTIONGROUP_CONFIG (352, 5.x): one subscription group's configuration. The
//! answer's body is the group's `SubscriptionGroupConfig` as JSON.

use super::command_header;

command_header! {
    /// The query.
    pub struct GetSubscriptionGroupConfigRequestHeader {
        group: String => "group",
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::assert_round_trip_and_required;
    use super::*;

    #[test]
    fn the_query_round_trips_and_requires_its_group() {
        assert_round_trip_and_required(
            &GetSubscriptionGroupConfigRequestHeader { group: "g".into() },
            &["group"],
        );
    }
}
