//! TLS on remoting connections, with Apache RocketMQ's modes and keys (`TlsSystemConfig`):
//!
//! | mode (`tls.server.mode`) | a TLS client | a plain client |
//! |---|---|---|
//! | `disabled` | handshake fails (the port speaks plain remoting) | served |
//! | `permissive` (the default once TLS is configured) | served over TLS | served |
//! | `enforcing` | served over TLS | connection closed, logged |
//!
//! A permissive port tells the two apart by the first byte the client sends: a TLS handshake
//! record starts with 0x16, a remoting frame with the high byte of its length (0 for any frame
//! under 16 MiB). Handshakes run before a connection takes a slot, under their own limit and
//! deadline ([`HANDSHAKE_TIMEOUT`] by default), so one that fails or stalls costs nothing past it.
//!
//! [`server::ServerTls`] holds the certificate, key and trusted roots and reloads them when
//! their files change (cert-manager rotates them in place); [`client::ClientTls`] opens the
//! connections we start (broker → name server, slave → master, tools).

pub mod client;
pub mod config;
pub mod server;

use std::time::Duration;

/// How long a peer has to send its first byte and finish the handshake, by default.
pub const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// The first byte of a TLS record carrying a handshake message.
const TLS_HANDSHAKE_RECORD: u8 = 0x16;

/// `tls.server.mode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TlsMode {
    /// Plain remoting only.
    Disabled,
    /// TLS and plain clients on the same port.
    #[default]
    Permissive,
    /// TLS clients only.
    Enforcing,
}

impl std::str::FromStr for TlsMode {
    type Err = String;

    fn from_str(text: &str) -> Result<TlsMode, String> {
        match text.trim().to_ascii_lowercase().as_str() {
            "disabled" => Ok(TlsMode::Disabled),
            "permissive" => Ok(TlsMode::Permissive),
            "enforcing" => Ok(TlsMode::Enforcing),
            other => Err(format!(
                "'{other}' is not a TLS mode: disabled, permissive or enforcing"
            )),
        }
    }
}

impl std::fmt::Display for TlsMode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            TlsMode::Disabled => "disabled",
            TlsMode::Permissive => "permissive",
            TlsMode::Enforcing => "enforcing",
        })
    }
}

/// `tls.server.need.client.auth`: whether clients must present a certificate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ClientAuth {
    #[default]
    None,
    /// Checked when presented.
    Optional,
    /// Mutual TLS.
    Require,
}

impl std::str::FromStr for ClientAuth {
    type Err = String;

    fn from_str(text: &str) -> Result<ClientAuth, String> {
        match text.trim().to_ascii_lowercase().as_str() {
            "none" => Ok(ClientAuth::None),
            "optional" => Ok(ClientAuth::Optional),
            "require" => Ok(ClientAuth::Require),
            other => Err(format!(
                "'{other}' is not a client auth setting: none, optional or require"
            )),
        }
    }
}

/// What a server does with a connection, from its mode and the first byte the peer sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Admit {
    /// Run the TLS handshake, then serve.
    Tls,
    /// Serve plain remoting.
    Plain,
    /// A plain client on an enforcing port: close.
    RefusePlain,
}

/// The decision (see the module documentation). A disabled port serves every peer plainly: a
/// TLS client's handshake then fails as a bad frame, as Apache's does.
pub fn admit(mode: TlsMode, first_byte: u8) -> Admit {
    match (mode, first_byte == TLS_HANDSHAKE_RECORD) {
        (TlsMode::Disabled, _) => Admit::Plain,
        (_, true) => Admit::Tls,
        (TlsMode::Permissive, false) => Admit::Plain,
        (TlsMode::Enforcing, false) => Admit::RefusePlain,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_permissive_port_serves_tls_and_plain_and_an_enforcing_one_only_tls() {
        // A remoting frame under 16 MiB starts with a 0 byte.
        assert_eq!(admit(TlsMode::Permissive, 0x16), Admit::Tls);
        assert_eq!(admit(TlsMode::Permissive, 0x00), Admit::Plain);
        assert_eq!(admit(TlsMode::Enforcing, 0x16), Admit::Tls);
        assert_eq!(admit(TlsMode::Enforcing, 0x00), Admit::RefusePlain);
        assert_eq!(admit(TlsMode::Disabled, 0x16), Admit::Plain);
        assert_eq!(admit(TlsMode::Disabled, 0x00), Admit::Plain);
    }

    #[test]
    fn modes_and_client_auth_read_as_apache_writes_them() {
        assert_eq!("ENFORCING".parse(), Ok(TlsMode::Enforcing));
        assert_eq!(" permissive".parse(), Ok(TlsMode::Permissive));
        assert!(
            "strict"
                .parse::<TlsMode>()
                .unwrap_err()
                .contains("'strict'")
        );
        assert_eq!("require".parse(), Ok(ClientAuth::Require));
        assert_eq!("optional".parse(), Ok(ClientAuth::Optional));
        assert!("always".parse::<ClientAuth>().is_err());
    }
}
