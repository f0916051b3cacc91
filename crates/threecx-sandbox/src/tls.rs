//! HTTPS for the sandbox: a rustls server configuration (ring provider, TLS 1.2 and 1.3) from a
//! PEM certificate chain and key.

use std::sync::Arc;

use tokio_rustls::rustls::crypto::ring;
use tokio_rustls::rustls::pki_types::pem::PemObject as _;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio_rustls::rustls::ServerConfig;
use tokio_rustls::TlsAcceptor;

use crate::{SandboxError, TlsConfig};

/// The acceptor for `config`, or what is wrong with its certificate or key.
pub(crate) fn acceptor(config: &TlsConfig) -> Result<TlsAcceptor, SandboxError> {
    let certs = CertificateDer::pem_slice_iter(config.cert_pem.as_bytes())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| SandboxError::Tls(format!("the certificate PEM is not valid: {e}")))?;
    if certs.is_empty() {
        return Err(SandboxError::Tls(
            "no certificate (-----BEGIN CERTIFICATE-----) in cert_pem".to_owned(),
        ));
    }
    let key = PrivateKeyDer::from_pem_slice(config.key_pem.as_bytes())
        .map_err(|e| SandboxError::Tls(format!("no usable private key in key_pem: {e}")))?;
    let server = ServerConfig::builder_with_provider(Arc::new(ring::default_provider()))
        .with_safe_default_protocol_versions()
        .map_err(|e| SandboxError::Tls(e.to_string()))?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(|e| {
            SandboxError::Tls(format!("the certificate and key do not fit together: {e}"))
        })?;
    Ok(TlsAcceptor::from(Arc::new(server)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_pem_is_reported_not_served() {
        let bad = |cert: &str, key: &str| {
            acceptor(&TlsConfig {
                cert_pem: cert.to_owned(),
                key_pem: key.to_owned(),
            })
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default()
        };
        assert!(bad("", "").contains("no certificate"), "{}", bad("", ""));
        let cert = "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n";
        let e = bad(cert, "not a key");
        assert!(e.contains("no usable private key"), "{e}");
        assert!(e.contains("cannot serve HTTPS"), "{e}");
    }
}
