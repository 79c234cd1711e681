//! The `tls.*` keys, with Apache's names (`TlsSystemConfig`), read from `broker.conf` and
//! `namesrv.properties` (Apache reads them as JVM system properties), and from the file
//! `tls.config.file` names, whose values win, as Apache's do.
//!
//! | key | meaning |
//! |---|---|
//! | `tls.server.mode` | `disabled`, `permissive` (default) or `enforcing`, for every port of the process |
//! | `tls.server.certPath`, `tls.server.keyPath` | PEM certificate chain and key; without them the ports are plain |
//! | `tls.server.trustCertPath` | roots client certificates must chain to |
//! | `tls.server.need.client.auth` | `none` (default), `optional`, `require` |
//! | `tls.enable` | the connections this process opens use TLS (Apache's `useTLS` default) |
//! | `tls.client.authServer` | check the server's certificate against `tls.client.trustCertPath` (default false, as Apache) |
//! | `tls.client.certPath`, `tls.client.keyPath` | a client certificate for servers that require one |
//!
//! Differences from Apache, each refusing what would be insecure or silently wrong:
//! - Apache's test mode (`tls.test.mode.enable`, on by default) serves a self-signed
//!   certificate when none is given; here a port without certificate and key is plain, and
//!   `enforcing` without them is a startup error.
//! - Encrypted keys (`tls.server.keyPassword`, `tls.client.keyPassword`) are refused with a
//!   clear error: keep the key unencrypted in a Secret.
//! - A client certificate, when asked for, is always checked against
//!   `tls.server.trustCertPath` (Apache's `tls.server.authClient=false` takes any).

use std::path::PathBuf;

use rmq_protocol::conf::{self, Key, Value, ValueError};
use rmq_protocol::conf_key;

use super::client::{ClientTls, ClientTlsError, ClientTlsFiles};
use super::server::{ServerTls, ServerTlsFiles, TlsLoadError};
use super::{ClientAuth, TlsMode};

/// The `tls.*` settings of one process.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TlsConfig {
    pub server_mode: TlsMode,
    pub server_cert: Option<PathBuf>,
    pub server_key: Option<PathBuf>,
    pub server_key_password: Option<String>,
    pub server_trust: Option<PathBuf>,
    pub need_client_auth: ClientAuth,
    /// `tls.server.authClient`: read for compatibility; client certificates are always checked.
    pub server_auth_client: bool,
    pub enable: bool,
    pub client_auth_server: bool,
    pub client_cert: Option<PathBuf>,
    pub client_key: Option<PathBuf>,
    pub client_key_password: Option<String>,
    pub client_trust: Option<PathBuf>,
    /// `tls.test.mode.enable`: read for compatibility; no certificate is made up.
    pub test_mode: bool,
    /// `tls.config.file`: more `tls.*` keys, read over these.
    pub config_file: Option<PathBuf>,
}

fn optional_path(text: &str) -> Result<Option<PathBuf>, &'static str> {
    Ok((!text.is_empty()).then(|| PathBuf::from(text)))
}

fn show_path(path: &Option<PathBuf>) -> String {
    path.as_ref()
        .map(|p| p.display().to_string())
        .unwrap_or_default()
}

fn optional_text(text: &str) -> Result<Option<String>, &'static str> {
    Ok((!text.is_empty()).then(|| text.to_owned()))
}

/// Passwords are never shown back.
fn hidden(text: &Option<String>) -> String {
    text.as_ref()
        .map(|_| "<hidden>".to_owned())
        .unwrap_or_default()
}

impl Value for TlsMode {
    const EXPECTED: &'static str = "disabled, permissive or enforcing";
    fn parse_value(text: &str) -> Option<TlsMode> {
        text.parse().ok()
    }
    fn write_value(&self) -> String {
        self.to_string()
    }
}

impl Value for ClientAuth {
    const EXPECTED: &'static str = "none, optional or require";
    fn parse_value(text: &str) -> Option<ClientAuth> {
        text.parse().ok()
    }
    fn write_value(&self) -> String {
        match self {
            ClientAuth::None => "none",
            ClientAuth::Optional => "optional",
            ClientAuth::Require => "require",
        }
        .to_owned()
    }
}

/// Every `tls.*` key.
pub const KEYS: &[Key<TlsConfig>] = &[
    conf_key!("tls.server.mode": server_mode = value),
    conf_key!("tls.server.certPath": server_cert = with(optional_path, show_path)),
    conf_key!("tls.server.keyPath": server_key = with(optional_path, show_path)),
    conf_key!("tls.server.keyPassword": server_key_password = with(optional_text, hidden)),
    conf_key!("tls.server.trustCertPath": server_trust = with(optional_path, show_path)),
    conf_key!("tls.server.need.client.auth": need_client_auth = value),
    conf_key!("tls.server.authClient": server_auth_client = value),
    conf_key!("tls.enable": enable = value),
    conf_key!("tls.client.authServer": client_auth_server = value),
    conf_key!("tls.client.certPath": client_cert = with(optional_path, show_path)),
    conf_key!("tls.client.keyPath": client_key = with(optional_path, show_path)),
    conf_key!("tls.client.keyPassword": client_key_password = with(optional_text, hidden)),
    conf_key!("tls.client.trustCertPath": client_trust = with(optional_path, show_path)),
    conf_key!("tls.test.mode.enable": test_mode = value),
    conf_key!("tls.config.file": config_file = with(optional_path, show_path)),
];

/// Why the TLS settings cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum TlsSetupError {
    #[error("reading tls.config.file {path}: {source}")]
    ReadFile {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("tls.config.file {path}: {source}")]
    FileValue { path: PathBuf, source: ValueError },
    #[error("tls.server.mode=enforcing needs tls.server.certPath and tls.server.keyPath")]
    EnforcingWithoutCertificate,
    #[error("only one of tls.{0}.certPath and tls.{0}.keyPath is set")]
    HalfPair(&'static str),
    #[error(
        "tls.{0}.keyPassword: encrypted keys are not supported; give an unencrypted PKCS#8 key (kept in a Secret)"
    )]
    EncryptedKey(&'static str),
    #[error("TLS server: {0}")]
    Server(#[from] TlsLoadError),
    #[error("TLS client: {0}")]
    Client(#[from] ClientTlsError),
}

impl TlsConfig {
    /// Applies the keys of `tls.config.file`, if set, over these.
    pub fn with_config_file(mut self) -> Result<TlsConfig, TlsSetupError> {
        let Some(path) = self.config_file.clone() else {
            return Ok(self);
        };
        let text = std::fs::read_to_string(&path).map_err(|source| TlsSetupError::ReadFile {
            path: path.clone(),
            source,
        })?;
        conf::read(KEYS, &mut self, &text)
            .map_err(|source| TlsSetupError::FileValue { path, source })?;
        Ok(self)
    }

    /// Whether the ports will speak TLS: a mode other than disabled and a certificate.
    pub fn serves_tls(&self) -> bool {
        self.server_mode != TlsMode::Disabled && self.server_cert.is_some()
    }

    /// The server side of the ports, or `None` when they stay plain.
    pub fn server(&self) -> Result<Option<ServerTls>, TlsSetupError> {
        if self.server_key_password.is_some() {
            return Err(TlsSetupError::EncryptedKey("server"));
        }
        let (cert, key) = match (&self.server_cert, &self.server_key) {
            (Some(cert), Some(key)) => (cert, key),
            (None, None) if self.server_mode == TlsMode::Enforcing => {
                return Err(TlsSetupError::EnforcingWithoutCertificate);
            }
            (None, None) => return Ok(None),
            _ => return Err(TlsSetupError::HalfPair("server")),
        };
        if self.server_mode == TlsMode::Disabled {
            return Ok(None);
        }
        let files = ServerTlsFiles {
            cert: cert.clone(),
            key: key.clone(),
            trust: self.server_trust.clone(),
            client_auth: self.need_client_auth,
        };
        Ok(Some(ServerTls::load(self.server_mode, files)?))
    }

    /// The client side for the connections this process opens, when `use_tls`.
    pub fn client(&self, use_tls: bool) -> Result<Option<ClientTls>, TlsSetupError> {
        if !use_tls {
            return Ok(None);
        }
        if self.client_key_password.is_some() {
            return Err(TlsSetupError::EncryptedKey("client"));
        }
        let files = ClientTlsFiles {
            verify_server: self.client_auth_server,
            trust: self.client_trust.clone(),
            cert: self.client_cert.clone(),
            key: self.client_key.clone(),
        };
        Ok(Some(ClientTls::load(&files)?))
    }

    /// Whether the connections this process opens use TLS by default: `tls.enable`, or a
    /// process whose own ports enforce TLS (Apache's broker default for `useTLS`).
    pub fn client_default(&self) -> bool {
        self.enable || (self.server_mode == TlsMode::Enforcing && self.serves_tls())
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    fn read(text: &str) -> TlsConfig {
        let mut config = TlsConfig::default();
        let unknown = conf::read(KEYS, &mut config, text).unwrap();
        assert!(unknown.is_empty(), "{unknown:?}");
        config
    }

    #[test]
    fn apaches_keys_read_into_the_settings_and_a_password_is_never_shown() {
        let config = read(
            "tls.server.mode=enforcing\ntls.server.certPath=/tls/tls.crt\ntls.server.keyPath=/tls/tls.key\n\
             tls.server.trustCertPath=/tls/ca.crt\ntls.server.need.client.auth=require\n\
             tls.enable=true\ntls.client.authServer=true\ntls.client.trustCertPath=/tls/ca.crt\n\
             tls.client.keyPassword=secret\n",
        );
        assert_eq!(config.server_mode, TlsMode::Enforcing);
        assert_eq!(
            config.server_cert.as_deref(),
            Some(Path::new("/tls/tls.crt"))
        );
        assert_eq!(config.need_client_auth, ClientAuth::Require);
        assert!(config.enable && config.client_auth_server && config.client_default());
        let shown = conf::show(KEYS, &config);
        assert!(
            shown.iter().all(|(_, v)| !v.contains("secret")),
            "{shown:?}"
        );
        let mut bad = TlsConfig::default();
        let error = conf::apply(KEYS, &mut bad, "tls.server.mode", "strict").unwrap_err();
        assert!(
            error
                .to_string()
                .contains("disabled, permissive or enforcing")
        );
    }

    #[test]
    fn no_certificate_means_plain_ports_unless_enforcing_which_is_refused() {
        assert!(
            read("tls.server.mode=permissive\n")
                .server()
                .unwrap()
                .is_none()
        );
        assert!(matches!(
            read("tls.server.mode=enforcing\n").server(),
            Err(TlsSetupError::EnforcingWithoutCertificate)
        ));
        assert!(matches!(
            read("tls.server.certPath=/a.pem\n").server(),
            Err(TlsSetupError::HalfPair("server"))
        ));
        assert!(matches!(
            read("tls.server.certPath=/a\ntls.server.keyPath=/b\ntls.server.keyPassword=x\n")
                .server(),
            Err(TlsSetupError::EncryptedKey("server"))
        ));
        // Disabled wins over a certificate.
        let disabled =
            read("tls.server.mode=disabled\ntls.server.certPath=/a\ntls.server.keyPath=/b\n");
        assert!(disabled.server().unwrap().is_none());
        assert!(!disabled.client_default());
    }

    #[test]
    fn the_config_files_keys_win_over_the_ones_beside_it() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("tls.properties");
        std::fs::write(&file, "tls.server.mode=disabled\ntls.enable=true\n").unwrap();
        let config = read(&format!(
            "tls.server.mode=enforcing\ntls.config.file={}\n",
            file.display()
        ))
        .with_config_file()
        .unwrap();
        assert_eq!(config.server_mode, TlsMode::Disabled);
        assert!(config.enable);
        let missing = read("tls.config.file=/nonexistent/tls.properties\n").with_config_file();
        assert!(matches!(missing, Err(TlsSetupError::ReadFile { .. })));
    }
}
