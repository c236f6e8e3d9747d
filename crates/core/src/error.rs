use jingtong_api::{ErrorCode, Lang, Problem};
use serde::{Deserialize, Serialize};

/// What every command returns on failure, and all that crosses IPC: a stable code the UI
/// switches on and a message the resident reads.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error, ts_rs::TS)]
#[error("{code}: {message}")]
#[ts(export)]
pub struct AppError {
    /// An `ErrorCode`. Typed as `string` in TypeScript because the UI adds its own `ipc_failed`.
    #[ts(type = "string")]
    pub code: ErrorCode,
    pub message: String,
}

impl AppError {
    /// A local failure, with the catalogue's message in the resident's language.
    pub fn new(code: ErrorCode, lang: Lang) -> AppError {
        AppError { code, message: code.message(lang).to_owned() }
    }

    /// A server failure: the server already localised `detail` by `Accept-Language`.
    pub fn from_problem(problem: Problem) -> AppError {
        AppError { code: problem.code, message: problem.detail }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serialises_as_code_and_message() {
        let e = AppError::new(ErrorCode::PhoneInvalid, Lang::ZhCn);
        assert_eq!(
            serde_json::to_value(&e).unwrap(),
            serde_json::json!({"code": "phone_invalid", "message": ErrorCode::PhoneInvalid.message(Lang::ZhCn)})
        );
    }

    #[test]
    fn keeps_the_server_message() {
        let mut p = Problem::new(ErrorCode::SmsCodeInvalid, Lang::En);
        p.detail = "from the server".into();
        let e = AppError::from_problem(p);
        assert_eq!((e.code, e.message.as_str()), (ErrorCode::SmsCodeInvalid, "from the server"));
    }
}
