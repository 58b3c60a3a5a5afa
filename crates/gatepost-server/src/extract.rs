//! Request bodies, read and parsed so that every rejection is a problem of
//! docs/reference/api.md#errors.

use crate::error::{ApiError, FieldError};
use axum::body::{Body, Bytes};
use axum::extract::{FromRequest, FromRequestParts, Path, Query, Request};
use axum::http::request::Parts;
use serde::Deserialize;
use serde::de::{DeserializeOwned, Deserializer, MapAccess, SeqAccess, Visitor};

/// Bodies over 64 KiB are refused with 413 (docs/reference/limits.md#bodies).
pub(crate) const MAX_BODY_BYTES: usize = 64 * 1024;

/// Reads a whole body, refusing it once it passes [`MAX_BODY_BYTES`].
pub(crate) async fn read_body(body: Body) -> Result<Bytes, ApiError> {
    axum::body::to_bytes(body, MAX_BODY_BYTES).await.map_err(|error| {
        let too_large =
            std::error::Error::source(&error).is_some_and(|source| source.is::<http_body_util::LengthLimitError>());
        if too_large {
            ApiError::payload_too_large()
        } else if crate::body_deadline::timed_out(&error) {
            ApiError::request_timeout()
        } else {
            ApiError::invalid_json("The request body could not be read.")
        }
    })
}

/// A JSON body: malformed JSON is 400 `invalid_json`; well-formed JSON of the wrong
/// shape (unknown field, wrong type, missing field) is 422 `validation_failed` naming
/// the field. An empty body reads as `{}`, so optional bodies can be left out.
/// A key that appears twice in one object is malformed too: parsers disagree on which of
/// the two wins, so a body that means one thing to a merchant's proxy could mean another
/// here (docs/reference/limits.md#input).
pub(crate) fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let bytes: &[u8] = if bytes.iter().all(u8::is_ascii_whitespace) { b"{}" } else { bytes };
    let UniqueKeys(value) = serde_json::from_slice(bytes)
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

/// A JSON value read with every object's keys checked to be unique.
struct UniqueKeys(serde_json::Value);

impl<'de> Deserialize<'de> for UniqueKeys {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(UniqueKeysVisitor).map(UniqueKeys)
    }
}

struct UniqueKeysVisitor;

impl<'de> Visitor<'de> for UniqueKeysVisitor {
    type Value = serde_json::Value;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E>(self, value: bool) -> Result<Self::Value, E> {
        Ok(value.into())
    }

    fn visit_i64<E>(self, value: i64) -> Result<Self::Value, E> {
        Ok(value.into())
    }

    fn visit_u64<E>(self, value: u64) -> Result<Self::Value, E> {
        Ok(value.into())
    }

    /// A number with no fraction is a whole number however it is written (`79.0`, `1e3`),
    /// as JSON Schema's `integer` says.
    #[allow(clippy::cast_possible_truncation, clippy::float_cmp)] // checked: whole, and within i64
    fn visit_f64<E>(self, value: f64) -> Result<Self::Value, E> {
        const LIMIT: f64 = 9_007_199_254_740_992.0; // 2^53: every whole f64 below is exact
        if value.fract() == 0.0 && value.abs() <= LIMIT {
            return Ok((value as i64).into());
        }
        Ok(serde_json::Number::from_f64(value).map_or(serde_json::Value::Null, serde_json::Value::Number))
    }

    fn visit_str<E>(self, value: &str) -> Result<Self::Value, E> {
        Ok(value.into())
    }

    fn visit_string<E>(self, value: String) -> Result<Self::Value, E> {
        Ok(value.into())
    }

    fn visit_unit<E>(self) -> Result<Self::Value, E> {
        Ok(serde_json::Value::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut items = Vec::new();
        while let Some(UniqueKeys(item)) = seq.next_element()? {
            items.push(item);
        }
        Ok(items.into())
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut object = serde_json::Map::new();
        while let Some(key) = map.next_key::<String>()? {
            if object.contains_key(&key) {
                return Err(serde::de::Error::custom(format_args!("the key `{key}` appears twice")));
            }
            let UniqueKeys(value) = map.next_value()?;
            object.insert(key, value);
        }
        Ok(object.into())
    }
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

/// `axum::extract::Query`, but answering in problem details: a query string that does not
/// parse (a parameter given twice, bad percent-encoding) is `422 validation_failed`.
pub(crate) struct AppQuery<T>(pub(crate) T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for AppQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        match Query::<T>::from_request_parts(parts, state).await {
            Ok(Query(value)) => Ok(Self(value)),
            Err(rejection) => {
                let message = rejection.body_text();
                let param = message.split('`').nth(1).unwrap_or("query").to_owned();
                let detail = message.rsplit(": ").next().unwrap_or(&message).to_owned();
                Err(ApiError::validation(vec![FieldError::new(param, "invalid_value", detail)]))
            }
        }
    }
}

/// `axum::extract::Path`, but answering in problem details: a path segment that cannot be
/// an id (invalid percent-encoding, not UTF-8) names nothing there is: `404 not_found`.
pub(crate) struct AppPath<T>(pub(crate) T);

impl<S: Send + Sync, T: DeserializeOwned + Send> FromRequestParts<S> for AppPath<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        Path::<T>::from_request_parts(parts, state)
            .await
            .map(|Path(value)| Self(value))
            .map_err(|_| ApiError::not_found("object"))
    }
}

/// For an optional field of a `PATCH` body: tells one sent as `null` (`Some(None)`, remove
/// it) from one left out (`None`, keep it).
pub(crate) fn present<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<Option<String>>, D::Error> {
    Option::<String>::deserialize(deserializer).map(Some)
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
        assert!(parse_json::<Shape>(br#"{"amount":79.0}"#).is_ok(), "a whole number written with a fraction");
        assert!(parse_json::<Shape>(br#"{"amount":1e3}"#).is_ok(), "a whole number written with an exponent");
    }

    #[test]
    fn malformed_json_and_non_objects_are_invalid_json() {
        for body in [
            "{",
            "[1]",
            "nul",
            "\"text\"",
            r#"{"amount":1,"amount":2}"#,
            r#"{"amount":1,"nested":{"email":"a","email":"b"}}"#,
        ] {
            assert_eq!(parse_json::<Shape>(body.as_bytes()).unwrap_err().status().as_u16(), 400, "{body}");
        }
    }
}
