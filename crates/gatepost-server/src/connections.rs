//! Serving HTTP/1.1 connections with the limits of docs/reference/limits.md#connections:
//! at most `max_connections` at once (the rest wait in the listener's accept queue), a
//! request head must arrive whole within `header_timeout` of its first byte (or of the
//! connection's start), and a keep-alive connection with nothing to do is closed after
//! `idle_timeout`. Body deadlines are the router's (`body_deadline`), where the answer
//! can be a `408` in the route's own format.
//!
//! hyper's own header timeout also runs while a keep-alive connection waits for its next
//! request, which would make the idle timeout the header timeout; so both deadlines are
//! kept here, on the socket, from what the connection is doing.

use axum::Router;
use axum::extract::ConnectInfo;
use futures_util::task::AtomicWaker;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, ready};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;
use tokio::time::{Instant, Sleep};
use tower::ServiceExt as _;

/// The connection limits of `GATEPOST_HTTP__*`.
#[derive(Clone, Copy, Debug)]
pub struct ConnectionLimits {
    pub header_timeout: Duration,
    pub idle_timeout: Duration,
    pub max_connections: usize,
}

/// How long shutdown waits for connections to finish their requests.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(30);

/// Serves `router` on `listener` until `shutdown` resolves, then stops accepting, lets the
/// requests in flight finish (at most [`SHUTDOWN_GRACE`]) and returns.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: ConnectionLimits,
    shutdown: impl Future<Output = ()> + Send,
) -> io::Result<()> {
    let slots = Arc::new(Semaphore::new(limits.max_connections));
    let graceful = GracefulShutdown::new();
    let mut http = hyper::server::conn::http1::Builder::new();
    // hyper's own header timeout (30 s once a timer is set) also runs while a keep-alive
    // connection waits for its next request; the deadlines here replace it.
    http.timer(TokioTimer::new()).header_read_timeout(None);
    tokio::pin!(shutdown);
    loop {
        // A connection over the cap is not accepted: it waits in the kernel's queue.
        let slot = tokio::select! {
            slot = Arc::clone(&slots).acquire_owned() => slot.expect("the semaphore is never closed"),
            () = &mut shutdown => break,
        };
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    // Out of file descriptors and the like: wait, rather than spin.
                    tracing::warn!(%error, "could not accept a connection");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let _ = stream.set_nodelay(true);
        let activity = Arc::new(Activity::new());
        let io = TokioIo::new(TimedStream::new(stream, Arc::clone(&activity), limits));
        let router = router.clone();
        let service = hyper::service::service_fn(move |mut request: hyper::Request<Incoming>| {
            request.extensions_mut().insert(ConnectInfo(peer));
            let router = router.clone();
            let busy = Busy::start(Arc::clone(&activity));
            async move {
                // The connection stays busy until the answer's body is sent, however long a
                // client that keeps reading takes; the write deadline covers one that stops.
                let response = router.oneshot(request.map(axum::body::Body::new)).await;
                response.map(|response| response.map(|body| axum::body::Body::new(BusyBody { body, _busy: busy })))
            }
        });
        let connection = graceful.watch(http.serve_connection(io, service));
        tokio::spawn(async move {
            // A client that goes away, or is timed out, ends its connection: nothing to report.
            let _ = connection.await;
            drop(slot);
        });
    }
    drop(listener);
    if tokio::time::timeout(SHUTDOWN_GRACE, graceful.shutdown()).await.is_err() {
        tracing::warn!("connections still open after the shutdown grace period");
    }
    Ok(())
}

/// What a connection is doing, which decides its deadline.
#[derive(Clone, Copy, Debug)]
enum Phase {
    /// Waiting for, or reading, a request head since then: `header_timeout`.
    Head(Instant),
    /// Between requests since then: `idle_timeout`.
    Idle(Instant),
    /// Requests are being handled; the handler and the body deadline bound them.
    Busy(usize),
}

#[derive(Debug)]
struct Activity {
    phase: Mutex<Phase>,
    /// The read that waits while requests are handled, woken when they are done so that
    /// it arms the idle deadline.
    reader: AtomicWaker,
}

impl Activity {
    fn new() -> Self {
        Self { phase: Mutex::new(Phase::Head(Instant::now())), reader: AtomicWaker::new() }
    }

    fn phase(&self) -> Phase {
        *self.phase.lock().expect("activity lock")
    }

    /// Bytes arrived: on an idle connection they start a request head.
    fn bytes_read(&self) {
        let mut phase = self.phase.lock().expect("activity lock");
        if let Phase::Idle(_) = *phase {
            *phase = Phase::Head(Instant::now());
        }
    }
}

/// A request being handled, from its parsed head to its response.
struct Busy(Arc<Activity>);

impl Busy {
    fn start(activity: Arc<Activity>) -> Self {
        {
            let mut phase = activity.phase.lock().expect("activity lock");
            *phase = match *phase {
                Phase::Busy(n) => Phase::Busy(n + 1),
                _ => Phase::Busy(1),
            };
        }
        Self(activity)
    }
}

impl Drop for Busy {
    fn drop(&mut self) {
        let activity = &self.0;
        {
            let mut phase = activity.phase.lock().expect("activity lock");
            *phase = match *phase {
                Phase::Busy(n) if n > 1 => Phase::Busy(n - 1),
                _ => Phase::Idle(Instant::now()),
            };
        }
        activity.reader.wake();
    }
}

/// A response body that keeps its connection busy until it is sent or dropped.
struct BusyBody {
    body: axum::body::Body,
    _busy: Busy,
}

impl hyper::body::Body for BusyBody {
    type Data = axum::body::Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<hyper::body::Frame<Self::Data>, Self::Error>>> {
        Pin::new(&mut self.body).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> hyper::body::SizeHint {
        self.body.size_hint()
    }
}

/// A TCP stream whose reads fail with `TimedOut` once the connection's deadline passes
/// while it waits for bytes, and whose writes fail once a client has taken nothing for
/// `idle_timeout`. hyper then closes the connection.
struct TimedStream {
    inner: TcpStream,
    activity: Arc<Activity>,
    limits: ConnectionLimits,
    read_deadline: Pin<Box<Sleep>>,
    write_deadline: Option<Pin<Box<Sleep>>>,
}

impl TimedStream {
    fn new(inner: TcpStream, activity: Arc<Activity>, limits: ConnectionLimits) -> Self {
        let read_deadline = Box::pin(tokio::time::sleep(limits.header_timeout));
        Self { inner, activity, limits, read_deadline, write_deadline: None }
    }

    /// When a read that waits now must have its bytes, if ever.
    fn deadline(&self) -> Option<Instant> {
        match self.activity.phase() {
            Phase::Head(since) => Some(since + self.limits.header_timeout),
            Phase::Idle(since) => Some(since + self.limits.idle_timeout),
            Phase::Busy(_) => None,
        }
    }
}

impl TimedStream {
    /// A write that has waited `idle_timeout` for the client to take bytes fails; one that
    /// made progress resets the wait.
    fn within_write_deadline(
        &mut self,
        cx: &mut Context<'_>,
        written: Poll<io::Result<usize>>,
    ) -> Poll<io::Result<usize>> {
        if written.is_ready() {
            self.write_deadline = None;
            return written;
        }
        let idle = self.limits.idle_timeout;
        let deadline = self.write_deadline.get_or_insert_with(|| Box::pin(tokio::time::sleep(idle)));
        ready!(deadline.as_mut().poll(cx));
        Poll::Ready(Err(timed_out("the client took nothing in time")))
    }
}

fn timed_out(what: &str) -> io::Error {
    io::Error::new(io::ErrorKind::TimedOut, what.to_owned())
}

impl AsyncRead for TimedStream {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        match Pin::new(&mut self.inner).poll_read(cx, buf) {
            Poll::Ready(Ok(())) => {
                if buf.filled().len() > before {
                    self.activity.bytes_read();
                }
                Poll::Ready(Ok(()))
            }
            Poll::Ready(Err(error)) => Poll::Ready(Err(error)),
            Poll::Pending => {
                self.activity.reader.register(cx.waker());
                let Some(deadline) = self.deadline() else { return Poll::Pending };
                if self.read_deadline.deadline() != deadline {
                    self.read_deadline.as_mut().reset(deadline);
                }
                ready!(self.read_deadline.as_mut().poll(cx));
                Poll::Ready(Err(timed_out("the client sent nothing in time")))
            }
        }
    }
}

impl AsyncWrite for TimedStream {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, data: &[u8]) -> Poll<io::Result<usize>> {
        let written = Pin::new(&mut self.inner).poll_write(cx, data);
        self.within_write_deadline(cx, written)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let written = Pin::new(&mut self.inner).poll_write_vectored(cx, bufs);
        self.within_write_deadline(cx, written)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }
}

/// The client's address, as handlers see it.
pub(crate) type Peer = ConnectInfo<SocketAddr>;
