//! Types shared by the Jingtong app and server: requests, responses, error codes and the
//! parse-don't-validate newtypes for the personal identifiers residents type in.
//! Validation lives here once; both the server and the app's core call it.

pub mod applications;
pub mod auth;
pub mod bill;
pub mod cases;
pub mod check_digits;
pub mod codes;
pub mod id_number;
pub mod identity;
pub mod lang;
pub mod moves;
pub mod page;
pub mod payments;
pub mod phone;
pub mod plate;
pub mod problem;
pub mod progress;
pub mod text;

pub use codes::ErrorCode;
pub use id_number::IdNumber;
pub use lang::Lang;
pub use page::Page;
pub use phone::Phone;
pub use plate::Plate;
pub use problem::{FieldError, Problem};
pub use text::{RelayedText, Text, TextError};
