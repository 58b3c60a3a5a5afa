//! Request bodies, read and parsed so that every rejection is a SPEC §2 problem.

use crate::error::{ApiError, FieldError};
use axum::body::{Body, Bytes};
use axum::extract::{FromRequest, Request};
use serde::de::DeserializeOwned;

/// Bodies over 64 KiB are refused with 413 (SPEC §2).
pub(crate) const MAX_BODY_BYTES: usize = 64 * 1024;

/// Reads a whole body, refusing it once it passes [`MAX_BODY_BYTES`].
pub(crate) async fn read_body(body: Body) -> Result<Bytes, ApiError> {
    axum::body::to_bytes(body, MAX_BODY_BYTES).await.map_err(|error| {
        let too_large =
            std::error::Error::source(&error).is_some_and(|source| source.is::<http_body_util::LengthLimitError>());
        if too_large {
            ApiError::payload_too_large()
        } else {
            ApiError::invalid_json("The request body could not be read.")
        }
    })
}

/// A JSON body: malformed JSON is 400 `invalid_json`; well-formed JSON of the wrong
/// shape (unknown field, wrong type, missing field) is 422 `validation_failed` naming
/// the field. An empty body reads as `{}`, so optional bodies can be left out.
pub(crate) fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let bytes: &[u8] = if bytes.iter().all(u8::is_ascii_whitespace) { b"{}" } else { bytes };
    let value: serde_json::Value = serde_json::from_slice(bytes)
        .map_err(|error| ApiError::invalid_json(format!("The body is not valid JSON: {error}.")))?;
    if !value.is_object() {
        return Err(ApiError::invalid_json("The body must be a JSON object."));
    }
    serde_path_to_error::deserialize(value).map_err(|error| {
        let path = error.path().to_string();
        let inner = error.into_inner().to_string();
        ApiError::validation(vec![shape_error(&path, &inner)])
    })
}

/// Turns serde's message into a field error with a stable code.
fn shape_error(path: &str, message: &str) -> FieldError {
    // serde_path_to_error's path already ends in an unknown field's name; for a missing
    // field it stops at the parent.
    let join = |field: &str| match path {
        "." => field.to_owned(),
        _ if path == field || path.ends_with(&format!(".{field}")) => path.to_owned(),
        _ => format!("{path}.{field}"),
    };
    let quoted = |message: &str| message.split('`').nth(1).unwrap_or_default().to_owned();
    if message.starts_with("unknown field") {
        let field = join(&quoted(message));
        FieldError::new(field.clone(), "unknown_field", format!("`{field}` is not a known field."))
    } else if message.starts_with("missing field") {
        let field = join(&quoted(message));
        FieldError::new(field.clone(), "required", format!("`{field}` is required."))
    } else {
        let detail = message.split(" at line ").next().unwrap_or(message).to_owned();
        FieldError::new(path, "invalid_type", detail)
    }
}

/// `axum::Json`, but answering in problem details.
pub(crate) struct AppJson<T>(pub(crate) T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for AppJson<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, _: &S) -> Result<Self, ApiError> {
        let bytes = read_body(request.into_body()).await?;
        parse_json(&bytes).map(AppJson)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Shape {
        amount: i64,
        nested: Option<Nested>,
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Nested {
        email: Option<String>,
    }

    fn field_error(body: &str) -> (String, &'static str) {
        let error = parse_json::<Shape>(body.as_bytes()).unwrap_err();
        assert_eq!(error.status().as_u16(), 422, "{body}");
        let errors = error_fields(&error);
        (errors.0, errors.1)
    }

    fn error_fields(error: &ApiError) -> (String, &'static str) {
        let debug = format!("{error:?}");
        let param = debug.split("param: \"").nth(1).unwrap().split('"').next().unwrap().to_owned();
        let code = ["unknown_field", "required", "invalid_type"]
            .into_iter()
            .find(|code| debug.contains(&format!("code: \"{code}\"")))
            .unwrap();
        (param, code)
    }

    #[test]
    fn shape_errors_name_the_field_and_the_problem() {
        assert_eq!(field_error(r#"{"amount":1,"amout":2}"#), ("amout".into(), "unknown_field"));
        assert_eq!(field_error(r#"{"amount":1,"nested":{"mail":"x"}}"#), ("nested.mail".into(), "unknown_field"));
        assert_eq!(field_error(r"{}"), ("amount".into(), "required"));
        assert_eq!(field_error(r#"{"amount":"10"}"#), ("amount".into(), "invalid_type"));
        assert_eq!(field_error(r#"{"amount":10.5}"#), ("amount".into(), "invalid_type"));
    }

    #[test]
    fn malformed_json_and_non_objects_are_invalid_json() {
        for body in ["{", "[1]", "nul", "\"text\""] {
            assert_eq!(parse_json::<Shape>(body.as_bytes()).unwrap_err().status().as_u16(), 400, "{body}");
        }
    }
}
