use serde::{Deserialize, Serialize};

use crate::{ErrorCode, Lang};

/// RFC 9457 problem details, with Jingtong's stable `code`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Problem {
    #[serde(rename = "type")]
    pub type_uri: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    pub code: ErrorCode,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
    /// Seconds to wait, for `rate_limited` and `phone_locked`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_after: Option<u64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct FieldError {
    pub field: String,
    pub code: ErrorCode,
    pub message: String,
}

impl Problem {
    pub fn new(code: ErrorCode, lang: Lang) -> Problem {
        Problem {
            type_uri: format!("urn:jingtong:problem:{}", code.as_str()),
            title: code.as_str().replace('_', " "),
            status: code.status(),
            detail: code.message(lang).to_owned(),
            code,
            errors: Vec::new(),
            retry_after: None,
        }
    }

    pub fn with_field(mut self, field: &str, code: ErrorCode, lang: Lang) -> Problem {
        self.errors.push(FieldError { field: field.to_owned(), code, message: code.message(lang).to_owned() });
        self
    }
}
