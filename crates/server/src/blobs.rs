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
    /// Stores several objects, all durable when it returns; their sha256s in order. On an error some
    /// may be stored: the caller deletes them all.
    async fn put_all(&self, items: &[(&str, &[u8])]) -> Result<Vec<String>, BlobError> {
        let mut out = Vec::with_capacity(items.len());
        for (key, bytes) in items {
            out.push(self.put(key, bytes).await?);
        }
        Ok(out)
    }
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

/// Writes each beside its place and flushes it, renames them all (a reader never sees half a file),
/// then flushes each folder once, and the parent of any folder made now: once the caller commits a
/// row naming these keys, a power loss cannot lose the bytes. One call for a request's photos lets
/// them share the folder flushes.
fn write_durably(items: &[(PathBuf, Vec<u8>)]) -> Result<(), BlobError> {
    use std::io::Write;
    let mut folders: Vec<&Path> = Vec::new();
    for (path, _) in items {
        let parent = path.parent().ok_or(BlobError::BadKey)?;
        // Folders made now must be flushed into their own parents as well.
        let new_dirs: Vec<&Path> = parent.ancestors().take_while(|d| !d.exists()).collect();
        std::fs::create_dir_all(parent)?;
        for dir in std::iter::once(parent).chain(new_dirs.iter().filter_map(|d| d.parent())) {
            if !folders.contains(&dir) {
                folders.push(dir);
            }
        }
    }
    let tmps: Vec<PathBuf> =
        items.iter().map(|(path, _)| path.with_extension(format!("tmp-{}", uuid::Uuid::now_v7().simple()))).collect();
    let written = (|| {
        for ((_, bytes), tmp) in items.iter().zip(&tmps) {
            let mut file = std::fs::File::create(tmp)?;
            file.write_all(bytes)?;
            file.sync_all()?;
        }
        for ((path, _), tmp) in items.iter().zip(&tmps) {
            std::fs::rename(tmp, path)?;
        }
        Ok::<(), std::io::Error>(())
    })();
    if written.is_err() {
        for tmp in &tmps {
            let _ = std::fs::remove_file(tmp);
        }
    }
    written?;
    for dir in folders {
        std::fs::File::open(dir)?.sync_all()?;
    }
    Ok(())
}

pub fn sha256_bytes(bytes: &[u8]) -> String {
    Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

#[async_trait]
impl BlobStore for LocalBlobStore {
    async fn put(&self, key: &str, bytes: &[u8]) -> Result<String, BlobError> {
        Ok(self.put_all(&[(key, bytes)]).await?.remove(0))
    }

    async fn put_all(&self, items: &[(&str, &[u8])]) -> Result<Vec<String>, BlobError> {
        let items =
            items.iter().map(|(k, b)| Ok((self.path(k)?, b.to_vec()))).collect::<Result<Vec<_>, BlobError>>()?;
        // Blocking file calls on the blocking pool (tokio::fs would hop there once per call anyway).
        tokio::task::spawn_blocking(move || {
            write_durably(&items)?;
            Ok(items.iter().map(|(_, b)| sha256_bytes(b)).collect())
        })
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
        let shas = store.put_all(&[("moves/m1/0.jpg", b"one"), ("moves/m1/1.jpg", b"two")]).await.unwrap();
        assert_eq!(shas, [sha256_bytes(b"one"), sha256_bytes(b"two")]);
        assert_eq!(store.get("moves/m1/1.jpg").await.unwrap().as_deref(), Some(&b"two"[..]));
        assert!(matches!(store.put_all(&[("moves/m2/0.jpg", b"x"), ("../y", b"")]).await, Err(BlobError::BadKey)));
        assert!(
            store.get("moves/m2/0.jpg").await.unwrap().is_none(),
            "a bad key stops the batch before anything is written"
        );
        assert!(matches!(store.get("/etc/passwd").await, Err(BlobError::BadKey)));
    }
}
