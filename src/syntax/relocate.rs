//! Moving the spans of a parsed item when its text moved: an item reused by
//! [`super::reparse`] after an edit earlier in the file sits at a new offset
//! (and, in an import, perhaps in a file with a new id). This is the one
//! place, besides `lower`, that makes spans.

use super::ast::{Arg, Block, Comment, Decl, Expr, ExprKind, Ident, Item, Param, StrPart};
use crate::diag::Diagnostic;
use crate::span::{FileId, Span};

/// Where a reused item goes: its new file, and how far it moved.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Move {
    pub file: FileId,
    /// New offset minus old offset.
    pub delta: i64,
}

impl Move {
    /// Whether this move changes nothing.
    pub fn is_identity(&self, file: FileId) -> bool {
        self.delta == 0 && self.file == file
    }

    pub fn span(&self, s: Span) -> Span {
        let at = |o: u32| usize::try_from(i64::from(o) + self.delta).unwrap_or(0);
        Span::new(self.file, at(s.start), at(s.end))
    }
}

/// Something with spans inside.
pub trait Relocate {
    fn relocate(&mut self, to: Move);
}

impl<T: Relocate> Relocate for Vec<T> {
    fn relocate(&mut self, to: Move) {
        for x in self {
            x.relocate(to);
        }
    }
}

impl<T: Relocate> Relocate for Option<T> {
    fn relocate(&mut self, to: Move) {
        if let Some(x) = self {
            x.relocate(to);
        }
    }
}

impl<T: Relocate> Relocate for Box<T> {
    fn relocate(&mut self, to: Move) {
        (**self).relocate(to);
    }
}

impl Relocate for Span {
    fn relocate(&mut self, to: Move) {
        *self = to.span(*self);
    }
}

impl Relocate for Diagnostic {
    fn relocate(&mut self, to: Move) {
        self.primary.span.relocate(to);
        for label in &mut self.secondary {
            label.span.relocate(to);
        }
    }
}

impl Relocate for Comment {
    fn relocate(&mut self, to: Move) {
        self.span.relocate(to);
    }
}

impl Relocate for Item {
    fn relocate(&mut self, to: Move) {
        match self {
            Item::Decl(d) => d.relocate(to),
            Item::Attr(a) => {
                a.key.relocate(to);
                a.value.relocate(to);
                a.span.relocate(to);
            }
        }
    }
}

impl Relocate for Decl {
    fn relocate(&mut self, to: Move) {
        self.kind.relocate(to);
        self.subjects.relocate(to);
        self.params.relocate(to);
        self.value.relocate(to);
        self.args.relocate(to);
        self.body.relocate(to);
        self.span.relocate(to);
    }
}

impl Relocate for Block {
    fn relocate(&mut self, to: Move) {
        self.items.relocate(to);
        self.span.relocate(to);
    }
}

impl Relocate for Param {
    fn relocate(&mut self, to: Move) {
        self.name.relocate(to);
        self.default.relocate(to);
        self.span.relocate(to);
    }
}

impl Relocate for Arg {
    fn relocate(&mut self, to: Move) {
        match self {
            Arg::Positional(e) => e.relocate(to),
            Arg::Named { key, value } => {
                key.relocate(to);
                value.relocate(to);
            }
        }
    }
}

impl Relocate for Ident {
    fn relocate(&mut self, to: Move) {
        self.span.relocate(to);
    }
}

impl Relocate for Expr {
    fn relocate(&mut self, to: Move) {
        self.span.relocate(to);
        match &mut self.kind {
            ExprKind::Int(_)
            | ExprKind::Float(_)
            | ExprKind::Bool(_)
            | ExprKind::Size { .. }
            | ExprKind::Duration { .. }
            | ExprKind::Cidr(_)
            | ExprKind::Ip(_)
            | ExprKind::PortMap { .. }
            | ExprKind::PortSpec { .. } => {}
            ExprKind::Str(parts) => {
                for part in parts {
                    if let StrPart::Interp(e) = part {
                        e.relocate(to);
                    }
                }
            }
            ExprKind::List(items) => items.relocate(to),
            ExprKind::Map(entries) => {
                for (key, value) in entries {
                    key.span.relocate(to);
                    value.relocate(to);
                }
            }
            ExprKind::Name(n) => n.relocate(to),
            ExprKind::Field { base, field } => {
                base.relocate(to);
                field.relocate(to);
            }
            ExprKind::Index { base, index } => {
                base.relocate(to);
                index.relocate(to);
            }
            ExprKind::Call { func, args } => {
                func.relocate(to);
                args.relocate(to);
            }
            ExprKind::Not(e) | ExprKind::Paren(e) => e.relocate(to),
            ExprKind::Binary { lhs, rhs, .. } => {
                lhs.relocate(to);
                rhs.relocate(to);
            }
        }
    }
}
