//! `GET /sse/counter`, `/sse/demo`, `/sse/perf`: the demo's finite
//! per-connection streams, answered with the public [`Sse`] response.

use std::time::Duration;

use futures_util::stream::BoxStream;
use warp::reply::Response;
use warp::Reply;

use super::Result;
use crate::demo::counter::CounterParams;
use crate::demo::perf::PerfParams;
use crate::demo::{advanced, counter, perf, Resume, MAX_INTERVAL_MS};
use crate::sse::{no_content, Sse, SseEvent};
use crate::web::query::Query;
use crate::web::App;

/// The stream from where the client resumes, or `204` when it already saw
/// the end.
fn resumed_or_ended(
    app: &App,
    resume: Resume,
    stream: impl FnOnce(usize, Option<SseEvent>) -> BoxStream<'static, SseEvent>,
) -> Response {
    match resume {
        Resume::Ended => no_content(),
        Resume::At { index, reset } => Sse::new(stream(index, reset))
            .in_context(&app.sse)
            .into_response(),
    }
}

/// `interval_ms` between `0` and `max`, `default` when absent.
fn interval(query: &Query, default: u64, max: u64) -> Result<Duration> {
    Ok(Duration::from_millis(query.u64_in(
        "interval_ms",
        default,
        0..=max,
    )?))
}

/// `GET /sse/counter`
pub(crate) fn counter(app: &App, query: &Query, last_event_id: Option<&str>) -> Result<Response> {
    let params = CounterParams {
        count: query.u64_in("count", counter::DEFAULT_COUNT, 1..=counter::MAX_COUNT)?,
        interval: interval(query, counter::DEFAULT_INTERVAL_MS, MAX_INTERVAL_MS)?,
    };
    let resume = counter::resume(&params, last_event_id);
    Ok(resumed_or_ended(app, resume, |i, r| {
        counter::stream(params, i, r)
    }))
}

/// `GET /sse/demo`
pub(crate) fn demo(app: &App, query: &Query, last_event_id: Option<&str>) -> Result<Response> {
    let interval = interval(query, advanced::DEFAULT_INTERVAL_MS, MAX_INTERVAL_MS)?;
    Ok(resumed_or_ended(
        app,
        advanced::resume(last_event_id),
        |i, r| advanced::stream(interval, i, r),
    ))
}

/// `GET /sse/perf`
pub(crate) fn perf(app: &App, query: &Query, last_event_id: Option<&str>) -> Result<Response> {
    let params = PerfParams {
        count: query.u64_in("count", perf::DEFAULT_COUNT, 1..=perf::MAX_COUNT)?,
        interval: interval(query, perf::DEFAULT_INTERVAL_MS, perf::MAX_INTERVAL_MS)?,
    };
    let resume = perf::resume(&params, last_event_id);
    Ok(resumed_or_ended(app, resume, |i, r| {
        perf::stream(params, i, r)
    }))
}
