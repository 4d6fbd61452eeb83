//! Keeping buffers, analyses and published diagnostics in step with the
//! editor: open, change (full or incremental), save and close.
//!
//! A buffer's own analysis decides the diagnostics of its URI. A file that
//! is not open but is imported by open buffers shows the union of what
//! their analyses found in it; closing a buffer clears its diagnostics.

use std::panic::{AssertUnwindSafe, catch_unwind};

use lsp_server::Notification;
use lsp_types::Uri;
use lsp_types::notification::{self as note, Notification as _};
use serde::de::DeserializeOwned;

use super::snapshot::Snapshot;
use super::worker::Job;
use super::{Server, convert, diagnostics, panic_text, publish};

fn params<P: DeserializeOwned>(n: Notification) -> Option<P> {
    serde_json::from_value(n.params).ok()
}

impl Server<'_> {
    pub(super) fn notify(&mut self, n: Notification) {
        match n.method.as_str() {
            note::DidOpenTextDocument::METHOD => {
                if let Some(p) = params::<lsp_types::DidOpenTextDocumentParams>(n) {
                    let d = p.text_document;
                    self.docs.open(d.uri.clone(), d.text, d.version);
                    self.changed(&d.uri);
                }
            }
            note::DidChangeTextDocument::METHOD => {
                if let Some(p) = params::<lsp_types::DidChangeTextDocumentParams>(n) {
                    let uri = p.text_document.uri;
                    if let Some(doc) = self.docs.get_mut(&uri) {
                        doc.apply(p.content_changes, p.text_document.version);
                        self.changed(&uri);
                    }
                }
            }
            note::DidSaveTextDocument::METHOD => {
                if let Some(p) = params::<lsp_types::DidSaveTextDocumentParams>(n) {
                    self.changed(&p.text_document.uri);
                }
            }
            note::DidCloseTextDocument::METHOD => {
                if let Some(p) = params::<lsp_types::DidCloseTextDocumentParams>(n) {
                    self.close(&p.text_document.uri);
                }
            }
            _ => {}
        }
    }

    /// Marks a buffer, and every open buffer that imports it, out of date.
    fn changed(&mut self, uri: &Uri) {
        if self.docs.is_open(uri) {
            self.dirty.insert(uri.clone());
        }
        if let Some(path) = convert::uri_to_path(uri) {
            let importers: Vec<Uri> = self
                .analyzed
                .iter()
                .filter(|(u, a)| *u != uri && a.reads(&path))
                .map(|(u, _)| u.clone())
                .collect();
            self.dirty.extend(importers);
        }
    }

    fn close(&mut self, uri: &Uri) {
        self.changed(uri);
        self.docs.close(uri);
        self.analyzed.remove(uri);
        self.dirty.remove(uri);
        publish(self.conn, uri.clone(), Vec::new(), None);
        let targets: Vec<Uri> = self
            .contributions
            .iter_mut()
            .filter_map(|(t, per_root)| per_root.remove(uri).map(|_| t.clone()))
            .collect();
        for t in targets {
            self.send_union(&t);
        }
    }

    /// Gives the worker the next out-of-date buffer, if it is idle.
    pub(super) fn schedule(&mut self) {
        if self.in_flight.is_some() {
            return;
        }
        while let Some(uri) = self.dirty.pop_first() {
            if !self.docs.is_open(&uri) {
                continue;
            }
            self.stamp += 1;
            let job = Job {
                uri: uri.clone(),
                docs: self.docs.clone(),
                stamp: self.stamp,
            };
            if self.jobs.send(job).is_ok() {
                self.in_flight = Some(uri);
            }
            return;
        }
    }

    /// Takes a finished analysis: kept if newer than the one held, published
    /// if nothing changed since it started.
    pub(super) fn finished(&mut self, uri: Uri, result: Result<Box<Snapshot>, String>) {
        self.in_flight = None;
        match result {
            Ok(a) => self.store(&uri, *a),
            Err(panic) => self.log(format!("sdbc bug analysing {}: {panic}", uri.as_str())),
        }
    }

    fn store(&mut self, uri: &Uri, a: Snapshot) {
        if !self.docs.is_open(uri) {
            return;
        }
        let newer = self.analyzed.get(uri).is_none_or(|old| old.stamp < a.stamp);
        if !newer {
            return;
        }
        let replaced = self.analyzed.insert(uri.clone(), a);
        if !self.dirty.contains(uri) {
            self.publish_root(uri);
        }
        // Freeing a large analysis takes a while: after publishing.
        drop(replaced);
    }

    /// Analyses a buffer now, on this thread, and publishes what it found.
    fn refresh(&mut self, uri: &Uri) {
        self.dirty.remove(uri);
        let Some(doc) = self.docs.get(uri) else {
            return;
        };
        self.stamp += 1;
        let stamp = self.stamp;
        let run = catch_unwind(AssertUnwindSafe(|| {
            Snapshot::new(uri, doc, &self.docs, stamp, &self.parses)
        }));
        match run {
            Ok(a) => self.store(uri, a),
            Err(panic) => self.log(format!(
                "sdbc bug analysing {}: {}",
                uri.as_str(),
                panic_text(&*panic)
            )),
        }
    }

    /// The buffer's up-to-date analysis.
    pub(super) fn fresh(&mut self, uri: &Uri) -> Option<&Snapshot> {
        let stale = self.dirty.contains(uri) || self.in_flight.as_ref() == Some(uri);
        if stale || !self.analyzed.contains_key(uri) {
            self.refresh(uri);
        }
        self.analyzed.get(uri)
    }

    /// The buffer's last analysis, however old; analyses only if there is none.
    pub(super) fn latest(&mut self, uri: &Uri) -> Option<&Snapshot> {
        if !self.analyzed.contains_key(uri) {
            self.refresh(uri);
        }
        self.analyzed.get(uri)
    }

    fn publish_root(&mut self, root: &Uri) {
        let Some(a) = self.analyzed.get(root) else {
            return;
        };
        let version = a.version;
        let mut map = diagnostics::by_uri(&a.analysis, root);
        let own = map.remove(root).unwrap_or_default();
        publish(self.conn, root.clone(), own, Some(version));
        let mut touched = Vec::new();
        for (target, per_root) in self.contributions.iter_mut() {
            if !map.contains_key(target) && per_root.remove(root).is_some() {
                touched.push(target.clone());
            }
        }
        for (target, diags) in map {
            if self.docs.is_open(&target) {
                continue;
            }
            self.contributions
                .entry(target.clone())
                .or_default()
                .insert(root.clone(), diags);
            touched.push(target);
        }
        for t in touched {
            self.send_union(&t);
        }
    }

    /// Publishes the union of what open roots found in a file that is not open.
    fn send_union(&mut self, target: &Uri) {
        if self.docs.is_open(target) {
            return;
        }
        let mut all: Vec<lsp_types::Diagnostic> = Vec::new();
        for d in self
            .contributions
            .get(target)
            .into_iter()
            .flat_map(|m| m.values().flatten())
        {
            if !all.contains(d) {
                all.push(d.clone());
            }
        }
        if self.contributions.get(target).is_some_and(|m| m.is_empty()) {
            self.contributions.remove(target);
        }
        if self.sent.get(target) == Some(&all) {
            return;
        }
        publish(self.conn, target.clone(), all.clone(), None);
        if all.is_empty() {
            self.sent.remove(target);
        } else {
            self.sent.insert(target.clone(), all);
        }
    }
}
