//! The rustls configuration of a TLS endpoint (feature `tls`).
//!
//! reqwest is compiled without a crypto provider of its own (`rustls-no-provider`), so
//! every client receives a prebuilt `rustls::ClientConfig`, even for plain HTTP and unix
//! sockets, where it stays unused. The provider is the
//! one the application installed as the process default, if any (so an application that
//! chose ring, or a FIPS build, keeps its one provider), else aws-lc-rs, rustls's default,
//! which offers the post-quantum X25519MLKEM768 key exchange like the Go daemon.

use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{verify_tls12_signature, verify_tls13_signature, CryptoProvider};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme};

use super::endpoint::TlsSettings;
use super::Error;

fn provider() -> Arc<CryptoProvider> {
    CryptoProvider::get_default().cloned().unwrap_or_else(|| Arc::new(rustls::crypto::aws_lc_rs::default_provider()))
}

/// The config for `settings`, or an inert one (no roots) for an endpoint without TLS:
/// reqwest with `rustls-no-provider` refuses to build a client without a config or a
/// process default provider, even for unix sockets.
pub(crate) fn client_config(settings: Option<&TlsSettings>) -> Result<ClientConfig, Error> {
    let provider = provider();
    let builder = ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| Error::Tls(format!("protocol versions: {e}")))?;
    let Some(settings) = settings else {
        return Ok(builder.with_root_certificates(RootCertStore::empty()).with_no_client_auth());
    };
    let where_ = settings.dir().map(|d| format!(" in {}", d.display())).unwrap_or_default();

    let builder = if !settings.verify() {
        builder.dangerous().with_custom_certificate_verifier(Arc::new(NoVerification(provider)))
    } else if let Some(ca) = settings.ca_pem() {
        let mut roots = RootCertStore::empty();
        for cert in CertificateDer::pem_slice_iter(ca) {
            let cert = cert.map_err(|e| Error::Tls(format!("ca.pem{where_}: {e}")))?;
            roots.add(cert).map_err(|e| Error::Tls(format!("ca.pem{where_}: {e}")))?;
        }
        if roots.is_empty() {
            return Err(Error::Tls(format!("ca.pem{where_} holds no certificate")));
        }
        builder.with_root_certificates(roots)
    } else {
        let verifier = rustls_platform_verifier::Verifier::new(provider).map_err(|e| Error::Tls(format!("system roots: {e}")))?;
        builder.dangerous().with_custom_certificate_verifier(Arc::new(verifier))
    };

    match settings.client_cert() {
        None => Ok(builder.with_no_client_auth()),
        Some((cert_pem, key_pem)) => {
            let chain = CertificateDer::pem_slice_iter(cert_pem)
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| Error::Tls(format!("cert.pem{where_}: {e}")))?;
            if chain.is_empty() {
                return Err(Error::Tls(format!("cert.pem{where_} holds no certificate")));
            }
            // The key's text is never part of a message.
            let key = PrivateKeyDer::from_pem_slice(key_pem).map_err(|e| Error::Tls(format!("key.pem{where_}: {e}")))?;
            builder.with_client_auth_cert(chain, key).map_err(|e| Error::Tls(format!("cert.pem/key.pem{where_}: {e}")))
        }
    }
}

/// Accepts any certificate and name (`DOCKER_TLS_VERIFY` unset, `SkipTLSVerify`), but
/// still checks the handshake signatures, so the peer holds the certificate's key.
#[derive(Debug)]
struct NoVerification(Arc<CryptoProvider>);

impl ServerCertVerifier for NoVerification {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(message, cert, dss, &self.0.signature_verification_algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(message, cert, dss, &self.0.signature_verification_algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}
