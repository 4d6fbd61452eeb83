//! `sdbc lsp`: the language server. The only module that speaks LSP.
//!
//! One thread runs the loop: it applies edits as they come and hands a
//! changed buffer to the analysis worker (one analysis at a time, so a
//! burst of keystrokes costs one or two analyses, not one each).
//! Each file is parsed incrementally from its last parse (only the items
//! an edit can have changed are parsed again, see `syntax::reparse`).
//! Completion answers from the buffer's text and its last analysis without
//! waiting; hover, go-to and symbols analyse at once if the buffer changed.
//! The analysis is exactly `sdbc check`'s, so the editor shows the very
//! diagnostics `check --format json` prints. Every handler runs under
//! `catch_unwind`: a bug answers an error instead of killing the server.

// `lsp_types::Uri` caches parsed parts inside, which clippy takes for
// mutability; its `Hash` and `Ord` use only its text, which never changes.
#![allow(clippy::mutable_key_type)]

mod complete;
mod context;
mod convert;
mod diagnostics;
mod docs;
mod find;
mod hover;
mod navigate;
mod requests;
mod snapshot;
mod symbols;
mod sync;
mod worker;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::sync::mpsc::{Receiver, Sender};

use lsp_server::{Connection, ErrorCode, Message, Notification, Request, Response};
use lsp_types::notification::{self as note, Notification as _};
use lsp_types::request::{self as req, Request as _};
use lsp_types::{
    CompletionOptions, HoverProviderCapability, OneOf, PublishDiagnosticsParams, SaveOptions,
    ServerCapabilities, TextDocumentSyncCapability, TextDocumentSyncKind, TextDocumentSyncOptions,
    TextDocumentSyncSaveOptions, Uri,
};
use serde_json::Value;

use crate::syntax::ParseCache;
use docs::Documents;
use snapshot::Snapshot;
use worker::Event;

/// Runs the server on stdin/stdout until `exit`.
pub fn run_stdio() -> Result<(), String> {
    let (connection, io_threads) = Connection::stdio();
    let result = serve(&connection);
    drop(connection);
    io_threads.join().map_err(|e| e.to_string())?;
    result
}

/// Runs the server on a connection: initialize, then the main loop.
pub fn serve(connection: &Connection) -> Result<(), String> {
    let caps = serde_json::to_value(capabilities()).map_err(|e| e.to_string())?;
    connection.initialize(caps).map_err(|e| e.to_string())?;
    let parses = Arc::new(ParseCache::default());
    let (jobs, events) = worker::start(connection, Arc::clone(&parses));
    let mut server = Server {
        conn: connection,
        docs: Documents::default(),
        analyzed: HashMap::new(),
        dirty: BTreeSet::new(),
        contributions: BTreeMap::new(),
        sent: HashMap::new(),
        jobs,
        in_flight: None,
        stamp: 0,
        parses,
    };
    server.main_loop(&events)
}

fn capabilities() -> ServerCapabilities {
    ServerCapabilities {
        text_document_sync: Some(TextDocumentSyncCapability::Options(
            TextDocumentSyncOptions {
                open_close: Some(true),
                change: Some(TextDocumentSyncKind::INCREMENTAL),
                save: Some(TextDocumentSyncSaveOptions::SaveOptions(SaveOptions {
                    include_text: Some(false),
                })),
                ..TextDocumentSyncOptions::default()
            },
        )),
        hover_provider: Some(HoverProviderCapability::Simple(true)),
        definition_provider: Some(OneOf::Left(true)),
        references_provider: Some(OneOf::Left(true)),
        completion_provider: Some(CompletionOptions {
            trigger_characters: Some(vec![".".into(), "=".into(), "\"".into()]),
            ..CompletionOptions::default()
        }),
        document_formatting_provider: Some(OneOf::Left(true)),
        document_symbol_provider: Some(OneOf::Left(true)),
        ..ServerCapabilities::default()
    }
}

/// A request's failure, answered as an error response.
struct Failure {
    code: ErrorCode,
    message: String,
}

type Answer = Result<Value, Failure>;

struct Server<'c> {
    conn: &'c Connection,
    docs: Documents,
    analyzed: HashMap<Uri, Snapshot>,
    /// Open buffers whose analysis is out of date.
    dirty: BTreeSet<Uri>,
    /// Diagnostics that open roots found in files that are not open: file -> root -> list.
    contributions: BTreeMap<Uri, BTreeMap<Uri, Vec<lsp_types::Diagnostic>>>,
    /// What was last published for each file not open itself.
    sent: HashMap<Uri, Vec<lsp_types::Diagnostic>>,
    jobs: Sender<worker::Job>,
    /// The buffer the worker is analysing.
    in_flight: Option<Uri>,
    /// Analyses started so far.
    stamp: u64,
    /// The last parse of each file, shared with the worker.
    parses: Arc<ParseCache>,
}

impl Server<'_> {
    fn main_loop(&mut self, events: &Receiver<Event>) -> Result<(), String> {
        let mut shutting_down = false;
        loop {
            self.schedule();
            let msg = match events.recv() {
                Ok(Event::Message(msg)) => msg,
                Ok(Event::Snapshot(uri, result)) => {
                    self.finished(uri, result);
                    continue;
                }
                Ok(Event::Closed) | Err(_) => return Err(String::from("the client went away")),
            };
            match msg {
                Message::Request(r) if r.method == req::Shutdown::METHOD => {
                    shutting_down = true;
                    self.send(Response::new_ok(r.id, ()).into());
                }
                Message::Request(r) if shutting_down => {
                    let message = String::from("the server is shutting down");
                    let code = ErrorCode::InvalidRequest as i32;
                    self.send(Response::new_err(r.id, code, message).into());
                }
                Message::Request(r) => self.request(r),
                Message::Notification(n) if n.method == note::Exit::METHOD => {
                    return match shutting_down {
                        true => Ok(()),
                        false => Err(String::from("exit without shutdown")),
                    };
                }
                Message::Notification(n) => self.notification(n),
                Message::Response(_) => {}
            }
        }
    }

    fn send(&self, msg: Message) {
        // A closed channel means the client is gone; the loop ends on its own.
        let _ = self.conn.sender.send(msg);
    }

    fn log(&self, text: String) {
        let params = lsp_types::LogMessageParams {
            typ: lsp_types::MessageType::ERROR,
            message: text,
        };
        self.send(Notification::new(note::LogMessage::METHOD.into(), params).into());
    }

    fn request(&mut self, r: Request) {
        let id = r.id.clone();
        let method = r.method.clone();
        let answer = catch_unwind(AssertUnwindSafe(|| self.dispatch(r)));
        let response = match answer {
            Ok(Ok(value)) => Response::new_ok(id, value),
            Ok(Err(f)) => Response::new_err(id, f.code as i32, f.message),
            Err(panic) => {
                let message = format!("sdbc bug answering {method}: {}", panic_text(&*panic));
                self.log(message.clone());
                Response::new_err(id, ErrorCode::InternalError as i32, message)
            }
        };
        self.send(response.into());
    }

    fn notification(&mut self, n: Notification) {
        let method = n.method.clone();
        if let Err(panic) = catch_unwind(AssertUnwindSafe(|| self.notify(n))) {
            self.log(format!(
                "sdbc bug handling {method}: {}",
                panic_text(&*panic)
            ));
        }
    }
}

fn panic_text(panic: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = panic.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = panic.downcast_ref::<String>() {
        s.clone()
    } else {
        String::from("panic")
    }
}

/// Sends a file's diagnostics.
fn publish(
    conn: &Connection,
    uri: Uri,
    diagnostics: Vec<lsp_types::Diagnostic>,
    version: Option<i32>,
) {
    let params = PublishDiagnosticsParams {
        uri,
        diagnostics,
        version,
    };
    let _ = conn
        .sender
        .send(Notification::new(note::PublishDiagnostics::METHOD.into(), params).into());
}
