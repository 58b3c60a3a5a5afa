//! What every list endpoint shares (docs/reference/api.md#lists): `limit` and
//! `starting_after`, filters that answer 422 naming the bad one, and the
//! `{"object":"list"}` envelope.

use crate::ApiError;
use crate::error::FieldError;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use gatepost_store::Page;
use serde::Serialize;

const DEFAULT_LIMIT: u32 = 20;
const MAX_LIMIT: u32 = 100;

/// Collects the problems of a query string while its values are parsed.
#[derive(Default)]
pub(crate) struct QueryParams {
    errors: Vec<FieldError>,
}

impl QueryParams {
    /// `?limit=1..100`, default 20.
    pub(crate) fn limit(&mut self, text: Option<&str>) -> u32 {
        match text.map(str::parse::<u32>) {
            None => DEFAULT_LIMIT,
            Some(Ok(limit)) if (1..=MAX_LIMIT).contains(&limit) => limit,
            Some(_) => {
                self.errors.push(FieldError::new("limit", "out_of_range", "must be between 1 and 100"));
                DEFAULT_LIMIT
            }
        }
    }

    /// An optional filter; a value that does not parse is a problem named `param`.
    pub(crate) fn parse<T>(
        &mut self,
        param: &str,
        text: Option<&str>,
        parse: impl FnOnce(&str) -> Option<T>,
        expected: &str,
    ) -> Option<T> {
        let text = text?;
        let value = parse(text);
        if value.is_none() {
            self.errors.push(FieldError::new(param, "invalid_value", format!("must be {expected}")));
        }
        value
    }

    /// A free-text filter, matched as it is; control characters are refused
    /// (docs/reference/limits.md#input).
    pub(crate) fn text(&mut self, param: &str, text: Option<String>) -> Option<String> {
        let text = text?;
        let problem = if text.is_empty() {
            "must not be empty"
        } else if !gatepost_core::text::is_clean(&text, false) {
            "must not contain control characters"
        } else {
            return Some(text);
        };
        self.errors.push(FieldError::new(param, "invalid_value", problem));
        None
    }

    pub(crate) fn finish(self) -> Result<(), ApiError> {
        if self.errors.is_empty() { Ok(()) } else { Err(ApiError::validation(self.errors)) }
    }
}

/// A page of a list, newest first.
#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct List<T> {
    /// Always `list`.
    #[schema(value_type = String)]
    object: &'static str,
    data: Vec<T>,
    has_more: bool,
}

impl<T> From<Page<T>> for List<T> {
    fn from(page: Page<T>) -> Self {
        Self { object: "list", data: page.data, has_more: page.has_more }
    }
}

/// JSON with a status, serialized once.
pub(crate) fn json_response(status: StatusCode, body: &impl Serialize) -> Response {
    let body = serde_json::to_vec(body).expect("API objects serialize");
    (status, [(header::CONTENT_TYPE, "application/json")], body).into_response()
}
