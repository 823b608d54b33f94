//! [`Source`]: one native `EventSource` connection and the listeners on
//! it, owned together: dropping it closes the connection (so the browser's
//! own retry never runs) and removes every listener.

use web_sys::{EventSource, EventSourceInit, EventTarget};

use crate::listener::EventListener;

/// An open (or opening) `EventSource`, closed when dropped.
#[derive(Debug)]
#[must_use = "the connection is closed when dropped"]
pub(crate) struct Source {
    source: EventSource,
    listeners: Vec<EventListener>,
}

impl Source {
    /// Opens `url`, with the last event id as the query parameter `param`
    /// when there is one.
    pub(crate) fn open(
        url: &str,
        param: &str,
        last_event_id: Option<&str>,
        with_credentials: bool,
    ) -> Result<Source, String> {
        let url = resume_url(url, param, last_event_id);
        let init = EventSourceInit::new();
        init.set_with_credentials(with_credentials);
        let source = EventSource::new_with_event_source_init_dict(&url, &init).map_err(|err| {
            err.as_string()
                .unwrap_or_else(|| "could not open EventSource".into())
        })?;
        Ok(Source {
            source,
            listeners: Vec::new(),
        })
    }

    /// Listens for events named `name` with `callback`, unless something
    /// already listens for that name.
    pub(crate) fn listen(&mut self, name: &str, callback: impl FnMut(web_sys::Event) + 'static) {
        if self.listeners.iter().any(|l| l.event_type() == name) {
            return;
        }
        let target: &EventTarget = self.source.as_ref();
        self.listeners
            .push(EventListener::new(target, name, callback));
    }
}

impl Drop for Source {
    fn drop(&mut self) {
        self.source.close();
    }
}

/// `url` with `id` set as the query parameter `param` (replacing any), as
/// the browser's `URLSearchParams` does it.
fn resume_url(url: &str, param: &str, id: Option<&str>) -> String {
    let Some(id) = id else {
        return url.to_owned();
    };
    match web_sys::Url::new(url) {
        Ok(parsed) => {
            parsed.search_params().set(param, id);
            parsed.href()
        }
        Err(_) => url.to_owned(),
    }
}
