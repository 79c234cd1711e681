//! Buffered framed I/O over one socket: [`FrameReader`] for the read half, [`write_loop`] for the
//! write half. Both are shared by the server and the client.

use std::io;

use bytes::BytesMut;
use rmq_protocol::RemotingCommand;
use rmq_protocol::code::ResponseCode;
use rmq_protocol::frame::{self, CheckFrameError, DecodeFrameError, FrameCheck};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, BufWriter};
use tokio::sync::mpsc;
use tracing::error;

/// Smallest read reservation; a frame bigger than this gets exactly the room it needs.
const READ_CHUNK: usize = 16 * 1024;

/// Write-buffer size: small frames are coalesced into one `write` until the queue is empty.
const WRITE_BUFFER: usize = 64 * 1024;

/// Reads whole frames off a byte stream.
#[derive(Debug)]
pub struct FrameReader<R> {
    inner: R,
    buf: BytesMut,
    max_frame_len: usize,
}

impl<R: AsyncRead + Unpin> FrameReader<R> {
    /// A reader that refuses frames longer than `max_frame_len` bytes (length field included).
    pub fn new(inner: R, max_frame_len: usize) -> FrameReader<R> {
        FrameReader {
            inner,
            buf: BytesMut::with_capacity(READ_CHUNK),
            max_frame_len,
        }
    }

    /// The next command, or `None` when the peer closed the stream between frames.
    ///
    /// Cancel-safe: partial frames stay buffered in `self`, so this can be raced in `select!`.
    /// After an error the stream is out of sync and must be dropped.
    pub async fn read_command(&mut self) -> Result<Option<RemotingCommand>, ReadCommandError> {
        loop {
            match frame::check(&self.buf, self.max_frame_len)? {
                FrameCheck::Complete { frame_len } => {
                    let bytes = self.buf.split_to(frame_len).freeze();
                    return Ok(Some(frame::parse(bytes)?));
                }
                FrameCheck::Incomplete { frame_len } => {
                    let missing = frame_len.map_or(0, |len| len - self.buf.len());
                    self.buf.reserve(missing.max(READ_CHUNK));
                }
            }
            let read = match self.inner.read_buf(&mut self.buf).await {
                Ok(read) => read,
                // A TLS peer that closes without close_notify: frames carry their length, so a
                // close between frames truncates nothing, and one mid-frame is caught below.
                Err(error) if error.kind() == std::io::ErrorKind::UnexpectedEof => 0,
                Err(error) => return Err(error.into()),
            };
            if read == 0 {
                if self.buf.is_empty() {
                    return Ok(None);
                }
                return Err(ReadCommandError::ClosedMidFrame {
                    buffered: self.buf.len(),
                });
            }
        }
    }
}

/// Reading a command off a connection failed; the connection must be closed.
#[derive(Debug, thiserror::Error)]
pub enum ReadCommandError {
    #[error("reading the socket failed")]
    Io(#[from] io::Error),
    #[error("bytes received cannot start a frame")]
    Frame(#[from] CheckFrameError),
    #[error("frame could not be decoded")]
    Decode(#[from] DecodeFrameError),
    #[error("peer closed the connection in the middle of a frame ({buffered} bytes buffered)")]
    ClosedMidFrame { buffered: usize },
}

/// What a connection's writer task is asked to do.
#[derive(Debug)]
pub enum Outbound {
    /// Send this command.
    Command(RemotingCommand),
    /// Flush what is queued before this, then shut the write half down.
    Close,
}

/// Writes queued commands until [`Outbound::Close`] or until every sender is gone.
///
/// Commands queued back to back are coalesced into few `write` calls; the buffer is flushed
/// whenever the queue runs empty, so a lone response is never held back. A body larger than the
/// buffer is written straight from its `Bytes`, not copied.
pub async fn write_loop<W: AsyncWrite + Unpin>(
    writer: W,
    mut queue: mpsc::Receiver<Outbound>,
) -> io::Result<()> {
    let mut out = BufWriter::with_capacity(WRITE_BUFFER, writer);
    let mut head = BytesMut::with_capacity(1024);
    while let Some(first) = queue.recv().await {
        let mut next = Some(first);
        while let Some(item) = next.take() {
            match item {
                Outbound::Close => {
                    out.flush().await?;
                    return out.shutdown().await;
                }
                Outbound::Command(command) => write_command(&mut out, &mut head, &command).await?,
            }
            next = queue.try_recv().ok();
            if next.is_none() {
                // Responses of concurrent requests finish within one scheduling round of each
                // other: let them queue up so one write carries them all, instead of one
                // syscall per response.
                tokio::task::yield_now().await;
                next = queue.try_recv().ok();
            }
        }
        out.flush().await?;
    }
    out.flush().await?;
    out.shutdown().await
}

async fn write_command<W: AsyncWrite + Unpin>(
    out: &mut BufWriter<W>,
    head: &mut BytesMut,
    command: &RemotingCommand,
) -> io::Result<()> {
    head.clear();
    match frame::encode_head(command, head) {
        Ok(()) => {
            out.write_all(head).await?;
            out.write_all(&command.body).await
        }
        Err(source) => {
            error!(code = command.code, opaque = command.opaque, error = %source, "command cannot be encoded");
            if !command.is_response() {
                return Ok(());
            }
            // The requester is waiting on this opaque: tell it what happened instead of
            // letting it time out.
            let mut fallback = RemotingCommand::request(ResponseCode::SystemError)
                .with_remark(format!("response could not be encoded: {source}"));
            fallback.opaque = command.opaque;
            fallback.flag = command.flag;
            fallback.serialize_type = command.serialize_type;
            head.clear();
            match frame::encode_head(&fallback, head) {
                Ok(()) => out.write_all(head).await,
                Err(_) => Ok(()),
            }
        }
    }
}
