//! The population registry: who a resident ID number belongs to and the photo on file.
//! [`LocalRegistry`] reads the `registry_persons` table (demo data now); a provincial or national
//! registry service can implement [`PopulationRegistry`] instead.

use std::sync::Arc;

use async_trait::async_trait;
use jingtong_api::IdNumber;

use crate::blobs::{sha256_bytes, BlobStore};
use crate::crypto::Keys;
use crate::db::Db;
use crate::demo::{ID_NUMBER, NAME};

/// Purpose tag of registry photos in the blob store: they are stored encrypted, like all face data.
pub const REGISTRY_PHOTO: &str = "registry_photo";

/// A registry entry. `Debug` hides the name.
#[derive(Clone)]
pub struct RegistryPerson {
    pub id: String,
    pub name: String,
    /// Blob-store key of the registry photo, and its sha256.
    pub photo: Option<(String, String)>,
}

impl std::fmt::Debug for RegistryPerson {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "RegistryPerson({}, photo={})", self.id, self.photo.is_some())
    }
}

#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    #[error("registry database: {0}")]
    Db(#[from] sqlx::Error),
    #[error("registry blob store: {0}")]
    Blob(#[from] crate::blobs::BlobError),
    #[error("registry row {0} is not readable")]
    Corrupt(String),
    #[error("registry photo of {0} does not match its sha256")]
    PhotoChecksum(String),
}

#[async_trait]
pub trait PopulationRegistry: Send + Sync + 'static {
    /// The person holding this ID number, if any.
    async fn lookup(&self, id_number: &IdNumber) -> Result<Option<RegistryPerson>, RegistryError>;
    /// The person's registry photo (JPEG/PNG bytes), if the registry has one.
    async fn photo(&self, person: &RegistryPerson) -> Result<Option<Vec<u8>>, RegistryError>;
}

pub struct LocalRegistry {
    db: Db,
    keys: Arc<Keys>,
    blobs: Arc<dyn BlobStore>,
}

impl LocalRegistry {
    pub fn new(db: Db, keys: Arc<Keys>, blobs: Arc<dyn BlobStore>) -> LocalRegistry {
        LocalRegistry { db, keys, blobs }
    }
}

#[async_trait]
impl PopulationRegistry for LocalRegistry {
    async fn lookup(&self, id_number: &IdNumber) -> Result<Option<RegistryPerson>, RegistryError> {
        let row: Option<(String, Vec<u8>, Option<String>, Option<String>)> = sqlx::query_as(
            "SELECT id, name_enc, photo_ref, photo_sha256 FROM registry_persons WHERE id_number_hash = $1",
        )
        .bind(self.keys.keyed_hash(ID_NUMBER, id_number.as_str()))
        .fetch_optional(&self.db.pool)
        .await?;
        let Some((id, name_enc, photo_ref, photo_sha256)) = row else {
            return Ok(None);
        };
        let name = self.keys.decrypt_string(NAME, &name_enc).map_err(|_| RegistryError::Corrupt(id.clone()))?;
        let photo = photo_ref.zip(photo_sha256);
        Ok(Some(RegistryPerson { id, name, photo }))
    }

    async fn photo(&self, person: &RegistryPerson) -> Result<Option<Vec<u8>>, RegistryError> {
        let Some((key, sha)) = &person.photo else {
            return Ok(None);
        };
        let Some(stored) = self.blobs.get(key).await? else {
            return Ok(None);
        };
        let bytes =
            self.keys.decrypt(REGISTRY_PHOTO, &stored).map_err(|_| RegistryError::Corrupt(person.id.clone()))?;
        if &sha256_bytes(&bytes) != sha {
            return Err(RegistryError::PhotoChecksum(person.id.clone()));
        }
        Ok(Some(bytes))
    }
}
