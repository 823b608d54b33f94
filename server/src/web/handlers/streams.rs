//! `GET /sse/counter`, `/sse/demo`, `/sse/perf`: the demo's finite
//! per-connection streams, answered with the public [`Sse`] response.

use futures_util::stream::BoxStream;
use warp::reply::Response;
use warp::Reply;

use super::Result;
use crate::demo::{advanced, counter, perf, Resume};
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

/// `GET /sse/counter`
pub(crate) fn counter(app: &App, query: &Query, last_event_id: Option<&str>) -> Result<Response> {
    let params = counter::CounterParams::from_query(query)?;
    let resume = counter::resume(&params, last_event_id);
    Ok(resumed_or_ended(app, resume, |i, r| {
        counter::stream(params, i, r)
    }))
}

/// `GET /sse/demo`
pub(crate) fn demo(app: &App, query: &Query, last_event_id: Option<&str>) -> Result<Response> {
    let interval = advanced::interval_from_query(query)?;
    Ok(resumed_or_ended(
        app,
        advanced::resume(last_event_id),
        |i, r| advanced::stream(interval, i, r),
    ))
}

/// `GET /sse/perf`
pub(crate) fn perf(app: &App, query: &Query, last_event_id: Option<&str>) -> Result<Response> {
    let params = perf::PerfParams::from_query(query)?;
    let resume = perf::resume(&params, last_event_id);
    Ok(resumed_or_ended(app, resume, |i, r| {
        perf::stream(params, i, r)
    }))
}
