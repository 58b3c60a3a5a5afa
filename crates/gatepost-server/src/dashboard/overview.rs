//! `GET /dashboard`: how the merchant's payments and webhooks went over the last day or
//! week (docs/reference/dashboard.md#overview), from grouped counts over an id range that
//! the indexes answer.

use super::charts::bar_chart;
use super::pages::{Frame, Section, html};
use super::session::Viewer;
use crate::AppState;
use crate::hpp::CspNonce;
use askama::Template;
use axum::Extension;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use gatepost_core::delivery::DeliveryStatus;
use gatepost_core::endpoints::EndpointStatus;
use gatepost_core::money::{Currency, format_minor};
use gatepost_core::names::Named as _;
use gatepost_core::status::PaymentStatus;
use gatepost_store::OVERVIEW_SAMPLE;
use serde::Deserialize;
use std::collections::BTreeMap;

#[derive(Template)]
#[template(path = "dashboard/overview.html")]
struct OverviewPage {
    frame: Frame,
    window: &'static str,
    /// The other window's query value and name.
    other_window: (&'static str, &'static str),
    total: u64,
    /// The window holds more payments than the overview counts: the figures are of the
    /// newest [`OVERVIEW_SAMPLE`].
    sampled: bool,
    /// Event made → delivered, p50 and p99, as text.
    latency: (String, String),
    succeeded: u64,
    conversion: String,
    webhook_success: String,
    backlog: u64,
    failing_endpoints: usize,
    status_chart: String,
    /// Currency, payments, formatted volume.
    volumes: Vec<(String, u64, String)>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct OverviewParams {
    window: Option<String>,
}

/// The `p`th percentile of sorted milliseconds, as people read it: `12 ms`, `1.5 s`, or `–`.
fn percentile(sorted: &[i64], p: usize) -> String {
    if sorted.is_empty() {
        return "–".to_owned();
    }
    let at = (sorted.len() * p).div_ceil(100).saturating_sub(1).min(sorted.len() - 1);
    let millis = sorted[at].max(0);
    if millis < 1000 {
        format!("{millis} ms")
    } else {
        #[allow(clippy::cast_precision_loss)] // milliseconds far below 2^52
        let seconds = millis as f64 / 1000.0;
        format!("{seconds:.1} s")
    }
}

/// A share as people read it: `97.5 %`, or `–` when there is nothing to divide.
fn percent(part: u64, whole: u64) -> String {
    if whole == 0 {
        return "–".to_owned();
    }
    #[allow(clippy::cast_precision_loss)] // counts far below 2^52
    let share = part as f64 * 100.0 / whole as f64;
    format!("{share:.1} %")
}

pub(crate) async fn show(
    State(state): State<AppState>,
    Extension(nonce): Extension<CspNonce>,
    viewer: Viewer,
    Query(params): Query<OverviewParams>,
) -> Response {
    let week = params.window.as_deref() == Some("7d");
    let (window, other_window, hours) =
        if week { ("7 days", ("24h", "24 hours"), 7 * 24) } else { ("24 hours", ("7d", "7 days"), 24) };
    let since = state.clock().now().plus_seconds(-hours * 3600);
    let merchant = viewer.user.merchant_id.clone();
    let frame = Frame::new(&state, &nonce, Some(viewer), Section::Overview);
    let store = state.store();
    let (payments, events, endpoints, mut latencies) = match tokio::try_join!(
        store.payment_totals(&merchant, since),
        store.event_totals(&merchant, since),
        store.webhook_endpoints(&merchant),
        store.delivery_latencies(&merchant, since),
    ) {
        Ok(found) => found,
        Err(error) => return super::pages::failure(frame, &error),
    };
    let mut by_status: BTreeMap<&'static str, u64> = PaymentStatus::ALL.iter().map(|s| (s.as_str(), 0)).collect();
    let mut volumes: BTreeMap<String, (u64, i64)> = BTreeMap::new();
    for total in &payments {
        *by_status.entry(total.status.as_str()).or_default() += total.count;
        if matches!(total.status, PaymentStatus::Success | PaymentStatus::Refunded) {
            let volume = volumes.entry(total.currency.clone()).or_default();
            volume.0 += total.count;
            volume.1 = volume.1.saturating_add(total.amount);
        }
    }
    let count = |status: PaymentStatus| by_status.get(status.as_str()).copied().unwrap_or(0);
    let succeeded = count(PaymentStatus::Success) + count(PaymentStatus::Authorized) + count(PaymentStatus::Refunded);
    let finished =
        succeeded + count(PaymentStatus::Failed) + count(PaymentStatus::Cancelled) + count(PaymentStatus::Expired);
    let event_count = |status: DeliveryStatus| events.iter().filter(|(s, _)| *s == status).map(|(_, n)| n).sum::<u64>();
    let delivered = event_count(DeliveryStatus::Delivered);
    let backlog = event_count(DeliveryStatus::Pending);
    let ended = delivered + event_count(DeliveryStatus::Failed) + event_count(DeliveryStatus::Skipped);
    let bars: Vec<(String, u64)> = PaymentStatus::ALL.iter().map(|s| (s.as_str().to_owned(), count(*s))).collect();
    latencies.sort_unstable();
    let total: u64 = payments.iter().map(|t| t.count).sum();
    let page = OverviewPage {
        frame,
        window,
        other_window,
        total,
        sampled: total >= u64::from(OVERVIEW_SAMPLE),
        latency: (percentile(&latencies, 50), percentile(&latencies, 99)),
        succeeded,
        conversion: percent(succeeded, finished),
        webhook_success: percent(delivered, ended),
        backlog,
        failing_endpoints: endpoints.iter().filter(|e| e.status == EndpointStatus::Disabled).count(),
        status_chart: bar_chart("Payments by status", &bars),
        volumes: volumes
            .into_iter()
            .map(|(currency, (n, amount))| {
                let shown = Currency::parse(&currency)
                    .map_or_else(|| format!("{amount} {currency}"), |c| format_minor(amount, c));
                (currency, n, shown)
            })
            .collect(),
    };
    html(StatusCode::OK, &page)
}

#[cfg(test)]
mod tests {
    use super::{percent, percentile};

    #[test]
    fn percentiles_and_shares_read_as_people_write_them() {
        let waits: Vec<i64> = (1..=100).collect();
        assert_eq!(percentile(&waits, 50), "50 ms");
        assert_eq!(percentile(&waits, 99), "99 ms");
        assert_eq!(percentile(&[1500], 99), "1.5 s");
        assert_eq!(percentile(&[], 50), "–");
        assert_eq!(percent(1, 3), "33.3 %");
        assert_eq!(percent(0, 0), "–");
    }
}
