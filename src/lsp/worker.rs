//! The analysis worker thread, and the one queue of events the main loop
//! waits on: messages from the client (forwarded from the connection) and
//! finished analyses. Analysing on the side keeps completion and other
//! requests answered while a large file is being checked.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::sync::mpsc::{Receiver, Sender, channel};

use lsp_server::{Connection, Message};
use lsp_types::Uri;

use super::docs::Documents;
use super::panic_text;
use super::snapshot::Snapshot;
use crate::syntax::ParseCache;

/// What the main loop reacts to.
pub enum Event {
    Message(Message),
    /// The client closed the connection.
    Closed,
    /// An analysis finished (or panicked, with the panic's text).
    Snapshot(Uri, Result<Box<Snapshot>, String>),
}

/// One buffer to analyse, with a snapshot of every open buffer (for imports).
pub struct Job {
    pub uri: Uri,
    pub docs: Documents,
    pub stamp: u64,
}

/// Starts the forwarder and the worker; returns the job queue and the event queue.
pub fn start(conn: &Connection, parses: Arc<ParseCache>) -> (Sender<Job>, Receiver<Event>) {
    let (events, rx) = channel();
    let forward = events.clone();
    let messages = conn.receiver.clone();
    std::thread::spawn(move || {
        for msg in messages.iter() {
            if forward.send(Event::Message(msg)).is_err() {
                return;
            }
        }
        let _ = forward.send(Event::Closed);
    });
    let (jobs, job_rx) = channel::<Job>();
    std::thread::spawn(move || {
        for job in job_rx.iter() {
            let run = catch_unwind(AssertUnwindSafe(|| {
                let doc = job.docs.get(&job.uri)?;
                Some(Snapshot::new(&job.uri, doc, &job.docs, job.stamp, &parses))
            }));
            let result = match run {
                Ok(Some(a)) => Ok(Box::new(a)),
                Ok(None) => continue,
                Err(panic) => Err(panic_text(&*panic)),
            };
            if events.send(Event::Snapshot(job.uri, result)).is_err() {
                return;
            }
        }
    });
    (jobs, rx)
}
