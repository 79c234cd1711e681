//! TLS of the broker: its ports (main, fast, HA) and the connections it opens (name servers,
//! its master), from the `tls.*` keys and `useTLS` (see [`rmq_remoting::tls::config`]).

use std::sync::Arc;

use rmq_remoting::tls::config::TlsSetupError;
use tracing::info;

use crate::config::BrokerConfig;

/// TLS of the broker's ports and of the connections it opens (`tls.*`, `useTLS`).
#[derive(Debug, Clone, Default)]
pub struct TlsSetup {
    /// The main, fast and HA ports; `None`: plain.
    pub server: Option<Arc<rmq_remoting::tls::server::ServerTls>>,
    /// Name servers and, for a slave, its master; `None`: plain.
    pub client: Option<rmq_remoting::tls::client::ClientTls>,
}

impl TlsSetup {
    /// Reads `tls.config.file` into `config.tls` and loads the certificates.
    pub fn new(config: &mut BrokerConfig) -> Result<TlsSetup, TlsSetupError> {
        config.tls = std::mem::take(&mut config.tls).with_config_file()?;
        let server = config.tls.server()?.map(Arc::new);
        let use_tls = config
            .use_tls
            .unwrap_or_else(|| config.tls.client_default());
        let client = config.tls.client(use_tls)?;
        if let Some(server) = &server {
            info!(mode = %server.mode(), cert = %server.files().cert.display(), "TLS on the broker's ports");
        }
        if client.is_some() {
            info!("the broker's own connections use TLS");
        }
        Ok(TlsSetup { server, client })
    }
}
