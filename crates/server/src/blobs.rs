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

/// Writes beside, then renames (a reader never sees half a file), with the file and then its folder
/// flushed to disk: once the caller commits a row naming this key, a power loss cannot lose the bytes.
fn write_durably(path: &Path, bytes: &[u8]) -> Result<(), BlobError> {
    use std::io::Write;
    let parent = path.parent().ok_or(BlobError::BadKey)?;
    // Folders made now must be flushed into their own parents as well.
    let new_dirs: Vec<&Path> = parent.ancestors().take_while(|d| !d.exists()).collect();
    std::fs::create_dir_all(parent)?;
    let tmp = path.with_extension(format!("tmp-{}", uuid::Uuid::now_v7().simple()));
    let written = (|| {
        let mut file = std::fs::File::create(&tmp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if written.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    written?;
    std::fs::File::open(parent)?.sync_all()?;
    for dir in new_dirs {
        if let Some(up) = dir.parent() {
            std::fs::File::open(up)?.sync_all()?;
        }
    }
    Ok(())
}

pub fn sha256_bytes(bytes: &[u8]) -> String {
    Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

#[async_trait]
impl BlobStore for LocalBlobStore {
    async fn put(&self, key: &str, bytes: &[u8]) -> Result<String, BlobError> {
        let path = self.path(key)?;
        let bytes = bytes.to_vec();
        // Blocking file calls on the blocking pool (tokio::fs would hop there once per call anyway).
        tokio::task::spawn_blocking(move || write_durably(&path, &bytes).map(|()| sha256_bytes(&bytes)))
            .await
            .map_err(|e| BlobError::Io(std::io::Error::other(e)))?
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
