//! The OS keychain, the only place session tokens and the local data key live.
//! Any failure is `keychain_unavailable`; there is deliberately no fallback store.

use jingtong_api::ErrorCode;
use tracing::warn;

use crate::Sensitive;

/// Which OS store to use. The app and the tests use `Auto`; the others pin a store.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum KeychainBackend {
    /// Linux: the Secret Service when a D-Bus session exists (`DBUS_SESSION_BUS_ADDRESS`),
    /// otherwise the kernel keyring. macOS/iOS/Windows: the platform keychain.
    #[default]
    Auto,
    /// Linux: the freedesktop Secret Service (GNOME Keyring, KWallet) over D-Bus.
    SecretService,
    /// Linux: kernel keyutils (lives until reboot).
    KernelKeyring,
}

/// A set of named secrets under one service name.
#[derive(Debug, Clone)]
pub struct Keychain {
    backend: KeychainBackend,
    service: String,
}

impl Keychain {
    /// Resolves `Auto` once, so one run never mixes stores.
    pub fn new(backend: KeychainBackend, service: &str) -> Keychain {
        let backend = match backend {
            KeychainBackend::Auto if cfg!(target_os = "linux") => {
                if std::env::var_os("DBUS_SESSION_BUS_ADDRESS").is_some_and(|v| !v.is_empty()) {
                    KeychainBackend::SecretService
                } else {
                    KeychainBackend::KernelKeyring
                }
            }
            other => other,
        };
        Keychain { backend, service: service.to_owned() }
    }

    pub fn backend(&self) -> KeychainBackend {
        self.backend
    }

    /// `None` when the entry does not exist; an error only when the store cannot be reached.
    pub async fn get(&self, name: &str) -> Result<Option<Sensitive<String>>, ErrorCode> {
        let (this, name) = (self.clone(), name.to_owned());
        let value = blocking(move || store::get(this.backend, &this.service, &name)).await?;
        Ok(value.map(Sensitive::new))
    }

    pub async fn set(&self, name: &str, value: &Sensitive<String>) -> Result<(), ErrorCode> {
        let (this, name, value) = (self.clone(), name.to_owned(), value.clone());
        blocking(move || store::set(this.backend, &this.service, &name, value.expose())).await
    }

    /// Deleting what is not there is fine.
    pub async fn delete(&self, name: &str) -> Result<(), ErrorCode> {
        let (this, name) = (self.clone(), name.to_owned());
        blocking(move || store::delete(this.backend, &this.service, &name)).await
    }
}

/// Keychain calls block (D-Bus round trips), so they run off the async workers.
async fn blocking<T, F>(f: F) -> Result<T, ErrorCode>
where
    T: Send + 'static,
    F: FnOnce() -> Result<T, String> + Send + 'static,
{
    match tokio::task::spawn_blocking(f).await {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(e)) => {
            // The store's complaint only; it never contains a secret value.
            warn!(error = %e, "keychain unavailable");
            Err(ErrorCode::KeychainUnavailable)
        }
        Err(_) => Err(ErrorCode::KeychainUnavailable),
    }
}

#[cfg(any(target_os = "linux", target_os = "macos", target_os = "ios", target_os = "windows"))]
mod store {
    use super::KeychainBackend;
    use keyring::{Entry, Error};

    fn entry(backend: KeychainBackend, service: &str, name: &str) -> Result<Entry, String> {
        #[cfg(target_os = "linux")]
        {
            use keyring::{keyutils::KeyutilsCredential, secret_service::SsCredential};
            let credential: Box<keyring::credential::Credential> = match backend {
                KeychainBackend::KernelKeyring => {
                    Box::new(KeyutilsCredential::new_with_target(None, service, name).map_err(|e| e.to_string())?)
                }
                _ => Box::new(SsCredential::new_with_target(None, service, name).map_err(|e| e.to_string())?),
            };
            Ok(Entry::new_with_credential(credential))
        }
        #[cfg(not(target_os = "linux"))]
        {
            let _ = backend;
            Entry::new(service, name).map_err(|e| e.to_string())
        }
    }

    pub fn get(backend: KeychainBackend, service: &str, name: &str) -> Result<Option<String>, String> {
        match entry(backend, service, name)?.get_password() {
            Ok(v) => Ok(Some(v)),
            Err(Error::NoEntry) => Ok(None),
            Err(e) => Err(e.to_string()),
        }
    }

    pub fn set(backend: KeychainBackend, service: &str, name: &str, value: &str) -> Result<(), String> {
        entry(backend, service, name)?.set_password(value).map_err(|e| e.to_string())
    }

    pub fn delete(backend: KeychainBackend, service: &str, name: &str) -> Result<(), String> {
        match entry(backend, service, name)?.delete_credential() {
            Ok(()) | Err(Error::NoEntry) => Ok(()),
            Err(e) => Err(e.to_string()),
        }
    }
}

// keyring 3 has no Android store and would silently use an in-memory mock there: refuse instead.
#[cfg(not(any(target_os = "linux", target_os = "macos", target_os = "ios", target_os = "windows")))]
mod store {
    use super::KeychainBackend;
    const NONE: &str = "no OS keychain support on this platform yet";

    pub fn get(_: KeychainBackend, _: &str, _: &str) -> Result<Option<String>, String> {
        Err(NONE.into())
    }
    pub fn set(_: KeychainBackend, _: &str, _: &str, _: &str) -> Result<(), String> {
        Err(NONE.into())
    }
    pub fn delete(_: KeychainBackend, _: &str, _: &str) -> Result<(), String> {
        Err(NONE.into())
    }
}
