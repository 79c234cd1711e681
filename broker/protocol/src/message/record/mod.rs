//! The stored message record: the unit of the commit log and of pull, query and view bodies.
//!
//! ```text
//! offset  width  field
//!      0      4  TOTALSIZE            whole record, this field included
//!      4      4  MAGICCODE            0xDAA320A7 (V1: 1-byte topic length) / 0xDAA320AB (V2: 2-byte)
//!      8      4  BODYCRC              crc32(body) & 0x7FFFFFFF
//!     12      4  QUEUEID
//!     16      4  FLAG                 user flag
//!     20      8  QUEUEOFFSET          consume-queue offset
//!     28      8  PHYSICALOFFSET       commit log offset of this record
//!     36      4  SYSFLAG
//!     40      8  BORNTIMESTAMP        ms
//!     48    8|20 BORNHOST             IPv4 (4) or IPv6 (16) address, then port as i32
//!      .      8  STORETIMESTAMP       ms
//!      .    8|20 STOREHOST
//!      .      4  RECONSUMETIMES
//!      .      8  PREPAREDTRANSACTIONOFFSET
//!      .  4 + n  BODYLEN, BODY
//!      .  1 + n  TOPICLEN, TOPIC      (2 + n with the V2 magic)
//!      .  2 + n  PROPERTIESLEN, PROPERTIES
//! ```
//! All integers are big-endian. A commit log file that cannot hold the next record ends with a blank
//! record: `[i32 remaining bytes][i32 0xCBD43194]`.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use super::sysflag;

/// Magic code of a V1 record (1-byte topic length).
pub const MAGIC_V1: i32 = 0xDAA3_20A7_u32 as i32;
/// Magic code of a V2 record (2-byte topic length), written by Apache 5.x for long topics.
pub const MAGIC_V2: i32 = 0xDAA3_20AB_u32 as i32;
/// Magic code of the blank record that fills the end of a commit log file.
pub const BLANK_MAGIC: i32 = 0xCBD4_3194_u32 as i32;
/// Length of the blank record's meaningful prefix (size + magic).
pub const BLANK_HEADER_LEN: usize = 8;

/// Positions of the fixed-prefix fields.
pub mod pos {
    pub const TOTAL_SIZE: usize = 0;
    pub const MAGIC: usize = 4;
    pub const BODY_CRC: usize = 8;
    pub const QUEUE_ID: usize = 12;
    pub const FLAG: usize = 16;
    pub const QUEUE_OFFSET: usize = 20;
    pub const PHYSICAL_OFFSET: usize = 28;
    pub const SYS_FLAG: usize = 36;
    pub const BORN_TIMESTAMP: usize = 40;
    pub const BORN_HOST: usize = 48;
}

/// Longest topic a V1 record can carry.
pub const MAX_TOPIC_LEN_V1: usize = 127;
/// Longest property string (its length is an i16).
pub const MAX_PROPERTIES_LEN: usize = i16::MAX as usize;

/// The fields of a record to encode.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordFields<'a> {
    pub queue_id: i32,
    pub flag: i32,
    pub queue_offset: i64,
    pub physical_offset: i64,
    /// Host bits (`BORNHOST_V6`, `STOREHOST_V6`) are set by the encoder from the addresses.
    pub sys_flag: i32,
    pub born_timestamp: i64,
    pub born_host: SocketAddr,
    pub store_timestamp: i64,
    pub store_host: SocketAddr,
    pub reconsume_times: i32,
    pub prepared_transaction_offset: i64,
    pub body: &'a [u8],
    pub topic: &'a str,
    pub properties: &'a [u8],
}

/// Why a record could not be encoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EncodeRecordError {
    #[error(
        "topic {topic:?} is {len} bytes, longer than the {MAX_TOPIC_LEN_V1} a record can carry"
    )]
    TopicTooLong { topic: String, len: usize },
    #[error("properties are {len} bytes, longer than the {MAX_PROPERTIES_LEN} a record can carry")]
    PropertiesTooLong { len: usize },
    #[error("record of {len} bytes does not fit in an i32 size field")]
    RecordTooLarge { len: usize },
}

/// Why bytes are not a valid record.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeRecordError {
    #[error("record needs {needed} bytes, only {available} available")]
    Truncated { needed: usize, available: usize },
    #[error("unknown magic code {magic:#010x}")]
    BadMagic { magic: u32 },
    #[error("declared total size {declared} is impossible")]
    BadTotalSize { declared: i32 },
    #[error("declared total size {declared} disagrees with the fields, which take {computed}")]
    SizeMismatch { declared: usize, computed: usize },
    #[error("topic is not valid UTF-8")]
    TopicNotUtf8,
    #[error("body crc {stored:#010x} does not match computed {computed:#010x}")]
    BodyCrcMismatch { stored: u32, computed: u32 },
    #[error("record tail is torn: {what}")]
    TornTail { what: &'static str },
    #[error("record field {what} holds {value}, which no broker writes")]
    BadField { what: &'static str, value: i64 },
}

/// Apache's `UtilAll.crc32`: CRC-32 (IEEE) of the body, masked to a non-negative i32.
pub fn body_crc(body: &[u8]) -> i32 {
    (crc32fast::hash(body) & 0x7FFF_FFFF) as i32
}

fn host_len(addr: &SocketAddr) -> usize {
    match addr.ip() {
        IpAddr::V4(_) => 8,
        IpAddr::V6(_) => 20,
    }
}

fn host_sys_flags(born: &SocketAddr, store: &SocketAddr) -> i32 {
    let mut flags = 0;
    if born.is_ipv6() {
        flags |= sysflag::BORNHOST_V6;
    }
    if store.is_ipv6() {
        flags |= sysflag::STOREHOST_V6;
    }
    flags
}

/// Length of the record `fields` encodes to (V1).
pub fn encoded_len(fields: &RecordFields<'_>) -> usize {
    4 + 4
        + 4
        + 4
        + 4
        + 8
        + 8
        + 4
        + 8
        + host_len(&fields.born_host)
        + 8
        + host_len(&fields.store_host)
        + 4
        + 8
        + 4
        + fields.body.len()
        + 1
        + fields.topic.len()
        + 2
        + fields.properties.len()
}

/// Position of STORETIMESTAMP in a record with this sysFlag.
pub fn store_timestamp_pos(sys_flag: i32) -> usize {
    pos::BORN_HOST
        + if sys_flag & sysflag::BORNHOST_V6 != 0 {
            20
        } else {
            8
        }
}

fn put_host(out: &mut Vec<u8>, addr: &SocketAddr) {
    match addr.ip() {
        IpAddr::V4(ip) => out.extend_from_slice(&ip.octets()),
        IpAddr::V6(ip) => out.extend_from_slice(&ip.octets()),
    }
    out.extend_from_slice(&i32::from(addr.port()).to_be_bytes());
}

/// Appends the V1 record of `fields` to `out`, computing the body CRC and the host sysFlag bits.
pub fn encode_into(fields: &RecordFields<'_>, out: &mut Vec<u8>) -> Result<(), EncodeRecordError> {
    if fields.topic.len() > MAX_TOPIC_LEN_V1 {
        return Err(EncodeRecordError::TopicTooLong {
            topic: fields.topic.to_owned(),
            len: fields.topic.len(),
        });
    }
    if fields.properties.len() > MAX_PROPERTIES_LEN {
        return Err(EncodeRecordError::PropertiesTooLong {
            len: fields.properties.len(),
        });
    }
    let len = encoded_len(fields);
    let total = i32::try_from(len).map_err(|_| EncodeRecordError::RecordTooLarge { len })?;
    let sys_flag = (fields.sys_flag & !(sysflag::BORNHOST_V6 | sysflag::STOREHOST_V6))
        | host_sys_flags(&fields.born_host, &fields.store_host);
    out.reserve(len);
    out.extend_from_slice(&total.to_be_bytes());
    out.extend_from_slice(&MAGIC_V1.to_be_bytes());
    out.extend_from_slice(&body_crc(fields.body).to_be_bytes());
    out.extend_from_slice(&fields.queue_id.to_be_bytes());
    out.extend_from_slice(&fields.flag.to_be_bytes());
    out.extend_from_slice(&fields.queue_offset.to_be_bytes());
    out.extend_from_slice(&fields.physical_offset.to_be_bytes());
    out.extend_from_slice(&sys_flag.to_be_bytes());
    out.extend_from_slice(&fields.born_timestamp.to_be_bytes());
    put_host(out, &fields.born_host);
    out.extend_from_slice(&fields.store_timestamp.to_be_bytes());
    put_host(out, &fields.store_host);
    out.extend_from_slice(&fields.reconsume_times.to_be_bytes());
    out.extend_from_slice(&fields.prepared_transaction_offset.to_be_bytes());
    // Both lengths were bounded above, so the casts below cannot truncate.
    out.extend_from_slice(&(fields.body.len() as i32).to_be_bytes());
    out.extend_from_slice(fields.body);
    out.push(fields.topic.len() as u8);
    out.extend_from_slice(fields.topic.as_bytes());
    out.extend_from_slice(&(fields.properties.len() as i16).to_be_bytes());
    out.extend_from_slice(fields.properties);
    Ok(())
}

/// Encodes `fields` into a new buffer.
pub fn encode(fields: &RecordFields<'_>) -> Result<Vec<u8>, EncodeRecordError> {
    let mut out = Vec::with_capacity(encoded_len(fields));
    encode_into(fields, &mut out)?;
    Ok(out)
}

/// Writes the blank record that marks the rest of a file as unused.
pub fn blank_header(remaining: i32) -> [u8; BLANK_HEADER_LEN] {
    let mut out = [0u8; BLANK_HEADER_LEN];
    out[..4].copy_from_slice(&remaining.to_be_bytes());
    out[4..].copy_from_slice(&BLANK_MAGIC.to_be_bytes());
    out
}

/// What the first 8 bytes at a position say.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecordHead {
    /// A message record of this total size.
    Message { total_size: usize },
    /// A blank record: the file ends here; `total_size` is the rest of the file.
    Blank { total_size: usize },
}

/// Reads the size and magic at the start of `buf`. `Ok(None)` when fewer than 8 bytes are there.
pub fn peek_head(buf: &[u8]) -> Result<Option<RecordHead>, DecodeRecordError> {
    if buf.len() < BLANK_HEADER_LEN {
        return Ok(None);
    }
    let size = read_i32(buf, pos::TOTAL_SIZE);
    let magic = read_i32(buf, pos::MAGIC);
    if size <= 0 {
        return Err(DecodeRecordError::BadTotalSize { declared: size });
    }
    let total_size = size as usize;
    match magic {
        MAGIC_V1 | MAGIC_V2 => Ok(Some(RecordHead::Message { total_size })),
        BLANK_MAGIC => Ok(Some(RecordHead::Blank { total_size })),
        other => Err(DecodeRecordError::BadMagic {
            magic: other as u32,
        }),
    }
}

fn read_i32(buf: &[u8], at: usize) -> i32 {
    let mut b = [0u8; 4];
    b.copy_from_slice(&buf[at..at + 4]);
    i32::from_be_bytes(b)
}

fn read_i64(buf: &[u8], at: usize) -> i64 {
    let mut b = [0u8; 8];
    b.copy_from_slice(&buf[at..at + 8]);
    i64::from_be_bytes(b)
}

fn read_i16(buf: &[u8], at: usize) -> i16 {
    i16::from_be_bytes([buf[at], buf[at + 1]])
}

/// A validated, zero-copy view of one record.
#[derive(Debug, Clone, Copy)]
pub struct RecordView<'a> {
    raw: &'a [u8],
    store_ts_at: usize,
    store_host_at: usize,
    reconsume_at: usize,
    body_at: usize,
    body_len: usize,
    topic_at: usize,
    topic_len: usize,
    props_at: usize,
    props_len: usize,
}

struct Cursor<'a> {
    buf: &'a [u8],
    at: usize,
}

impl Cursor<'_> {
    fn need(&self, n: usize) -> Result<(), DecodeRecordError> {
        if self.at + n > self.buf.len() {
            return Err(DecodeRecordError::Truncated {
                needed: self.at + n,
                available: self.buf.len(),
            });
        }
        Ok(())
    }
    fn skip(&mut self, n: usize) -> Result<usize, DecodeRecordError> {
        self.need(n)?;
        let start = self.at;
        self.at += n;
        Ok(start)
    }
}

impl<'a> RecordView<'a> {
    /// Decodes the record at the start of `buf` (which may hold more after it). Checks the structure
    /// and the declared size, not the body CRC (see [`RecordView::verify_body_crc`]).
    pub fn decode(buf: &'a [u8]) -> Result<Self, DecodeRecordError> {
        let head = peek_head(buf)?.ok_or(DecodeRecordError::Truncated {
            needed: BLANK_HEADER_LEN,
            available: buf.len(),
        })?;
        let RecordHead::Message { total_size } = head else {
            return Err(DecodeRecordError::BadMagic {
                magic: BLANK_MAGIC as u32,
            });
        };
        if total_size < BLANK_HEADER_LEN {
            return Err(DecodeRecordError::BadTotalSize {
                declared: total_size as i32,
            });
        }
        if buf.len() < total_size {
            return Err(DecodeRecordError::Truncated {
                needed: total_size,
                available: buf.len(),
            });
        }
        let raw = &buf[..total_size];
        let magic = read_i32(raw, pos::MAGIC);
        let mut c = Cursor { buf: raw, at: 0 };
        c.skip(pos::BORN_HOST)?;
        let sys_flag = read_i32(raw, pos::SYS_FLAG);
        c.skip(if sys_flag & sysflag::BORNHOST_V6 != 0 {
            20
        } else {
            8
        })?;
        let store_ts_at = c.skip(8)?;
        let store_host_at = c.skip(if sys_flag & sysflag::STOREHOST_V6 != 0 {
            20
        } else {
            8
        })?;
        // Ports are written as i32 but are 16-bit: anything else is damage, and would not
        // survive a re-encode.
        for (what, port_at) in [
            ("born port", store_ts_at - 4),
            ("store port", reconsume_at_of(store_host_at, sys_flag) - 4),
        ] {
            let port = read_i32(raw, port_at);
            if !(0..=i32::from(u16::MAX)).contains(&port) {
                return Err(DecodeRecordError::BadField {
                    what,
                    value: i64::from(port),
                });
            }
        }
        let reconsume_at = c.skip(4)?;
        c.skip(8)?;
        let body_len_at = c.skip(4)?;
        let body_len = read_i32(raw, body_len_at);
        let body_len = usize::try_from(body_len).map_err(|_| DecodeRecordError::SizeMismatch {
            declared: total_size,
            computed: usize::MAX,
        })?;
        let body_at = c.skip(body_len)?;
        let topic_len = if magic == MAGIC_V2 {
            let at = c.skip(2)?;
            read_i16(raw, at) as u16 as usize
        } else {
            let at = c.skip(1)?;
            // Java reads this byte as signed: a V1 topic is at most 127 bytes.
            if raw[at] > MAX_TOPIC_LEN_V1 as u8 {
                return Err(DecodeRecordError::BadField {
                    what: "V1 topic length",
                    value: i64::from(raw[at] as i8),
                });
            }
            raw[at] as usize
        };
        let topic_at = c.skip(topic_len)?;
        if std::str::from_utf8(&raw[topic_at..topic_at + topic_len]).is_err() {
            return Err(DecodeRecordError::TopicNotUtf8);
        }
        let props_len_at = c.skip(2)?;
        let props_len = read_i16(raw, props_len_at);
        if props_len < 0 {
            return Err(DecodeRecordError::BadField {
                what: "properties length",
                value: i64::from(props_len),
            });
        }
        let props_len = props_len as usize;
        let props_at = c.skip(props_len)?;
        if c.at != total_size {
            return Err(DecodeRecordError::SizeMismatch {
                declared: total_size,
                computed: c.at,
            });
        }
        Ok(RecordView {
            raw,
            store_ts_at,
            store_host_at,
            reconsume_at,
            body_at,
            body_len,
            topic_at,
            topic_len,
            props_at,
            props_len,
        })
    }

    /// The record's bytes, exactly as stored.
    pub fn as_bytes(&self) -> &'a [u8] {
        self.raw
    }
    pub fn total_size(&self) -> usize {
        self.raw.len()
    }
    pub fn magic(&self) -> i32 {
        read_i32(self.raw, pos::MAGIC)
    }
    pub fn body_crc(&self) -> i32 {
        read_i32(self.raw, pos::BODY_CRC)
    }
    pub fn queue_id(&self) -> i32 {
        read_i32(self.raw, pos::QUEUE_ID)
    }
    pub fn flag(&self) -> i32 {
        read_i32(self.raw, pos::FLAG)
    }
    pub fn queue_offset(&self) -> i64 {
        read_i64(self.raw, pos::QUEUE_OFFSET)
    }
    pub fn physical_offset(&self) -> i64 {
        read_i64(self.raw, pos::PHYSICAL_OFFSET)
    }
    pub fn sys_flag(&self) -> i32 {
        read_i32(self.raw, pos::SYS_FLAG)
    }
    pub fn born_timestamp(&self) -> i64 {
        read_i64(self.raw, pos::BORN_TIMESTAMP)
    }
    pub fn born_host(&self) -> SocketAddr {
        read_host(
            self.raw,
            pos::BORN_HOST,
            self.sys_flag() & sysflag::BORNHOST_V6 != 0,
        )
    }
    pub fn store_timestamp(&self) -> i64 {
        read_i64(self.raw, self.store_ts_at)
    }
    pub fn store_host(&self) -> SocketAddr {
        read_host(
            self.raw,
            self.store_host_at,
            self.sys_flag() & sysflag::STOREHOST_V6 != 0,
        )
    }
    pub fn reconsume_times(&self) -> i32 {
        read_i32(self.raw, self.reconsume_at)
    }
    pub fn prepared_transaction_offset(&self) -> i64 {
        read_i64(self.raw, self.reconsume_at + 4)
    }
    pub fn body(&self) -> &'a [u8] {
        &self.raw[self.body_at..self.body_at + self.body_len]
    }
    pub fn topic(&self) -> &'a str {
        // Checked in `decode`.
        std::str::from_utf8(&self.raw[self.topic_at..self.topic_at + self.topic_len]).unwrap_or("")
    }
    pub fn properties(&self) -> &'a [u8] {
        &self.raw[self.props_at..self.props_at + self.props_len]
    }

    /// Checks the stored body CRC against the body.
    pub fn verify_body_crc(&self) -> Result<(), DecodeRecordError> {
        let computed = body_crc(self.body());
        let stored = self.body_crc();
        if computed != stored {
            return Err(DecodeRecordError::BodyCrcMismatch {
                stored: stored as u32,
                computed: computed as u32,
            });
        }
        Ok(())
    }

    /// Full integrity check for recovery: the body CRC, plus the parts the CRC does not cover. A
    /// record torn by a crash mid-copy keeps its prefix and has zeroes after it, so a topic with a
    /// NUL byte or a property string that ends in NUL means a torn tail.
    ///
    /// Whether the property string ends with its 0x02 separator says nothing: Apache 4.7-4.9.0
    /// and 5.x keep the trailing separator of a single message's properties, 4.9.2-4.9.x delete it
    /// (`MessageDecoder.messageProperties2String`), and both kinds are valid records.
    pub fn verify(&self) -> Result<(), DecodeRecordError> {
        self.verify_body_crc()?;
        if self.topic_len == 0 || self.topic().bytes().any(|b| b == 0) {
            return Err(DecodeRecordError::TornTail { what: "topic" });
        }
        if self.properties().last() == Some(&0) {
            return Err(DecodeRecordError::TornTail { what: "properties" });
        }
        Ok(())
    }

    /// The fields, borrowing body, topic and properties from the record.
    pub fn fields(&self) -> RecordFields<'a> {
        RecordFields {
            queue_id: self.queue_id(),
            flag: self.flag(),
            queue_offset: self.queue_offset(),
            physical_offset: self.physical_offset(),
            sys_flag: self.sys_flag(),
            born_timestamp: self.born_timestamp(),
            born_host: self.born_host(),
            store_timestamp: self.store_timestamp(),
            store_host: self.store_host(),
            reconsume_times: self.reconsume_times(),
            prepared_transaction_offset: self.prepared_transaction_offset(),
            body: self.body(),
            topic: self.topic(),
            properties: self.properties(),
        }
    }
}

/// Where RECONSUMETIMES starts, after the store host at `store_host_at`.
fn reconsume_at_of(store_host_at: usize, sys_flag: i32) -> usize {
    store_host_at
        + if sys_flag & sysflag::STOREHOST_V6 != 0 {
            20
        } else {
            8
        }
}

fn read_host(buf: &[u8], at: usize, v6: bool) -> SocketAddr {
    if v6 {
        let mut ip = [0u8; 16];
        ip.copy_from_slice(&buf[at..at + 16]);
        let port = read_i32(buf, at + 16) as u16;
        SocketAddr::new(IpAddr::V6(Ipv6Addr::from(ip)), port)
    } else {
        let ip = Ipv4Addr::new(buf[at], buf[at + 1], buf[at + 2], buf[at + 3]);
        let port = read_i32(buf, at + 4) as u16;
        SocketAddr::new(IpAddr::V4(ip), port)
    }
}

/// Iterates the records of a buffer of concatenated records (a pull body), stopping at the first
/// malformed one with its error.
pub fn decode_all(buf: &[u8]) -> impl Iterator<Item = Result<RecordView<'_>, DecodeRecordError>> {
    let mut at = 0usize;
    let mut failed = false;
    std::iter::from_fn(move || {
        if failed || at >= buf.len() {
            return None;
        }
        match RecordView::decode(&buf[at..]) {
            Ok(view) => {
                at += view.total_size();
                Some(Ok(view))
            }
            Err(e) => {
                failed = true;
                Some(Err(e))
            }
        }
    })
}

#[cfg(test)]
mod tests;
