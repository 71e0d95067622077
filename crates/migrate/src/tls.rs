//! TLS for each `sslmode`, through rustls (with the ring provider).
//!
//! - `prefer` / `require`: encrypted, certificate not checked (libpq semantics),
//!   unless a root certificate is configured, in which case `require` acts as
//!   `verify-ca` (libpq does the same).
//! - `verify-ca`: the chain must lead to a trusted root; the host name is not checked.
//! - `verify-full`: chain and host name are checked.
//!
//! Roots: `sslrootcert` (a PEM file, or `system`), else `~/.postgresql/root.crt`
//! if it exists, else the system's trust store.

use std::path::PathBuf;
use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::WebPkiServerVerifier;
use rustls::crypto::{verify_tls12_signature, verify_tls13_signature, CryptoProvider};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{
    CertificateError, ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme,
};

use crate::connect::{ConnectOptions, SslMode};

/// How the server certificate is checked.
enum Check {
    Nothing,
    Chain,
    ChainAndName,
}

/// The rustls client configuration for these settings, or `None` for `disable`
/// (and for Unix sockets, where TLS does not apply).
///
/// # Errors
/// A readable reason when the root certificates cannot be loaded.
pub(crate) fn client_config(options: &ConnectOptions) -> Result<Option<ClientConfig>, String> {
    if options.sslmode == SslMode::Disable || options.is_socket() {
        return Ok(None);
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let root_file = root_cert_file(options);
    let check = match options.sslmode {
        SslMode::VerifyFull => Check::ChainAndName,
        SslMode::VerifyCa => Check::Chain,
        SslMode::Require if root_file.is_some() => Check::Chain,
        _ => Check::Nothing,
    };
    let verifier: Arc<dyn ServerCertVerifier> = match check {
        Check::Nothing => Arc::new(AcceptAnyCertificate(provider.clone())),
        Check::Chain => Arc::new(ChainOnly(webpki(&root_file, &provider)?)),
        Check::ChainAndName => webpki(&root_file, &provider)?,
    };
    let config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .dangerous()
        .with_custom_certificate_verifier(verifier)
        .with_no_client_auth();
    Ok(Some(config))
}

/// `Some(path)` for a root file, `Some("system")` for the system store, `None` if unset.
fn root_cert_file(options: &ConnectOptions) -> Option<String> {
    if let Some(file) = &options.sslrootcert {
        return Some(file.clone());
    }
    let home = std::env::var_os("HOME").map(PathBuf::from)?;
    let default = home.join(".postgresql").join("root.crt");
    default.is_file().then(|| default.display().to_string())
}

fn webpki(
    root_file: &Option<String>,
    provider: &Arc<CryptoProvider>,
) -> Result<Arc<WebPkiServerVerifier>, String> {
    let roots = match root_file.as_deref() {
        None | Some("system") => system_roots()?,
        Some(path) => file_roots(path)?,
    };
    WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider.clone())
        .build()
        .map_err(|e| format!("cannot build certificate verifier: {e}"))
}

fn system_roots() -> Result<RootCertStore, String> {
    let mut store = RootCertStore::empty();
    let found = rustls_native_certs::load_native_certs();
    let (added, _) = store.add_parsable_certificates(found.certs);
    if added == 0 {
        return Err(
            "no trusted root certificates found in the system store; set sslrootcert=FILE".into(),
        );
    }
    Ok(store)
}

fn file_roots(path: &str) -> Result<RootCertStore, String> {
    let pem = std::fs::read(path).map_err(|e| format!("cannot read sslrootcert {path}: {e}"))?;
    let mut store = RootCertStore::empty();
    for cert in rustls_pemfile::certs(&mut pem.as_slice()) {
        let cert = cert.map_err(|e| format!("sslrootcert {path} is not valid PEM: {e}"))?;
        store
            .add(cert)
            .map_err(|e| format!("sslrootcert {path} holds an unusable certificate: {e}"))?;
    }
    if store.is_empty() {
        return Err(format!("sslrootcert {path} holds no certificate"));
    }
    Ok(store)
}

/// `require` / `prefer` without a root: encryption only. Handshake signatures
/// are still checked, so the session key really belongs to the certificate shown.
#[derive(Debug)]
struct AcceptAnyCertificate(Arc<CryptoProvider>);

impl ServerCertVerifier for AcceptAnyCertificate {
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
        verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

/// `verify-ca`: the full web-PKI check, except that a name mismatch is accepted.
#[derive(Debug)]
struct ChainOnly(Arc<WebPkiServerVerifier>);

impl ServerCertVerifier for ChainOnly {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        match self
            .0
            .verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now)
        {
            Err(rustls::Error::InvalidCertificate(
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
            )) => Ok(ServerCertVerified::assertion()),
            other => other,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.supported_verify_schemes()
    }
}
