//! Answering requests: decode the parameters, bring the buffer's analysis
//! up to date, and hand over to the feature modules. A request for a buffer
//! that is not open answers `null` (or an empty list).

use lsp_server::{ErrorCode, Request};
use lsp_types::request::{self as req, Request as _};
use lsp_types::{CompletionItem, Position, TextDocumentPositionParams, Uri};
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::snapshot::Snapshot;
use super::{Answer, Failure, Server, complete, convert, hover, navigate};

fn decode<P: DeserializeOwned>(r: Request) -> Result<P, Failure> {
    serde_json::from_value(r.params).map_err(|e| Failure {
        code: ErrorCode::InvalidParams,
        message: e.to_string(),
    })
}

fn encode<T: Serialize>(value: T) -> Answer {
    serde_json::to_value(value).map_err(|e| Failure {
        code: ErrorCode::InternalError,
        message: e.to_string(),
    })
}

/// The byte offset of a position in an analysed buffer.
fn offset(a: &Snapshot, pos: Position) -> usize {
    convert::offset_at(a.text(), pos)
}

impl Server<'_> {
    pub(super) fn dispatch(&mut self, r: Request) -> Answer {
        match r.method.as_str() {
            req::HoverRequest::METHOD => {
                let p: lsp_types::HoverParams = decode(r)?;
                let at = p.text_document_position_params;
                encode(self.at(&at, hover::hover))
            }
            req::GotoDefinition::METHOD => {
                let p: lsp_types::GotoDefinitionParams = decode(r)?;
                let at = p.text_document_position_params;
                encode(self.at(&at, navigate::definition))
            }
            req::References::METHOD => {
                let p: lsp_types::ReferenceParams = decode(r)?;
                let with_decl = p.context.include_declaration;
                let found = self.at(&p.text_document_position, |a, off| {
                    Some(navigate::references(a, off, with_decl))
                });
                encode(found.unwrap_or_default())
            }
            req::Completion::METHOD => {
                let p: lsp_types::CompletionParams = decode(r)?;
                let found = self.complete(&p.text_document_position);
                encode(found.map(lsp_types::CompletionResponse::Array))
            }
            req::Formatting::METHOD => {
                let p: lsp_types::DocumentFormattingParams = decode(r)?;
                encode(self.format(&p.text_document.uri))
            }
            req::DocumentSymbolRequest::METHOD => {
                let p: lsp_types::DocumentSymbolParams = decode(r)?;
                let found = self.fresh(&p.text_document.uri).map(navigate::symbols);
                encode(found.map(lsp_types::DocumentSymbolResponse::Nested))
            }
            _ => Err(Failure {
                code: ErrorCode::MethodNotFound,
                message: format!("sdbc lsp does not implement {}", r.method),
            }),
        }
    }

    /// Runs `f` on the analysis of the position's buffer, at the position's offset.
    fn at<T>(
        &mut self,
        at: &TextDocumentPositionParams,
        f: impl FnOnce(&Snapshot, usize) -> Option<T>,
    ) -> Option<T> {
        let a = self.fresh(&at.text_document.uri)?;
        f(a, offset(a, at.position))
    }

    /// Completion reads the buffer's current text, and takes the names in
    /// scope from its last analysis even if an edit made it stale, so that
    /// it never waits for an analysis while the user types.
    fn complete(&mut self, at: &TextDocumentPositionParams) -> Option<Vec<CompletionItem>> {
        let uri = &at.text_document.uri;
        self.latest(uri)?;
        let text = &self.docs.get(uri)?.text;
        let analysis = &self.analyzed.get(uri)?.analysis;
        let offset = convert::offset_at(text, at.position);
        Some(complete::complete(analysis, text, offset))
    }

    fn format(&mut self, uri: &Uri) -> Vec<lsp_types::TextEdit> {
        let Some(doc) = self.docs.get(uri) else {
            return Vec::new();
        };
        match navigate::format(&doc.text) {
            Some(edits) => edits,
            None => {
                let params = lsp_types::ShowMessageParams {
                    typ: lsp_types::MessageType::WARNING,
                    message: String::from("sdbc: not formatting a file with syntax errors"),
                };
                use lsp_types::notification::{Notification as _, ShowMessage};
                self.send(lsp_server::Notification::new(ShowMessage::METHOD.into(), params).into());
                Vec::new()
            }
        }
    }
}
