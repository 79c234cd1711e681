//! A minimal HTTP/1.1 server for `/metrics` and health probes, one request per connection: a
//! `GET` of a path it has a page for gets the page, another path 404, another method 405; a
//! request head over 8 KiB or slower than 5 s is dropped.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tracing::{debug, warn};

const MAX_HEAD: usize = 8 * 1024;
const READ_TIMEOUT: Duration = Duration::from_secs(5);

/// What a request head asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    /// `GET` of this path (query string dropped).
    Get(String),
    /// Another method: only `GET` is served.
    MethodNotAllowed,
    BadRequest,
}

/// Reads the request line of `head`.
pub fn route(head: &[u8]) -> Route {
    let line = head.split(|b| *b == b'\n').next().unwrap_or_default();
    let line = String::from_utf8_lossy(line);
    let mut parts = line.split_whitespace();
    let (Some(method), Some(target), Some(version)) = (parts.next(), parts.next(), parts.next())
    else {
        return Route::BadRequest;
    };
    if !version.starts_with("HTTP/1.") {
        return Route::BadRequest;
    }
    let path = target.split('?').next().unwrap_or_default();
    match method {
        "GET" => Route::Get(path.to_owned()),
        _ => Route::MethodNotAllowed,
    }
}

/// A full response with `status` and `body`.
pub fn response(status: &str, content_type: &str, body: &str) -> Vec<u8> {
    format!(
        "HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

/// Writes the whole `/metrics` text; called on a blocking thread once per scrape.
pub type Scrape = Arc<dyn Fn() -> String + Send + Sync>;

/// An answer to a `GET`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page {
    /// `200 OK`, `503 Service Unavailable`, ...
    pub status: &'static str,
    pub content_type: &'static str,
    pub body: String,
}

/// The page of a path, or `None` (404); called on a blocking thread once per request.
pub type Pages = Arc<dyn Fn(&str) -> Option<Page> + Send + Sync>;

/// Serves `listener` until `stop` completes, answering `GET /metrics` with `scrape()`.
pub async fn serve(listener: TcpListener, scrape: Scrape, stop: impl Future<Output = ()>) {
    let pages: Pages = Arc::new(move |path| {
        (path == "/metrics").then(|| Page {
            status: "200 OK",
            content_type: "text/plain; version=0.0.4; charset=utf-8",
            body: scrape(),
        })
    });
    serve_pages(listener, pages, stop).await;
}

/// Serves `listener` until `stop` completes, answering each `GET` with `pages`.
pub async fn serve_pages(listener: TcpListener, pages: Pages, stop: impl Future<Output = ()>) {
    tokio::pin!(stop);
    loop {
        let accepted = tokio::select! {
            () = &mut stop => return,
            accepted = listener.accept() => accepted,
        };
        match accepted {
            Ok((stream, _)) => {
                tokio::spawn(answer(stream, pages.clone()));
            }
            Err(error) => {
                warn!(%error, "HTTP endpoint: accept failed");
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    }
}

async fn answer(mut stream: TcpStream, pages: Pages) {
    let mut head = Vec::with_capacity(512);
    let mut buf = [0u8; 1024];
    let read = tokio::time::timeout(READ_TIMEOUT, async {
        while !head.windows(4).any(|w| w == b"\r\n\r\n") && head.len() < MAX_HEAD {
            let n = stream.read(&mut buf).await?;
            if n == 0 {
                break;
            }
            head.extend_from_slice(&buf[..n]);
        }
        Ok::<_, std::io::Error>(())
    })
    .await;
    if !matches!(read, Ok(Ok(()))) {
        debug!("HTTP endpoint: request head not read");
        return;
    }
    let reply = match route(&head) {
        Route::Get(path) => {
            let page = tokio::task::spawn_blocking(move || pages(&path))
                .await
                .ok()
                .flatten();
            match page {
                Some(page) => response(page.status, page.content_type, &page.body),
                None => response("404 Not Found", "text/plain", "not found\n"),
            }
        }
        Route::MethodNotAllowed => response("405 Method Not Allowed", "text/plain", "only GET\n"),
        Route::BadRequest => response("400 Bad Request", "text/plain", "bad request\n"),
    };
    let _ = stream.write_all(&reply).await;
    let _ = stream.shutdown().await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_get_is_served_with_the_path_without_its_query() {
        assert_eq!(
            route(b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n"),
            Route::Get("/metrics".into())
        );
        assert_eq!(
            route(b"GET /readyz?verbose HTTP/1.0\r\n\r\n"),
            Route::Get("/readyz".into())
        );
        assert_eq!(
            route(b"POST /metrics HTTP/1.1\r\n\r\n"),
            Route::MethodNotAllowed
        );
        assert_eq!(route(b"\x16\x03\x01garbage"), Route::BadRequest);
        assert_eq!(route(b""), Route::BadRequest);
    }

    #[test]
    fn a_response_carries_its_length_and_closes() {
        let text = String::from_utf8(response("200 OK", "text/plain", "abc")).unwrap();
        assert_eq!(
            text,
            "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 3\r\nConnection: close\r\n\r\nabc"
        );
    }
}
