//! GET_BROKER_CONFIG (26) and UPDATE_BROKER_CONFIG (25): the broker's configuration as Java
//! properties text (`key=value` lines), in the body both ways.

use std::collections::BTreeMap;

use super::command_header;

command_header! {
    /// The GET_BROKER_CONFIG answer header: the config's data version as JSON text.
    pub struct GetBrokerConfigResponseHeader {
        version: String => "version",
    }
}

/// Writes `key=value` lines, as Java's `MixAll.properties2String` does.
pub fn properties_to_string(properties: &BTreeMap<String, String>) -> String {
    crate::body::properties::write(properties.iter().map(|(k, v)| (k.as_str(), v.as_str())))
}

/// Reads properties text the way `MixAll.string2Properties` (`Properties.load`) does; the last
/// of repeated keys wins.
pub fn string_to_properties(text: &str) -> BTreeMap<String, String> {
    crate::body::properties::parse(text).into_iter().collect()
}

#[cfg(test)]
mod tests {
    use super::super::testing::assert_round_trip_and_required;
    use super::*;

    #[test]
    fn response_round_trips_and_requires_its_version() {
        let header = GetBrokerConfigResponseHeader {
            version: r#"{"counter":1,"timestamp":2}"#.into(),
        };
        assert_round_trip_and_required(&header, &["version"]);
    }

    #[test]
    fn properties_round_trip_through_text() {
        let properties = BTreeMap::from([
            ("brokerPermission".to_owned(), "6".to_owned()),
            (
                "namesrvAddr".to_owned(),
                "127.0.0.1:9876;127.0.0.2:9876".to_owned(),
            ),
        ]);
        let text = properties_to_string(&properties);
        assert_eq!(
            text,
            "brokerPermission=6\nnamesrvAddr=127.0.0.1:9876;127.0.0.2:9876\n"
        );
        assert_eq!(string_to_properties(&text), properties);
    }

    #[test]
    fn properties_text_skips_comments_and_trims() {
        let parsed = string_to_properties("# c\n\n brokerPermission = 4 \n!x\nflag\nurl=a=b\n");
        assert_eq!(parsed["brokerPermission"], "4");
        assert_eq!(parsed["flag"], "");
        assert_eq!(parsed["url"], "a=b");
        assert_eq!(parsed.len(), 3);
    }
}
