//! Every request body must arrive whole within `GATEPOST_HTTP__BODY_TIMEOUT` of its head
//! (docs/reference/limits.md#connections). A client that dribbles its body is answered
//! `408` — problem+json on the API, a page on `/pay` — by whoever reads the body.

use crate::AppState;
use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::Response;
use hyper::body::{Body as HttpBody, Frame, SizeHint};
use std::pin::Pin;
use std::task::{Context, Poll};
use tokio::time::Sleep;

/// The error a body yields once its deadline has passed; readers answer it with `408`.
#[derive(Debug, thiserror::Error)]
#[error("the request body did not arrive in time")]
pub(crate) struct BodyTimedOut;

/// Whether reading a body failed because its deadline passed.
pub(crate) fn timed_out(error: &axum::Error) -> bool {
    let mut source = std::error::Error::source(error);
    while let Some(error) = source {
        if error.is::<BodyTimedOut>() {
            return true;
        }
        source = error.source();
    }
    false
}

/// Middleware: gives the request's body its deadline. An answer given without reading the
/// whole body (too large, or too slow) says `Connection: close`: the connection is closed
/// after it, and a client that sees the header does not send its next request on it.
pub(crate) async fn apply(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let timeout = state.settings().limits.body_timeout;
    let request =
        request.map(|body| Body::new(DeadlineBody { inner: body, deadline: Box::pin(tokio::time::sleep(timeout)) }));
    let mut response = next.run(request).await;
    if matches!(response.status(), StatusCode::PAYLOAD_TOO_LARGE | StatusCode::REQUEST_TIMEOUT) {
        response.headers_mut().insert(header::CONNECTION, HeaderValue::from_static("close"));
    }
    response
}

struct DeadlineBody {
    inner: Body,
    deadline: Pin<Box<Sleep>>,
}

impl HttpBody for DeadlineBody {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        if let Poll::Ready(frame) = Pin::new(&mut self.inner).poll_frame(cx) {
            return Poll::Ready(frame);
        }
        match self.deadline.as_mut().poll(cx) {
            Poll::Ready(()) => Poll::Ready(Some(Err(axum::Error::new(BodyTimedOut)))),
            Poll::Pending => Poll::Pending,
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}
