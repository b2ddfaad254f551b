//! `GET /events`: recorded events since `since`, then live ones, until `until` (or the
//! client leaves), filtered like the daemon filters them.

use std::time::Duration;

use futures_util::stream::{self, StreamExt};
use moby_api::v1_41::models::{EventMessage, EventMessageType};
use moby_api::v1_41::params::SystemEventsParams;
use moby_api_runtime::server::{ApiError, Filters, StreamBody};

use crate::clock::{now_nanos, parse_timestamp};
use crate::engine::Engine;

struct Cursor {
    engine: Engine,
    next: usize,
    since: Option<i64>,
    until: Option<i64>,
    filters: Filters,
}

pub(crate) fn events(engine: &Engine, params: SystemEventsParams) -> Result<StreamBody, ApiError> {
    let time = |name: &str, value: Option<String>| match value.filter(|v| !v.is_empty()) {
        None => Ok(None),
        Some(v) => parse_timestamp(&v).map(Some).ok_or_else(|| ApiError::invalid_argument(format!("invalid value for {name}: {v:?}"))),
    };
    let since = time("since", params.since)?;
    let until = time("until", params.until)?;
    if let (Some(since), Some(until)) = (since, until) {
        if since > until {
            return Err(ApiError::invalid_argument("`since` time must be before `until` time"));
        }
    }
    // Without `since` only what happens from now on is sent.
    let next = if since.is_some() { 0 } else { engine.read(|state| state.events.len()) };
    let mut filters = params.filters.unwrap_or_default();
    filters.remove("label!");
    let cursor = Cursor { engine: engine.clone(), next, since, until, filters };
    Ok(StreamBody::json_lines(stream::unfold(cursor, next_batch).flat_map(stream::iter)))
}

async fn next_batch(mut cursor: Cursor) -> Option<(Vec<EventMessage>, Cursor)> {
    loop {
        let mut changes = cursor.engine.subscribe();
        let batch: Vec<EventMessage> = cursor.engine.read(|state| {
            let new = state.events[cursor.next.min(state.events.len())..]
                .iter()
                .filter(|e| in_window(e, cursor.since, cursor.until) && matches(e, &cursor.filters))
                .cloned()
                .collect();
            cursor.next = state.events.len();
            new
        });
        if !batch.is_empty() {
            return Some((batch, cursor));
        }
        // Events are stamped under the lock that was just released, so once `until` has
        // passed nothing in the window can still arrive.
        let remaining = cursor.until.map(|until| until - now_nanos());
        if remaining.is_some_and(|r| r < 0) || cursor.engine.is_shutting_down() {
            return None;
        }
        let deadline = async {
            match remaining {
                Some(r) => tokio::time::sleep(Duration::from_nanos(u64::try_from(r).unwrap_or(0) + 1)).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            changed = changes.changed() => if changed.is_err() { return None },
            () = deadline => {}
        }
    }
}

fn in_window(event: &EventMessage, since: Option<i64>, until: Option<i64>) -> bool {
    let time = event.time_nano.unwrap_or(0);
    since.is_none_or(|s| time >= s) && until.is_none_or(|u| time <= u)
}

/// The daemon's event filters: `type`, `event`, `container`, `image`, `volume`, `network`,
/// `label` (all terms), `scope`; one term of each other key must match. Unknown keys are
/// ignored, like `label!` (removed by [`events`]), as the daemon ignores them for events.
pub(crate) fn matches(event: &EventMessage, filters: &Filters) -> bool {
    let kind = event.r#type.clone();
    let actor_id = event.actor.as_ref().and_then(|a| a.id.clone()).unwrap_or_default();
    let attributes = event.actor.as_ref().and_then(|a| a.attributes.clone()).unwrap_or_default();
    let name = attributes.get("name").cloned().unwrap_or_default();
    let action = event.action.clone().unwrap_or_default();
    let is = |t: EventMessageType| kind.as_ref() == Some(&t);
    let object = |t: EventMessageType, value: &str| is(t) && (actor_id.starts_with(value) || name == value);
    let image = attributes.get("image").cloned().unwrap_or_default();
    filters.matches_labels(&attributes)
        && filters.matches_any("type", |value| kind.as_ref().is_some_and(|k| k.to_string() == value))
        // `exec_start: sh -c …` matches `exec_start`.
        && filters.matches_any("event", |value| action == value || action.split(':').next() == Some(value))
        && filters.matches_any("container", |value| object(EventMessageType::Container, value))
        && filters.matches_any("image", |value| {
            (is(EventMessageType::Image) && (actor_id.starts_with(value) || name == value))
                || (is(EventMessageType::Container) && (image == value || crate::images::normalize(&image) == crate::images::normalize(value)))
        })
        && filters.matches_any("volume", |value| object(EventMessageType::Volume, value))
        && filters.matches_any("network", |value| object(EventMessageType::Network, value))
        && filters.matches_any("scope", |value| value == "local")
}
