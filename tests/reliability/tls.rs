//! HTTPS: the sandbox serves with a certificate for 127.0.0.1 and localhost issued by a private
//! CA made here. A client that does not trust that CA fails with a TLS transport error and sends
//! nothing; a CA bundle makes it work; so does `insecure`, with a warning. The same for the
//! `threecx` binary (`--ca-cert`, `--insecure`).

use std::path::PathBuf;
use std::time::Duration;

use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, KeyPair,
    KeyUsagePurpose,
};
use serde_json::json;
use threecx_core::{Client, ConfigBuilder, Error};
use threecx_sandbox::{SandboxConfig, SandboxHandle, TlsConfig};

use crate::support::{report, run_threecx};
use threecx_test_support::sandbox::{small_sandbox_config, start_sandbox};

/// A private CA and a server certificate it issued, in a temporary folder.
pub struct Pki {
    pub dir: tempfile::TempDir,
    pub server: TlsConfig,
}

impl Pki {
    pub fn new(ca_name: &str) -> Pki {
        let mut ca = CertificateParams::new(Vec::<String>::new()).unwrap();
        ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca.distinguished_name.push(DnType::CommonName, ca_name);
        ca.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        let ca_key = KeyPair::generate().unwrap();
        let ca = ca.self_signed(&ca_key).unwrap();

        let mut server =
            CertificateParams::new(vec!["127.0.0.1".to_owned(), "localhost".to_owned()]).unwrap();
        server
            .distinguished_name
            .push(DnType::CommonName, "threecx sandbox");
        server.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        server.key_usages = vec![
            KeyUsagePurpose::DigitalSignature,
            KeyUsagePurpose::KeyEncipherment,
        ];
        let server_key = KeyPair::generate().unwrap();
        let server = server.signed_by(&server_key, &ca, &ca_key).unwrap();

        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("ca.pem"), ca.pem()).unwrap();
        Pki {
            dir,
            server: TlsConfig {
                cert_pem: server.pem(),
                key_pem: server_key.serialize_pem(),
            },
        }
    }

    pub fn ca_file(&self) -> PathBuf {
        self.dir.path().join("ca.pem")
    }
}

fn https(pki: &Pki, what: &str) -> SandboxConfig {
    SandboxConfig {
        tls: Some(pki.server.clone()),
        ..small_sandbox_config(&format!("rel-{what}"))
    }
}

fn client(builder: ConfigBuilder) -> Client {
    Client::new(
        builder
            .timeout(Duration::from_secs(5))
            .backoff(Duration::from_millis(1), Duration::from_millis(5))
            .isolated_token_cache(true)
            .build()
            .unwrap(),
    )
    .unwrap()
}

async fn status(c: &Client) -> Result<serde_json::Value, Error> {
    threecx_ops::registry()
        .call(c, "System Status", "Get System Status", json!({}))
        .await
        .map(|r| r.to_json())
}

fn assert_tls_refused(result: Result<serde_json::Value, Error>, pbx: &SandboxHandle) -> String {
    match result {
        Err(Error::Transport {
            maybe_sent: false,
            message,
            ..
        }) => {
            let m = message.to_ascii_lowercase();
            assert!(m.contains("certificate"), "a TLS error: {message}");
            assert!(pbx.requests().is_empty(), "nothing got through");
            message
        }
        other => panic!("expected a TLS transport error, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sdk_trusts_a_private_ca_only_when_told() {
    let pki = Pki::new("threecx test CA");
    let pbx = start_sandbox(https(&pki, "tls-sdk")).await;
    assert!(pbx.url().starts_with("https://127.0.0.1:"), "{}", pbx.url());

    let untrusted = assert_tls_refused(status(&client(pbx.client_config())).await, &pbx);

    // A bundle with another CA does not help.
    let other = Pki::new("another CA");
    let e = status(&client(pbx.client_config().ca_bundle(other.ca_file()))).await;
    assert_tls_refused(e, &pbx);

    let with_ca = status(&client(pbx.client_config().ca_bundle(pki.ca_file())))
        .await
        .expect("trusted through the CA bundle");
    assert_eq!(with_ca["Version"], "20.0.10");
    // The certificate names localhost too.
    let localhost = pbx.url().replace("127.0.0.1", "localhost");
    status(&client(
        pbx.client_config()
            .base_url(localhost)
            .ca_bundle(pki.ca_file()),
    ))
    .await
    .expect("localhost is in the certificate");

    status(&client(pbx.client_config().insecure(true)))
        .await
        .expect("insecure skips verification");

    report(
        "tls-sdk",
        &format!(
            "TLS, SDK: no CA → `Transport` (maybe_sent: false, nothing reached the sandbox): \
             \"{untrusted}\"; another CA → the same; `ca_bundle(ca.pem)` → ok (127.0.0.1 and \
             localhost); `insecure(true)` → ok.\n"
        ),
    );
}

#[test]
fn the_cli_trusts_a_private_ca_only_when_told() {
    let pki = Pki::new("threecx test CA");
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let pbx = runtime.block_on(start_sandbox(https(&pki, "tls-cli")));
    let env = [
        ("THREECX_URL", pbx.url()),
        ("THREECX_CLIENT_ID", pbx.client_id().to_owned()),
        ("THREECX_CLIENT_SECRET", pbx.client_secret().to_owned()),
    ];
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let ca = pki.ca_file().display().to_string();
    let call = ["call", "System Status", "Get System Status"];
    let limit = Duration::from_secs(60);

    let refused = run_threecx(&call, &env, limit);
    assert_eq!(refused.code, 5, "network error exit code: {refused:#?}");
    assert!(
        refused.stderr.to_ascii_lowercase().contains("certificate"),
        "{}",
        refused.stderr
    );
    assert!(refused.stdout.is_empty(), "{}", refused.stdout);
    assert!(pbx.requests().is_empty(), "nothing got through");

    let trusted = run_threecx(&[&call[..], &["--ca-cert", &ca]].concat(), &env, limit);
    assert_eq!(trusted.code, 0, "{trusted:#?}");
    let answer: serde_json::Value = serde_json::from_str(&trusted.stdout).unwrap();
    assert_eq!(answer["Version"], "20.0.10");

    let insecure = run_threecx(&[&call[..], &["--insecure"]].concat(), &env, limit);
    assert_eq!(insecure.code, 0, "{insecure:#?}");
    serde_json::from_str::<serde_json::Value>(&insecure.stdout).unwrap();
    let warning = insecure
        .stderr
        .lines()
        .find(|l| l.contains("warning") && l.contains("insecure"))
        .unwrap_or_else(|| panic!("a warning on stderr: {}", insecure.stderr))
        .to_owned();

    report(
        "tls-cli",
        &format!(
            "TLS, CLI: no CA → exit {} (\"{}\"); `--ca-cert ca.pem` → exit {}; `--insecure` → \
             exit {} with \"{warning}\" on stderr.\n",
            refused.code,
            refused.stderr.lines().next().unwrap_or(""),
            trusted.code,
            insecure.code
        ),
    );
    drop(pbx);
}
