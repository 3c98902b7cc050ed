//! A loopback proxy between a PostgreSQL client and server that counts what the client
//! sends: round trips (`Sync` and simple `Query` messages: each waits for the server's
//! answer) and statements (`Bind` and simple `Query` messages). Shared by the round-trip test
//! and the SQL bench.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// What the clients of a [`CountingProxy`] have sent so far.
#[derive(Debug, Default)]
pub struct Counts {
    round_trips: AtomicU64,
    statements: AtomicU64,
}

impl Counts {
    /// Messages the client waits on the server for: `Sync` and simple `Query`.
    pub fn round_trips(&self) -> u64 {
        self.round_trips.load(Ordering::SeqCst)
    }

    /// Statements run: `Bind` (extended protocol) and simple `Query`.
    pub fn statements(&self) -> u64 {
        self.statements.load(Ordering::SeqCst)
    }
}

/// A proxy listening on loopback, forwarding every connection to the server of a URL.
pub struct CountingProxy {
    /// The URL to connect to instead: the original with the proxy's address.
    pub url: String,
    pub counts: Arc<Counts>,
}

impl CountingProxy {
    /// Starts a proxy to the server of `url` (`postgres://user:password@host[:port]/db`).
    pub async fn start(url: &str) -> Self {
        let (upstream, proxied) = through_proxy(url);
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let counts = Arc::new(Counts::default());
        let shared = Arc::clone(&counts);
        tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let server = TcpStream::connect(&upstream).await.expect("upstream");
                tokio::spawn(forward(client, server, Arc::clone(&shared)));
            }
        });
        Self {
            url: proxied.replace("{port}", &port.to_string()),
            counts,
        }
    }
}

/// Copies the server's bytes back as they come, and the client's bytes on while counting
/// its messages.
async fn forward(client: TcpStream, server: TcpStream, counts: Arc<Counts>) {
    let (mut client_read, mut client_write) = client.into_split();
    let (mut server_read, mut server_write) = server.into_split();
    tokio::spawn(async move {
        let _ = tokio::io::copy(&mut server_read, &mut client_write).await;
    });
    let mut pending: Vec<u8> = Vec::new();
    let mut typed = false;
    let mut buffer = vec![0u8; 64 * 1024];
    loop {
        let read = match client_read.read(&mut buffer).await {
            Ok(0) | Err(_) => break,
            Ok(read) => read,
        };
        pending.extend_from_slice(&buffer[..read]);
        // Count the complete messages before forwarding them, so a count read after the
        // client's answer arrived includes what it sent. Untyped until the startup message.
        loop {
            let header = if typed { 5 } else { 4 };
            if pending.len() < header {
                break;
            }
            let at = header - 4;
            let len = u32::from_be_bytes(pending[at..at + 4].try_into().expect("4")) as usize;
            let total = at + len;
            if pending.len() < total {
                break;
            }
            if typed {
                if matches!(pending[0], b'S' | b'Q') {
                    counts.round_trips.fetch_add(1, Ordering::SeqCst);
                }
                if matches!(pending[0], b'B' | b'Q') {
                    counts.statements.fetch_add(1, Ordering::SeqCst);
                }
            } else {
                let code = u32::from_be_bytes(pending[4..8].try_into().expect("4"));
                // SSLRequest and GSSENCRequest are followed by another untyped one.
                typed = code != 80_877_103 && code != 80_877_104;
            }
            pending.drain(..total);
        }
        if server_write.write_all(&buffer[..read]).await.is_err() {
            break;
        }
    }
}

/// The `host:port` of a `postgres://user:password@host:port/db` URL, and the URL with
/// `127.0.0.1:{port}` in its place.
fn through_proxy(url: &str) -> (String, String) {
    let authority_start = url.find("://").expect("scheme") + 3;
    let rest = &url[authority_start..];
    let authority_end = rest.find('/').unwrap_or(rest.len());
    let authority = &rest[..authority_end];
    let host_start = authority.rfind('@').map_or(0, |at| at + 1);
    let host = &authority[host_start..];
    let upstream = if host.contains(':') {
        host.to_owned()
    } else {
        format!("{host}:5432")
    };
    let proxied = format!(
        "{}127.0.0.1:{{port}}{}",
        &url[..authority_start + host_start],
        &rest[authority_end..]
    );
    (upstream, proxied)
}
