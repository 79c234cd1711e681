//! The SEND_BATCH_MESSAGE body: messages laid end to end.
//!
//! ```text
//! per message:
//! +-----------+-----------+-------------+---------+-------------+------+--------------+-------+
//! | totalSize | magic     | bodyCRC     | flag    | bodyLen     | body | propsLen     | props |
//! | i32       | i32 (= 0) | i32 (= 0)   | i32     | i32         |      | i16          |       |
//! +-----------+-----------+-------------+---------+-------------+------+--------------+-------+
//! totalSize = 4 + 4 + 4 + 4 + 4 + bodyLen + 2 + propsLen
//! ```
//!
//! Clients leave magic and bodyCRC at zero; the broker computes the CRC when it stores the
//! message. The properties stay raw bytes here: the `message` module parses them.

use bytes::{Buf, BufMut, Bytes, BytesMut};

/// Bytes of one message besides its body and properties.
pub const MESSAGE_OVERHEAD: usize = 4 + 4 + 4 + 4 + 4 + 2;

/// One message of a batch.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct BatchMessage {
    /// The user flag.
    pub flag: i32,
    /// The body, a zero-copy slice of the batch.
    pub body: Bytes,
    /// The raw properties string, a zero-copy slice of the batch.
    pub properties: Bytes,
}

impl BatchMessage {
    /// Bytes this message takes in a batch.
    pub fn encoded_len(&self) -> usize {
        MESSAGE_OVERHEAD + self.body.len() + self.properties.len()
    }
}

/// Splits a batch body into its messages.
pub fn decode(batch: &Bytes) -> Result<Vec<BatchMessage>, DecodeBatchError> {
    let mut messages = Vec::new();
    let mut rest = batch.clone();
    let mut offset = 0;
    while rest.has_remaining() {
        let index = messages.len();
        let at = |field: &'static str, needed: usize, rest: &Bytes| DecodeBatchError::Truncated {
            index,
            offset,
            field,
            needed,
            remaining: rest.remaining(),
        };
        if rest.remaining() < 20 {
            return Err(at("fixed fields", 20, &rest));
        }
        let total_size = rest.get_i32();
        let _magic = rest.get_i32();
        let _body_crc = rest.get_i32();
        let flag = rest.get_i32();
        let body_len = rest.get_i32();
        if body_len < 0 {
            return Err(DecodeBatchError::NegativeLength {
                index,
                offset,
                field: "bodyLen",
                len: body_len,
            });
        }
        let body_len = body_len as usize;
        if rest.remaining() < body_len {
            return Err(at("body", body_len, &rest));
        }
        let body = rest.split_to(body_len);
        if rest.remaining() < 2 {
            return Err(at("propsLen", 2, &rest));
        }
        let props_len = rest.get_i16();
        if props_len < 0 {
            return Err(DecodeBatchError::NegativeLength {
                index,
                offset,
                field: "propsLen",
                len: i32::from(props_len),
            });
        }
        let props_len = props_len as usize;
        if rest.remaining() < props_len {
            return Err(at("properties", props_len, &rest));
        }
        let properties = rest.split_to(props_len);
        let message = BatchMessage {
            flag,
            body,
            properties,
        };
        let actual = message.encoded_len();
        if usize::try_from(total_size).ok() != Some(actual) {
            return Err(DecodeBatchError::SizeMismatch {
                index,
                offset,
                total_size,
                actual,
            });
        }
        offset += actual;
        messages.push(message);
    }
    Ok(messages)
}

/// Appends the batch body of `messages` to `dst`; on error `dst` is left as it was.
pub fn encode(messages: &[BatchMessage], dst: &mut BytesMut) -> Result<(), EncodeBatchError> {
    let start = dst.len();
    for (index, message) in messages.iter().enumerate() {
        if let Err(error) = encode_one(index, message.flag, &message.body, &message.properties, dst)
        {
            dst.truncate(start);
            return Err(error);
        }
    }
    Ok(())
}

/// Appends the message at `index` of a batch to `dst`, from borrowed parts, so a producer can
/// build a batch without a [`BatchMessage`] per message. Nothing is written on error.
pub fn encode_one(
    index: usize,
    flag: i32,
    body: &[u8],
    properties: &[u8],
    dst: &mut BytesMut,
) -> Result<(), EncodeBatchError> {
    let Ok(props_len) = i16::try_from(properties.len()) else {
        return Err(EncodeBatchError::PropertiesTooLong {
            index,
            len: properties.len(),
        });
    };
    let len = MESSAGE_OVERHEAD + body.len() + properties.len();
    let (Ok(total_size), Ok(body_len)) = (i32::try_from(len), i32::try_from(body.len())) else {
        return Err(EncodeBatchError::BodyTooLong {
            index,
            len: body.len(),
        });
    };
    dst.reserve(len);
    dst.put_i32(total_size);
    dst.put_i32(0);
    dst.put_i32(0);
    dst.put_i32(flag);
    dst.put_i32(body_len);
    dst.put_slice(body);
    dst.put_i16(props_len);
    dst.put_slice(properties);
    Ok(())
}

/// Splitting a batch body failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeBatchError {
    #[error(
        "batch message {index} at byte {offset} is truncated in {field}: {needed} bytes needed, {remaining} left"
    )]
    Truncated {
        index: usize,
        offset: usize,
        field: &'static str,
        needed: usize,
        remaining: usize,
    },
    #[error("batch message {index} at byte {offset} has a negative {field} ({len})")]
    NegativeLength {
        index: usize,
        offset: usize,
        field: &'static str,
        len: i32,
    },
    #[error(
        "batch message {index} at byte {offset} says totalSize {total_size} but takes {actual} bytes"
    )]
    SizeMismatch {
        index: usize,
        offset: usize,
        total_size: i32,
        actual: usize,
    },
}

/// Encoding a batch body failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EncodeBatchError {
    #[error("batch message {index} has {len} bytes of properties, more than the i16 length allows")]
    PropertiesTooLong { index: usize, len: usize },
    #[error("batch message {index} has a {len}-byte body, more than the i32 length allows")]
    BodyTooLong { index: usize, len: usize },
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn message(flag: i32, body: &'static [u8], properties: &'static [u8]) -> BatchMessage {
        BatchMessage {
            flag,
            body: Bytes::from_static(body),
            properties: Bytes::from_static(properties),
        }
    }

    fn encoded(messages: &[BatchMessage]) -> Bytes {
        let mut dst = BytesMut::new();
        encode(messages, &mut dst).unwrap();
        dst.freeze()
    }

    #[test]
    fn one_message_has_the_hand_computed_bytes() {
        #[rustfmt::skip]
        let expected: &[u8] = &[
            0, 0, 0, 29,          // totalSize = 22 + 3 + 4
            0, 0, 0, 0,           // magic
            0, 0, 0, 0,           // bodyCRC
            0, 0, 0, 7,           // flag
            0, 0, 0, 3, b'a', b'b', b'c',
            0, 4, b'K', 1, b'v', 2,
        ];
        let batch = [message(7, b"abc", b"K\x01v\x02")];
        assert_eq!(&encoded(&batch)[..], expected);
        assert_eq!(decode(&Bytes::from_static(expected)).unwrap(), batch);
    }

    #[test]
    fn several_messages_round_trip_including_empty_ones() {
        let batch = [
            message(0, b"first", b"TAGS\x01A\x02"),
            message(-1, b"", b""),
            message(3, b"third body", b"KEYS\x01k1 k2\x02"),
        ];
        assert_eq!(decode(&encoded(&batch)).unwrap(), batch);
        assert_eq!(decode(&Bytes::new()).unwrap(), Vec::<BatchMessage>::new());
    }

    #[test]
    fn truncation_at_every_byte_is_an_error_not_a_panic() {
        let bytes = encoded(&[message(1, b"hello", b"a\x01b\x02"), message(2, b"x", b"")]);
        let first_len = MESSAGE_OVERHEAD + 5 + 4;
        for cut in 1..bytes.len() {
            let result = decode(&bytes.slice(..cut));
            if cut == first_len {
                assert_eq!(result.unwrap().len(), 1);
            } else {
                assert!(
                    matches!(result, Err(DecodeBatchError::Truncated { .. })),
                    "cut at {cut}"
                );
            }
        }
    }

    #[test]
    fn a_wrong_total_size_is_rejected_with_its_position() {
        let mut bytes =
            BytesMut::from(&encoded(&[message(0, b"ok", b""), message(0, b"abc", b"")])[..]);
        let second = MESSAGE_OVERHEAD + 2;
        bytes[second + 3] += 1;
        assert_eq!(
            decode(&bytes.freeze()),
            Err(DecodeBatchError::SizeMismatch {
                index: 1,
                offset: second,
                total_size: 26,
                actual: 25
            })
        );
    }

    #[test]
    fn negative_lengths_are_rejected() {
        let mut bytes = BytesMut::from(&encoded(&[message(0, b"ok", b"")])[..]);
        bytes[16] = 0xFF;
        assert!(matches!(
            decode(&bytes.clone().freeze()),
            Err(DecodeBatchError::NegativeLength {
                field: "bodyLen",
                ..
            })
        ));
        let mut bytes = BytesMut::from(&encoded(&[message(0, b"ok", b"")])[..]);
        bytes[22] = 0xFF;
        assert!(matches!(
            decode(&bytes.freeze()),
            Err(DecodeBatchError::NegativeLength {
                field: "propsLen",
                ..
            })
        ));
    }

    #[test]
    fn properties_longer_than_i16_cannot_be_encoded() {
        let batch = [BatchMessage {
            flag: 0,
            body: Bytes::new(),
            properties: Bytes::from(vec![b'x'; 40_000]),
        }];
        let mut dst = BytesMut::from(&b"kept"[..]);
        assert_eq!(
            encode(&batch, &mut dst),
            Err(EncodeBatchError::PropertiesTooLong {
                index: 0,
                len: 40_000
            })
        );
        assert_eq!(&dst[..], b"kept");
    }

    proptest! {
        #[test]
        fn any_batch_round_trips(batch in proptest::collection::vec(
            (any::<i32>(), proptest::collection::vec(any::<u8>(), 0..100), proptest::collection::vec(any::<u8>(), 0..50)),
            0..8,
        )) {
            let batch: Vec<BatchMessage> = batch
                .into_iter()
                .map(|(flag, body, properties)| BatchMessage { flag, body: body.into(), properties: properties.into() })
                .collect();
            prop_assert_eq!(decode(&encoded(&batch)).unwrap(), batch);
        }

        #[test]
        fn arbitrary_bytes_never_panic_the_batch_decoder(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
            let _ = decode(&Bytes::from(bytes));
        }
    }
}
