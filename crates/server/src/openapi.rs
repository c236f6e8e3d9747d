//! The OpenAPI 3.1 document, generated from the handlers' `#[utoipa::path]` attributes.

use jingtong_api::{ErrorCode, FieldError, Problem};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

/// The capability tags; every operation carries exactly one.
pub const TAGS: [&str; 7] = ["auth", "identity", "applications", "vehicle-moves", "payments", "cases", "staff"];

#[derive(OpenApi)]
#[openapi(
    info(title = "Jingtong API", description = "REST API of Jingtong (警通), the citizen app for police services."),
    tags(
        (name = "auth", description = "Sign-in with phone and SMS code, sessions, the account"),
        (name = "identity", description = "Face verification and real-name identity"),
        (name = "applications", description = "ID card and temporary ID card applications"),
        (name = "vehicle-moves", description = "Requests to move a blocking vehicle"),
        (name = "payments", description = "Bills and scan-to-pay"),
        (name = "cases", description = "Reported cases and their progress"),
        (name = "staff", description = "Staff work and operations, including health"),
    ),
    components(schemas(Problem, FieldError, ErrorCode)),
    modifiers(&BearerAndLicence),
)]
pub struct ApiDoc;

struct BearerAndLicence;

impl Modify for BearerAndLicence {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        // utoipa fills an empty licence from Cargo.toml; OpenAPI requires a name when present.
        openapi.info.license = None;
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new().scheme(HttpAuthScheme::Bearer).description(Some("Access token")).build(),
            ),
        );
    }
}
