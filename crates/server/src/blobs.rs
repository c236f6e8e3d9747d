//! Binary objects (registry photos now; ID photos and receipts later) behind one interface.
//! The local store is a folder under the data directory; rows keep the key and a sha256, never bytes.

use std::path::{Path, PathBuf};

use async_trait::async_trait;
use sha2::{Digest, Sha256};

#[derive(Debug, thiserror::Error)]
pub enum BlobError {
    #[error("invalid blob key")]
    BadKey,
    #[error("blob store io: {0}")]
    Io(#[from] std::io::Error),
}

#[async_trait]
pub trait BlobStore: Send + Sync + 'static {
    /// Stores `bytes` under `key` (replacing what was there) and returns their sha256 (hex).
    async fn put(&self, key: &str, bytes: &[u8]) -> Result<String, BlobError>;
    /// The bytes under `key`, or `None`.
    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, BlobError>;
    /// Removes `key`; removing a missing key is not an error.
    async fn delete(&self, key: &str) -> Result<(), BlobError>;
}

/// Files under `DATA_DIR/blobs`, one per key.
pub struct LocalBlobStore {
    root: PathBuf,
}

impl LocalBlobStore {
    pub fn new(data_dir: &Path) -> LocalBlobStore {
        LocalBlobStore { root: data_dir.join("blobs") }
    }

    /// Keys are `a-z0-9._-` segments separated by `/`; nothing can escape the root.
    fn path(&self, key: &str) -> Result<PathBuf, BlobError> {
        let ok = !key.is_empty()
            && key.split('/').all(|seg| {
                !seg.is_empty()
                    && seg != "."
                    && seg != ".."
                    && seg.bytes().all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b))
            });
        if !ok {
            return Err(BlobError::BadKey);
        }
        Ok(self.root.join(key))
    }
}

pub fn sha256_bytes(bytes: &[u8]) -> String {
    Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

#[async_trait]
impl BlobStore for LocalBlobStore {
    async fn put(&self, key: &str, bytes: &[u8]) -> Result<String, BlobError> {
        let path = self.path(key)?;
        if let Some(parent) = path.parent() {
            tokio::fs::create_dir_all(parent).await?;
        }
        // Write beside, then rename: a reader never sees half a file.
        let tmp = path.with_extension(format!("tmp-{}", uuid::Uuid::now_v7().simple()));
        tokio::fs::write(&tmp, bytes).await?;
        tokio::fs::rename(&tmp, &path).await?;
        Ok(sha256_bytes(bytes))
    }

    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, BlobError> {
        match tokio::fs::read(self.path(key)?).await {
            Ok(b) => Ok(Some(b)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    async fn delete(&self, key: &str) -> Result<(), BlobError> {
        match tokio::fs::remove_file(self.path(key)?).await {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(e.into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn put_get_delete_and_no_escape() {
        let dir = tempfile::tempdir().unwrap();
        let store = LocalBlobStore::new(dir.path());
        let sha = store.put("registry/a.png", b"abc").await.unwrap();
        assert_eq!(sha, sha256_bytes(b"abc"));
        assert_eq!(store.get("registry/a.png").await.unwrap().as_deref(), Some(&b"abc"[..]));
        store.delete("registry/a.png").await.unwrap();
        assert!(store.get("registry/a.png").await.unwrap().is_none());
        assert!(matches!(store.put("../x", b"").await, Err(BlobError::BadKey)));
        assert!(matches!(store.get("/etc/passwd").await, Err(BlobError::BadKey)));
    }
}
