//! The compact REGISTER_BROKER body a broker sends with `compressedRegister=true`
//! (`RegisterBrokerBody.encode(true)`): one zlib stream of length-prefixed sections.
//!
//! ```text
//! i32 len, DataVersion JSON
//! i32 topic count, then per topic: i32 len, "name read write perm filterType[ attributesJson]"
//! i32 len, filter-server list JSON
//! i32 count, then per static-topic mapping: i32 len, TopicQueueMappingInfo JSON   (5.x only)
//! ```
//!
//! Integers are big-endian; text is UTF-8. A topic's line does not carry `topicSysFlag` or
//! `order` (they arrive as their defaults, as on an Apache name server). Static-topic mappings are
//! skipped: this name server does not serve logical queues.

use std::io::Read;

use super::topic_config::{
    DataVersion, RegisterBrokerBody, TopicConfig, TopicConfigSerializeWrapper, TopicFilterType,
};

/// The most a compact body may inflate to. Brokers with 100,000 topics send ~5 MiB; the cap keeps
/// a corrupt or hostile body from inflating without bound.
pub const MAX_INFLATED: u64 = 64 << 20;

/// A compact REGISTER_BROKER body could not be read.
#[derive(Debug, thiserror::Error)]
pub enum DecodeCompressedError {
    #[error("the compressed register body is not a valid zlib stream")]
    Inflate(#[source] std::io::Error),
    #[error("the compressed register body inflates past {MAX_INFLATED} bytes")]
    TooLarge,
    #[error("the compressed register body ends inside its {section}")]
    Truncated { section: &'static str },
    #[error("the compressed register body's {section} length is negative: {len}")]
    NegativeLength { section: &'static str, len: i32 },
    #[error("the compressed register body's data version is not valid JSON")]
    DataVersion(#[source] super::DecodeBodyError),
    #[error(
        "the compressed register body's topic line {line:?} is not `name read write perm filterType`"
    )]
    TopicLine { line: String },
    #[error("the compressed register body's {section} is not UTF-8")]
    NotUtf8 { section: &'static str },
}

/// Reads a compact body.
pub fn decode(compressed: &[u8]) -> Result<RegisterBrokerBody, DecodeCompressedError> {
    decode_capped(compressed, MAX_INFLATED)
}

fn decode_capped(compressed: &[u8], cap: u64) -> Result<RegisterBrokerBody, DecodeCompressedError> {
    let mut inflated = Vec::new();
    flate2::read::ZlibDecoder::new(compressed)
        .take(cap + 1)
        .read_to_end(&mut inflated)
        .map_err(DecodeCompressedError::Inflate)?;
    if inflated.len() as u64 > cap {
        return Err(DecodeCompressedError::TooLarge);
    }
    let mut sections = Sections { rest: &inflated };

    let version = sections.block("data version")?;
    let data_version = DataVersion::decode(version).map_err(DecodeCompressedError::DataVersion)?;
    let mut wrapper = TopicConfigSerializeWrapper {
        data_version,
        ..TopicConfigSerializeWrapper::default()
    };
    let topics = sections.count("topic count")?;
    for _ in 0..topics {
        let line = sections.text("topic line")?;
        let topic = topic_from_line(line)?;
        wrapper
            .topic_config_table
            .insert(topic.topic_name.clone(), topic);
    }
    // Java logs a list that does not parse and registers with none; so does this.
    let filters = sections.block("filter-server list")?;
    let filter_server_list: Vec<String> = serde_json::from_slice(filters).unwrap_or_default();
    // 4.x brokers end here; 5.x ones append static-topic mappings, which are skipped.
    if !sections.rest.is_empty() {
        let mappings = sections.count("mapping count")?;
        for _ in 0..mappings {
            sections.block("topic queue mapping")?;
        }
    }
    Ok(RegisterBrokerBody {
        filter_server_list,
        topic_config_serialize_wrapper: wrapper,
    })
}

/// Writes the compact form of `body` (what a broker with `compressedRegister=true` sends).
pub fn encode(body: &RegisterBrokerBody) -> Vec<u8> {
    let wrapper = &body.topic_config_serialize_wrapper;
    let mut raw = Vec::new();
    // Serializing these plain structs cannot fail (string keys, no maps with non-string keys).
    let version = serde_json::to_vec(&wrapper.data_version).unwrap_or_default();
    push_block(&mut raw, &version);
    push_len(&mut raw, wrapper.topic_config_table.len());
    for topic in wrapper.topic_config_table.values() {
        push_block(&mut raw, topic_line(topic).as_bytes());
    }
    let filters = serde_json::to_vec(&body.filter_server_list).unwrap_or_default();
    push_block(&mut raw, &filters);
    push_len(&mut raw, 0);
    let mut out = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
    // Writing into a Vec cannot fail.
    let _ = std::io::Write::write_all(&mut out, &raw);
    out.finish().unwrap_or_default()
}

/// 5.x's `TopicConfig.encode()`: the five fields and the attributes as JSON (`{}` when there are
/// none), separated by single spaces. (4.x stops after the filter type.)
pub fn topic_line(topic: &TopicConfig) -> String {
    format!(
        "{} {} {} {} {} {}",
        topic.topic_name,
        topic.read_queue_nums,
        topic.write_queue_nums,
        topic.perm,
        topic.topic_filter_type.name(),
        serde_json::to_string(&topic.attributes).unwrap_or_default()
    )
}

/// `TopicConfig.decode()`: at least the five fields; what follows the fifth separator is the
/// attributes JSON, ignored when it does not parse (as Java does).
pub fn topic_from_line(line: &str) -> Result<TopicConfig, DecodeCompressedError> {
    let bad = || DecodeCompressedError::TopicLine {
        line: line.to_owned(),
    };
    let mut fields = line.splitn(6, ' ');
    let mut next = || fields.next().ok_or_else(bad);
    let topic_name = next()?.to_owned();
    let read_queue_nums = next()?.parse().map_err(|_| bad())?;
    let write_queue_nums = next()?.parse().map_err(|_| bad())?;
    let perm = next()?.parse().map_err(|_| bad())?;
    let topic_filter_type = TopicFilterType::from_name(next()?).ok_or_else(bad)?;
    let attributes = fields
        .next()
        .filter(|json| !json.is_empty())
        .and_then(|json| serde_json::from_str(json).ok())
        .unwrap_or_default();
    if topic_name.is_empty() {
        return Err(bad());
    }
    Ok(TopicConfig {
        attributes,
        perm,
        read_queue_nums,
        topic_filter_type,
        topic_name,
        write_queue_nums,
        ..TopicConfig::default()
    })
}

fn push_len(out: &mut Vec<u8>, len: usize) {
    out.extend_from_slice(&i32::try_from(len).unwrap_or(i32::MAX).to_be_bytes());
}

fn push_block(out: &mut Vec<u8>, block: &[u8]) {
    push_len(out, block.len());
    out.extend_from_slice(block);
}

/// The inflated bytes, read front to back.
struct Sections<'a> {
    rest: &'a [u8],
}

impl<'a> Sections<'a> {
    fn count(&mut self, section: &'static str) -> Result<usize, DecodeCompressedError> {
        let Some((head, rest)) = self.rest.split_first_chunk::<4>() else {
            return Err(DecodeCompressedError::Truncated { section });
        };
        self.rest = rest;
        let len = i32::from_be_bytes(*head);
        usize::try_from(len).map_err(|_| DecodeCompressedError::NegativeLength { section, len })
    }

    fn block(&mut self, section: &'static str) -> Result<&'a [u8], DecodeCompressedError> {
        let len = self.count(section)?;
        if len > self.rest.len() {
            return Err(DecodeCompressedError::Truncated { section });
        }
        let (block, rest) = self.rest.split_at(len);
        self.rest = rest;
        Ok(block)
    }

    fn text(&mut self, section: &'static str) -> Result<&'a str, DecodeCompressedError> {
        std::str::from_utf8(self.block(section)?)
            .map_err(|_| DecodeCompressedError::NotUtf8 { section })
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    fn body() -> RegisterBrokerBody {
        let mut table = BTreeMap::new();
        for (name, queues) in [("Orders", 8), ("%RETRY%billing", 1)] {
            table.insert(
                name.to_owned(),
                TopicConfig {
                    topic_name: name.to_owned(),
                    read_queue_nums: queues,
                    write_queue_nums: queues,
                    perm: 6,
                    ..TopicConfig::default()
                },
            );
        }
        let mut ordered = table["Orders"].clone();
        ordered.topic_name = "Fifo".to_owned();
        ordered.topic_filter_type = TopicFilterType::MultiTag;
        ordered
            .attributes
            .insert("+message.type".to_owned(), "FIFO".to_owned());
        table.insert("Fifo".to_owned(), ordered);
        RegisterBrokerBody {
            filter_server_list: vec!["10.0.0.9:30000".to_owned()],
            topic_config_serialize_wrapper: TopicConfigSerializeWrapper {
                data_version: DataVersion {
                    counter: 7,
                    state_version: Some(0),
                    timestamp: 1_700_000_000_000,
                },
                topic_config_table: table,
            },
        }
    }

    #[test]
    fn a_compact_body_reads_back_every_topic_its_version_and_filter_servers() {
        let body = body();
        let compact = encode(&body);
        assert_eq!(
            &compact[..1],
            &[0x78],
            "a zlib stream, as Java's DeflaterOutputStream"
        );
        assert_eq!(decode(&compact).unwrap(), body);
    }

    #[test]
    fn a_topic_line_is_java_s_space_separated_form() {
        let body = body();
        let table = &body.topic_config_serialize_wrapper.topic_config_table;
        assert_eq!(topic_line(&table["Orders"]), "Orders 8 8 6 SINGLE_TAG {}");
        assert_eq!(
            topic_line(&table["Fifo"]),
            r#"Fifo 8 8 6 MULTI_TAG {"+message.type":"FIFO"}"#
        );
        // A 4.x broker's line has no trailing separator and no attributes.
        let old = topic_from_line("Legacy 4 2 4 SINGLE_TAG").unwrap();
        assert_eq!(
            (
                old.topic_name.as_str(),
                old.read_queue_nums,
                old.write_queue_nums,
                old.perm
            ),
            ("Legacy", 4, 2, 4)
        );
        // Attributes that do not parse are dropped, the topic is kept.
        assert!(
            topic_from_line("T 1 1 6 SINGLE_TAG {broken")
                .unwrap()
                .attributes
                .is_empty()
        );
    }

    #[test]
    fn a_bad_compact_body_is_refused_with_the_part_that_failed() {
        assert!(matches!(
            decode(b"not zlib at all"),
            Err(DecodeCompressedError::Inflate(_))
        ));
        let compact = encode(&body());
        let mut raw = Vec::new();
        flate2::read::ZlibDecoder::new(&compact[..])
            .read_to_end(&mut raw)
            .unwrap();
        let cut = zlib(&raw[..raw.len() - 30]);
        assert!(matches!(
            decode(&cut),
            Err(DecodeCompressedError::Truncated { .. })
        ));
        let mut bad_line = Vec::new();
        push_block(&mut bad_line, br#"{"counter":1,"timestamp":2}"#);
        push_len(&mut bad_line, 1);
        push_block(&mut bad_line, b"T four 4 6 SINGLE_TAG");
        let err = decode(&zlib(&bad_line)).unwrap_err();
        assert!(err.to_string().contains("T four 4 6 SINGLE_TAG"), "{err}");
        let mut negative = Vec::new();
        negative.extend_from_slice(&(-1i32).to_be_bytes());
        assert!(matches!(
            decode(&zlib(&negative)),
            Err(DecodeCompressedError::NegativeLength { len: -1, .. })
        ));
    }

    #[test]
    fn a_body_inflating_past_the_cap_is_refused() {
        let compact = encode(&body());
        let mut raw = Vec::new();
        flate2::read::ZlibDecoder::new(&compact[..])
            .read_to_end(&mut raw)
            .unwrap();
        let cap = raw.len() as u64;
        assert!(
            decode_capped(&compact, cap).is_ok(),
            "exactly the cap is fine"
        );
        assert!(matches!(
            decode_capped(&compact, cap - 1),
            Err(DecodeCompressedError::TooLarge)
        ));
    }

    fn zlib(raw: &[u8]) -> Vec<u8> {
        let mut out = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::fast());
        std::io::Write::write_all(&mut out, raw).unwrap();
        out.finish().unwrap()
    }
}
