//! Passwords: the policy new ones must meet, and argon2id hashing off the
//! async threads with a bound on how many run at once.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use argon2::password_hash::SaltString;
use argon2::password_hash::rand_core::OsRng;
use argon2::{Algorithm, Argon2, Params, PasswordHash, PasswordHasher, PasswordVerifier, Version};
use secrecy::{ExposeSecret, SecretString};
use tokio::sync::Semaphore;

/// The shortest password accepted.
pub const MIN_LENGTH: usize = 12;
/// The longest password accepted (hashing cost grows with length).
pub const MAX_LENGTH: usize = 128;

/// Why a new password was refused; the message is for the form.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WeakPassword {
    #[error("the password must be at least 12 characters")]
    TooShort,
    #[error("the password must be at most 128 characters")]
    TooLong,
    #[error("this password is too common or too easy to guess; {0}")]
    Guessable(String),
}

/// Checks a new password: long enough, and not common or easily guessed
/// (zxcvbn's dictionaries of common passwords, names and patterns, with the
/// user's own names as hints).
pub fn check_policy(password: &str, hints: &[&str]) -> Result<(), WeakPassword> {
    let length = password.chars().count();
    if length < MIN_LENGTH {
        return Err(WeakPassword::TooShort);
    }
    if length > MAX_LENGTH {
        return Err(WeakPassword::TooLong);
    }
    let estimate = zxcvbn::zxcvbn(password, hints);
    if (estimate.score() as u8) < 3 {
        let advice = estimate
            .feedback()
            .and_then(|f| f.suggestions().first().map(|s| s.to_string()))
            .unwrap_or_else(|| "add more unrelated words".to_owned());
        return Err(WeakPassword::Guessable(advice.to_lowercase()));
    }
    Ok(())
}

/// Hashes and verifies passwords with argon2id (19 MiB, 2 passes, 1 lane),
/// at most `concurrency` at a time so a login storm cannot exhaust memory.
#[derive(Clone)]
pub struct PasswordHashing {
    permits: Arc<Semaphore>,
    /// A hash of a random password, verified against for unknown users so the
    /// answer takes as long as for known ones.
    dummy: Arc<String>,
}

/// Why hashing could not be done.
#[derive(Debug, thiserror::Error)]
pub enum HashingError {
    #[error("too many passwords are being checked; try again")]
    Busy,
    #[error(transparent)]
    Failed(#[from] anyhow::Error),
}

fn argon2() -> anyhow::Result<Argon2<'static>> {
    let params = Params::new(19 * 1024, 2, 1, None).map_err(|e| anyhow::anyhow!("argon2 parameters: {e}"))?;
    Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
}

fn hash_now(password: &str) -> anyhow::Result<String> {
    let salt = SaltString::generate(&mut OsRng);
    argon2()?
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| anyhow::anyhow!("argon2 hashing failed: {e}"))
}

fn verify_now(password: &str, hash: &str) -> anyhow::Result<bool> {
    let parsed = PasswordHash::new(hash).map_err(|e| anyhow::anyhow!("stored password hash is unreadable: {e}"))?;
    Ok(argon2()?.verify_password(password.as_bytes(), &parsed).is_ok())
}

impl PasswordHashing {
    pub fn new(concurrency: usize) -> anyhow::Result<Self> {
        let random: String = {
            let mut bytes = [0u8; 24];
            getrandom::fill(&mut bytes).map_err(|e| anyhow::anyhow!("random source: {e}"))?;
            bytes.iter().map(|b| format!("{b:02x}")).collect()
        };
        Ok(Self { permits: Arc::new(Semaphore::new(concurrency.max(1))), dummy: Arc::new(hash_now(&random)?) })
    }

    async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> anyhow::Result<T> + Send + 'static,
    ) -> Result<T, HashingError> {
        let permit = tokio::time::timeout(Duration::from_secs(10), self.permits.clone().acquire_owned())
            .await
            .map_err(|_| HashingError::Busy)?
            .context("the hashing semaphore is closed")?;
        let span = tracing::Span::current();
        let result = tokio::task::spawn_blocking(move || {
            let _entered = span.enter();
            let result = work();
            drop(permit);
            result
        })
        .await
        .context("a hashing task failed")?;
        Ok(result?)
    }

    pub async fn hash(&self, password: SecretString) -> Result<String, HashingError> {
        self.run(move || hash_now(password.expose_secret())).await
    }

    /// Verifies a password against a stored hash, or against the dummy hash
    /// when there is none (the answer is then always no).
    pub async fn verify(&self, password: SecretString, hash: Option<SecretString>) -> Result<bool, HashingError> {
        let known = hash.is_some();
        let hash = hash.unwrap_or_else(|| SecretString::from(self.dummy.as_str()));
        let ok = self.run(move || verify_now(password.expose_secret(), hash.expose_secret())).await?;
        Ok(ok && known)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_common_and_guessable_passwords_are_refused() {
        assert_eq!(check_policy("short", &[]), Err(WeakPassword::TooShort));
        assert!(matches!(check_policy("password1234", &[]), Err(WeakPassword::Guessable(_))));
        assert!(matches!(check_policy("qwertyuiop12", &[]), Err(WeakPassword::Guessable(_))));
        assert!(matches!(check_policy("patricia.lee1", &["patricia.lee"]), Err(WeakPassword::Guessable(_))));
        assert_eq!(check_policy(&"x".repeat(129), &[]), Err(WeakPassword::TooLong));
        assert_eq!(check_policy("forklift-orbit-tangerine-42", &[]), Ok(()));
    }

    #[tokio::test]
    async fn a_hash_verifies_its_password_only() {
        let hashing = PasswordHashing::new(2).unwrap();
        let secret = |s: &str| SecretString::from(s);
        let hash = hashing.hash(secret("forklift-orbit-tangerine-42")).await.unwrap();
        assert!(hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        assert!(hashing.verify(secret("forklift-orbit-tangerine-42"), Some(secret(&hash))).await.unwrap());
        assert!(!hashing.verify(secret("forklift-orbit-tangerine-43"), Some(secret(&hash))).await.unwrap());
        assert!(!hashing.verify(secret("anything"), None).await.unwrap());
    }
}
