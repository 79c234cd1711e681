//! The remoting frame: `[length i32][hdrInfo i32][header][body]`, big-endian.
//!
//! Reading is two steps, as in mini-redis: [`check`] looks at the first eight bytes only and says
//! whether a whole frame is buffered (or why the stream is broken) without allocating; [`parse`]
//! then decodes one complete frame. [`decode`] does both on a read buffer. The body is a
//! zero-copy slice of the frame.

use bytes::{Buf, BufMut, Bytes, BytesMut};

use crate::header::{self, DecodeHeaderError, EncodeHeaderError};
use crate::remoting_command::{RemotingCommand, SerializeType};

/// Largest frame, length field included, that Apache accepts by default
/// (`com.rocketmq.remoting.frameMaxLength`).
pub const MAX_FRAME_LEN: usize = 16 * 1024 * 1024;

/// Largest header length: the low 24 bits of `hdrInfo`.
pub const MAX_HEADER_LEN: usize = 0x00FF_FFFF;

/// The `length` and `hdrInfo` fields.
const PREFIX_LEN: usize = 8;

/// What [`check`] found at the start of a read buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FrameCheck {
    /// Read more. `frame_len` is the whole frame's length once the length field is buffered,
    /// so the reader can reserve room for it.
    Incomplete { frame_len: Option<usize> },
    /// The first `frame_len` bytes (length field included) are one whole frame.
    Complete { frame_len: usize },
}

/// Says whether `buf` starts with a whole frame, before any allocation.
///
/// Errors mean the stream cannot be resynchronized: the connection should be closed.
pub fn check(buf: &[u8], max_frame_len: usize) -> Result<FrameCheck, CheckFrameError> {
    let Some(length) = buf.get(..4) else {
        return Ok(FrameCheck::Incomplete { frame_len: None });
    };
    let length = i32::from_be_bytes([length[0], length[1], length[2], length[3]]);
    if length < 0 {
        return Err(CheckFrameError::NegativeLength { length });
    }
    if length < 4 {
        return Err(CheckFrameError::TooShort { length });
    }
    let frame_len = 4 + length as usize;
    if frame_len > max_frame_len {
        return Err(CheckFrameError::TooLong {
            frame_len,
            max: max_frame_len,
        });
    }
    if let Some(info) = buf.get(4..PREFIX_LEN) {
        let serialize_type = info[0];
        let header_len =
            usize::from(info[1]) << 16 | usize::from(info[2]) << 8 | usize::from(info[3]);
        if SerializeType::from_code(serialize_type).is_none() {
            return Err(CheckFrameError::UnknownSerializeType {
                code: serialize_type,
            });
        }
        if header_len > frame_len - PREFIX_LEN {
            return Err(CheckFrameError::HeaderLongerThanFrame { header_len, length });
        }
    }
    if buf.len() < frame_len {
        return Ok(FrameCheck::Incomplete {
            frame_len: Some(frame_len),
        });
    }
    Ok(FrameCheck::Complete { frame_len })
}

/// Decodes exactly one whole frame (length field included).
pub fn parse(mut frame: Bytes) -> Result<RemotingCommand, DecodeFrameError> {
    match check(&frame, usize::MAX)? {
        FrameCheck::Incomplete { .. } => {
            return Err(DecodeFrameError::Incomplete { len: frame.len() });
        }
        FrameCheck::Complete { frame_len } if frame_len != frame.len() => {
            return Err(DecodeFrameError::TrailingBytes {
                frame_len,
                len: frame.len(),
            });
        }
        FrameCheck::Complete { .. } => {}
    }
    frame.advance(4);
    let info = frame.get_u32();
    let header_len = (info & 0x00FF_FFFF) as usize;
    // `check` accepted the type byte.
    let serialize_type = SerializeType::from_code((info >> 24) as u8).unwrap_or_default();
    let header_bytes = frame.split_to(header_len);
    let mut command = header::decode(serialize_type, &header_bytes).map_err(|source| {
        DecodeFrameError::Header {
            serialize_type,
            source,
        }
    })?;
    command.serialize_type = serialize_type;
    command.body = frame;
    Ok(command)
}

/// Takes one command off the front of a read buffer, if a whole frame is there.
///
/// `Ok(None)` means "read more"; the buffer is left untouched.
pub fn decode(
    buf: &mut BytesMut,
    max_frame_len: usize,
) -> Result<Option<RemotingCommand>, DecodeFrameError> {
    match check(buf, max_frame_len)? {
        FrameCheck::Incomplete { .. } => Ok(None),
        FrameCheck::Complete { frame_len } => parse(buf.split_to(frame_len).freeze()).map(Some),
    }
}

/// Appends the whole frame of `command`, body included, to `dst`.
pub fn encode(command: &RemotingCommand, dst: &mut BytesMut) -> Result<(), EncodeFrameError> {
    encode_head(command, dst)?;
    dst.put_slice(&command.body);
    Ok(())
}

/// Appends everything but the body: a writer can then send `command.body` without copying it.
pub fn encode_head(command: &RemotingCommand, dst: &mut BytesMut) -> Result<(), EncodeFrameError> {
    let start = dst.len();
    dst.put_bytes(0, PREFIX_LEN);
    header::encode(command, dst).map_err(|source| {
        dst.truncate(start);
        EncodeFrameError::Header { source }
    })?;
    let header_len = dst.len() - start - PREFIX_LEN;
    let length = PREFIX_LEN - 4 + header_len + command.body.len();
    if header_len > MAX_HEADER_LEN || i32::try_from(length).is_err() {
        dst.truncate(start);
        return Err(EncodeFrameError::TooLong {
            header_len,
            body_len: command.body.len(),
        });
    }
    let info = u32::from(command.serialize_type.code()) << 24 | header_len as u32;
    dst[start..start + 4].copy_from_slice(&(length as u32).to_be_bytes());
    dst[start + 4..start + PREFIX_LEN].copy_from_slice(&info.to_be_bytes());
    Ok(())
}

/// [`check`] found bytes that cannot start a frame.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CheckFrameError {
    #[error("frame length {length} is negative")]
    NegativeLength { length: i32 },
    #[error("frame length {length} is too short to hold the 4-byte header info")]
    TooShort { length: i32 },
    #[error("frame of {frame_len} bytes is longer than the {max}-byte maximum")]
    TooLong { frame_len: usize, max: usize },
    #[error("header length {header_len} is longer than the frame (length {length})")]
    HeaderLongerThanFrame { header_len: usize, length: i32 },
    #[error("unknown header serialize type {code}")]
    UnknownSerializeType { code: u8 },
}

/// Decoding a frame into a command failed.
#[derive(Debug, thiserror::Error)]
pub enum DecodeFrameError {
    #[error(transparent)]
    Check(#[from] CheckFrameError),
    #[error("{len} bytes are not a whole frame")]
    Incomplete { len: usize },
    #[error("{len} bytes hold a frame of {frame_len} and more")]
    TrailingBytes { frame_len: usize, len: usize },
    #[error("{serialize_type} header of the frame is not valid")]
    Header {
        serialize_type: SerializeType,
        #[source]
        source: DecodeHeaderError,
    },
}

/// Encoding a command into a frame failed.
#[derive(Debug, thiserror::Error)]
pub enum EncodeFrameError {
    #[error("header could not be encoded")]
    Header {
        #[source]
        source: EncodeHeaderError,
    },
    #[error(
        "frame with a {header_len}-byte header and a {body_len}-byte body does not fit the length fields"
    )]
    TooLong { header_len: usize, body_len: usize },
}

#[cfg(test)]
mod tests;
