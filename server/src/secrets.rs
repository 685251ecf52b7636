//! Secrets at rest: signing secrets and connector secrets are sealed with
//! XChaCha20-Poly1305 under the server's secret key before they reach the
//! database, and opened only where they are used.
//!
//! The key is `CROSSDOCK_SECRET_KEY` (32 bytes, base64) when set, else the
//! key file (by default beside the SQLite database, `crossdock.key`),
//! created with mode 0600 at first start. Without the key the sealed
//! secrets cannot be read: sources must be given new signing secrets and
//! connectors their secrets again (see docs/operations.md).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use secrecy::{ExposeSecret, SecretString};

/// Marks a sealed value, and the scheme it was sealed with.
const PREFIX: &str = "sealed:v1:";
const NONCE_LEN: usize = 24;

/// What a sealed value is for; a value sealed for one purpose does not open
/// for another.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    SigningSecret,
    ConnectorSecret,
    /// Signs the messages of a JSON webhook notification channel.
    ChannelSecret,
}

impl Purpose {
    fn label(self) -> &'static [u8] {
        match self {
            Purpose::SigningSecret => b"crossdock signing secret",
            Purpose::ConnectorSecret => b"crossdock connector secret",
            Purpose::ChannelSecret => b"crossdock channel secret",
        }
    }
}

/// A secret as stored: sealed, or (written before sealing existed) plain.
#[derive(Clone, PartialEq, Eq)]
pub struct Sealed(String);

impl Sealed {
    /// A value read from the database.
    pub fn from_stored(s: String) -> Self {
        Self(s)
    }

    /// What is written to the database.
    pub fn as_stored(&self) -> &str {
        &self.0
    }

    /// Whether it was written before secrets were sealed.
    pub fn is_plain(&self) -> bool {
        !self.0.starts_with(PREFIX)
    }
}

impl std::fmt::Debug for Sealed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.is_plain() { "Sealed(plain, hidden)" } else { "Sealed(..)" })
    }
}

/// Why a sealed value did not open.
#[derive(Debug, thiserror::Error)]
#[error("a stored secret does not open with this server's secret key (was the key changed or lost?)")]
pub struct CannotOpen;

/// Where the key comes from.
#[derive(Debug, Clone)]
pub enum KeySource {
    /// Base64 of 32 bytes, from the environment.
    Given(SecretString),
    /// A file, created on first use.
    File(PathBuf),
    /// A key made up for this process (in-memory databases).
    Ephemeral,
}

/// Seals and opens secrets; cheap to clone.
#[derive(Clone)]
pub struct Sealer {
    cipher: Arc<XChaCha20Poly1305>,
    /// The key file this process created, if it made one.
    created: Option<PathBuf>,
}

fn random<const N: usize>() -> anyhow::Result<[u8; N]> {
    let mut bytes = [0u8; N];
    getrandom::fill(&mut bytes).map_err(|e| anyhow::anyhow!("the system random source failed: {e}"))?;
    Ok(bytes)
}

fn decode_key(text: &str) -> anyhow::Result<[u8; 32]> {
    let bytes = STANDARD.decode(text.trim()).context("the secret key is not base64")?;
    <[u8; 32]>::try_from(bytes.as_slice()).map_err(|_| anyhow::anyhow!("the secret key must be 32 bytes"))
}

/// Reads the key file, or creates it (0600) when there is none; whether it
/// was created.
fn key_file(path: &Path) -> anyhow::Result<([u8; 32], bool)> {
    match std::fs::read_to_string(path) {
        Ok(text) => {
            warn_if_readable_by_others(path);
            let key = decode_key(&text).with_context(|| format!("cannot use the key file {}", path.display()))?;
            Ok((key, false))
        }
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => {
            let key = random::<32>()?;
            if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
            }
            write_private(path, &STANDARD.encode(key))
                .with_context(|| format!("cannot create the key file {}", path.display()))?;
            tracing::info!(file = %path.display(), "created the secret key file; back it up with the database");
            Ok((key, true))
        }
        Err(err) => Err(err).with_context(|| format!("cannot read the key file {}", path.display())),
    }
}

#[cfg(unix)]
fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(path)?;
    file.write_all(text.as_bytes())?;
    file.sync_all()
}

#[cfg(not(unix))]
fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    std::fs::write(path, text)
}

#[cfg(unix)]
fn warn_if_readable_by_others(path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    if let Ok(meta) = std::fs::metadata(path)
        && meta.permissions().mode() & 0o077 != 0
    {
        tracing::warn!(file = %path.display(), "the secret key file is readable by others; make it 0600");
    }
}

#[cfg(not(unix))]
fn warn_if_readable_by_others(_: &Path) {}

impl Sealer {
    pub fn load(source: &KeySource) -> anyhow::Result<Self> {
        let (key, created) = match source {
            KeySource::Given(text) => (decode_key(text.expose_secret()).context("CROSSDOCK_SECRET_KEY")?, None),
            KeySource::File(path) => {
                let (key, created) = key_file(path)?;
                (key, created.then(|| path.clone()))
            }
            KeySource::Ephemeral => (random::<32>()?, None),
        };
        Ok(Self { cipher: Arc::new(XChaCha20Poly1305::new(&key.into())), created })
    }

    /// Checks the key against secrets already stored. A key file this
    /// process just created cannot be the one they were sealed with: it is
    /// removed again and the start refused, rather than sealing new secrets
    /// under a key the server does not have.
    pub fn check_against<'a>(&self, stored: impl Iterator<Item = (Purpose, &'a Sealed)>) -> anyhow::Result<()> {
        let closed = stored.filter(|(purpose, s)| !s.is_plain() && self.open(*purpose, s).is_err()).count();
        if closed == 0 {
            return Ok(());
        }
        if let Some(path) = &self.created {
            let _ = std::fs::remove_file(path);
            anyhow::bail!(
                "the database holds secrets sealed with another key, and no key was given: give the server's key \
                 (CROSSDOCK_SECRET_KEY or --secret-key-file); the key file {} made just now was removed",
                path.display()
            );
        }
        tracing::error!(
            secrets = closed,
            "stored secrets do not open with this server's secret key: signed sources are refused and connectors \
             cannot send their secret until they are given new ones (see docs/operations.md)"
        );
        Ok(())
    }

    /// Seals a secret for storage.
    pub fn seal(&self, purpose: Purpose, secret: &SecretString) -> anyhow::Result<Sealed> {
        let nonce = random::<NONCE_LEN>()?;
        let sealed = self
            .cipher
            .encrypt(
                XNonce::from_slice(&nonce),
                Payload { msg: secret.expose_secret().as_bytes(), aad: purpose.label() },
            )
            .map_err(|_| anyhow::anyhow!("sealing a secret failed"))?;
        let mut bytes = nonce.to_vec();
        bytes.extend_from_slice(&sealed);
        Ok(Sealed(format!("{PREFIX}{}", STANDARD.encode(bytes))))
    }

    /// Opens a stored secret (a plain one, from before sealing, as it is).
    pub fn open(&self, purpose: Purpose, stored: &Sealed) -> Result<SecretString, CannotOpen> {
        let Some(encoded) = stored.0.strip_prefix(PREFIX) else {
            return Ok(SecretString::from(stored.0.clone()));
        };
        let bytes = STANDARD.decode(encoded).map_err(|_| CannotOpen)?;
        if bytes.len() < NONCE_LEN {
            return Err(CannotOpen);
        }
        let (nonce, sealed) = bytes.split_at(NONCE_LEN);
        let plain = self
            .cipher
            .decrypt(XNonce::from_slice(nonce), Payload { msg: sealed, aad: purpose.label() })
            .map_err(|_| CannotOpen)?;
        String::from_utf8(plain).map(SecretString::from).map_err(|_| CannotOpen)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secret(s: &str) -> SecretString {
        SecretString::from(s.to_owned())
    }

    #[test]
    fn a_sealed_secret_opens_with_its_key_and_purpose_only() {
        let sealer = Sealer::load(&KeySource::Ephemeral).unwrap();
        let sealed = sealer.seal(Purpose::ConnectorSecret, &secret("Bearer carrier-token")).unwrap();
        assert!(!sealed.as_stored().contains("carrier-token"));
        assert_ne!(
            sealed,
            sealer.seal(Purpose::ConnectorSecret, &secret("Bearer carrier-token")).unwrap(),
            "nonces differ"
        );
        assert_eq!(sealer.open(Purpose::ConnectorSecret, &sealed).unwrap().expose_secret(), "Bearer carrier-token");
        assert!(sealer.open(Purpose::SigningSecret, &sealed).is_err(), "not for another purpose");
        let other = Sealer::load(&KeySource::Ephemeral).unwrap();
        assert!(other.open(Purpose::ConnectorSecret, &sealed).is_err(), "not with another key");
        let plain = Sealed::from_stored("whsec_old".into());
        assert!(plain.is_plain());
        assert_eq!(sealer.open(Purpose::SigningSecret, &plain).unwrap().expose_secret(), "whsec_old");
    }

    #[test]
    fn the_key_file_is_made_once_private_and_then_reused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("data").join("crossdock.key");
        let first = Sealer::load(&KeySource::File(path.clone())).unwrap();
        let sealed = first.seal(Purpose::SigningSecret, &secret("whsec_x")).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
        }
        let again = Sealer::load(&KeySource::File(path)).unwrap();
        assert_eq!(again.open(Purpose::SigningSecret, &sealed).unwrap().expose_secret(), "whsec_x");
        // A new key file cannot open what another key sealed: it is taken back.
        let elsewhere = dir.path().join("other.key");
        let fresh = Sealer::load(&KeySource::File(elsewhere.clone())).unwrap();
        assert!(fresh.check_against([(Purpose::SigningSecret, &sealed)].into_iter()).is_err());
        assert!(!elsewhere.exists(), "the new key file is removed again");
        let given = KeySource::Given(secret(&STANDARD.encode([7u8; 32])));
        assert!(Sealer::load(&given).is_ok());
        assert!(Sealer::load(&KeySource::Given(secret("short"))).is_err());
    }
}
