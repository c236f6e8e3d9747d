//! The session token pair, kept as one keychain entry so access and refresh tokens change together.

use jingtong_api::ErrorCode;
use serde::{Deserialize, Serialize};

use crate::{Keychain, Sensitive};

/// Keychain entry (account name) holding `{"access_token","refresh_token"}`.
pub const SESSION_ENTRY: &str = "session";

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Tokens {
    pub access: Sensitive<String>,
    pub refresh: Sensitive<String>,
}

#[derive(Serialize, Deserialize)]
struct Stored {
    access_token: String,
    refresh_token: String,
}

#[derive(Debug, Clone)]
pub(crate) struct TokenStore {
    keychain: Keychain,
}

impl TokenStore {
    pub fn new(keychain: Keychain) -> TokenStore {
        TokenStore { keychain }
    }

    pub async fn load(&self) -> Result<Option<Tokens>, ErrorCode> {
        let Some(raw) = self.keychain.get(SESSION_ENTRY).await? else { return Ok(None) };
        // An entry we cannot read is as good as none: the resident signs in again.
        Ok(serde_json::from_str::<Stored>(raw.expose())
            .ok()
            .map(|s| Tokens { access: Sensitive::new(s.access_token), refresh: Sensitive::new(s.refresh_token) }))
    }

    pub async fn save(&self, access: &str, refresh: &str) -> Result<Tokens, ErrorCode> {
        let stored = Stored { access_token: access.to_owned(), refresh_token: refresh.to_owned() };
        let json = Sensitive::new(serde_json::to_string(&stored).map_err(|_| ErrorCode::KeychainUnavailable)?);
        self.keychain.set(SESSION_ENTRY, &json).await?;
        Ok(Tokens { access: Sensitive::new(stored.access_token), refresh: Sensitive::new(stored.refresh_token) })
    }

    pub async fn clear(&self) -> Result<(), ErrorCode> {
        self.keychain.delete(SESSION_ENTRY).await
    }

    /// Fails with `keychain_unavailable` if the store cannot be reached; used before sending an SMS.
    pub async fn check(&self) -> Result<(), ErrorCode> {
        self.keychain.get(SESSION_ENTRY).await.map(|_| ())
    }
}
