//! The typed syntax tree. It knows nothing of pest: every node carries a
//! [`Span`] and plain Rust data. Comments are kept beside the tree (in
//! [`SourceAst::comments`]) so that `fmt` can put them back.

use crate::span::Span;

/// One parsed file: the items that parsed, and every comment in it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SourceAst {
    pub items: Vec<Item>,
    pub comments: Vec<Comment>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Comment {
    /// The comment text including its `#` or `//` marker.
    pub text: String,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Item {
    Decl(Decl),
    Attr(Attr),
}

impl Item {
    pub fn span(&self) -> Span {
        match self {
            Item::Decl(d) => d.span,
            Item::Attr(a) => a.span,
        }
    }
}

/// `KIND SUBJECT? PARAMS? (= VALUE)? ARG* (; | { BODY })`
#[derive(Debug, Clone, PartialEq)]
pub struct Decl {
    pub kind: Ident,
    /// What the declaration names or refers to: `manager[3]`, `a, b`, `monitoring.nfs.x`.
    pub subjects: Vec<Expr>,
    /// Module parameters: `module m(a = 1, b) { .. }`.
    pub params: Option<Vec<Param>>,
    /// `param p = VALUE;`, `env X = VALUE;`.
    pub value: Option<Expr>,
    pub args: Vec<Arg>,
    pub body: Option<Block>,
    pub span: Span,
}

impl Decl {
    /// The declared name when the first subject is a plain name or `name[count]`.
    pub fn name(&self) -> Option<&Ident> {
        match &self.subjects.first()?.kind {
            ExprKind::Name(n) => Some(n),
            ExprKind::Index { base, .. } => match &base.kind {
                ExprKind::Name(n) => Some(n),
                _ => None,
            },
            _ => None,
        }
    }

    /// The group count expression of `name[count]`.
    pub fn count(&self) -> Option<&Expr> {
        match &self.subjects.first()?.kind {
            ExprKind::Index { base, index } if matches!(base.kind, ExprKind::Name(_)) => {
                Some(index)
            }
            _ => None,
        }
    }

    pub fn named_args(&self) -> impl Iterator<Item = (&Ident, &Expr)> {
        self.args.iter().filter_map(|a| match a {
            Arg::Named { key, value } => Some((key, value)),
            Arg::Positional(_) => None,
        })
    }

    pub fn positional_args(&self) -> impl Iterator<Item = &Expr> {
        self.args.iter().filter_map(|a| match a {
            Arg::Positional(e) => Some(e),
            Arg::Named { .. } => None,
        })
    }

    /// Attributes written in the body as `key = value`.
    pub fn body_attrs(&self) -> impl Iterator<Item = &Attr> {
        self.body
            .iter()
            .flat_map(|b| b.items.iter())
            .filter_map(|i| match i {
                Item::Attr(a) => Some(a),
                Item::Decl(_) => None,
            })
    }

    pub fn body_decls(&self) -> impl Iterator<Item = &Decl> {
        self.body
            .iter()
            .flat_map(|b| b.items.iter())
            .filter_map(|i| match i {
                Item::Decl(d) => Some(d),
                Item::Attr(_) => None,
            })
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Block {
    pub items: Vec<Item>,
    pub span: Span,
}

/// `key = value` inside a block.
#[derive(Debug, Clone, PartialEq)]
pub struct Attr {
    pub key: Ident,
    pub value: Expr,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Param {
    pub name: Ident,
    pub default: Option<Expr>,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Arg {
    Positional(Expr),
    /// `key=value`, and `at PATH` as key `at`.
    Named {
        key: Ident,
        value: Expr,
    },
}

impl Arg {
    pub fn span(&self) -> Span {
        match self {
            Arg::Positional(e) => e.span,
            Arg::Named { key, value } => key.span.to(value.span),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ident {
    pub name: String,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Expr {
    pub kind: ExprKind,
    pub span: Span,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BinaryOp {
    Or,
    And,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

impl BinaryOp {
    pub fn as_str(self) -> &'static str {
        match self {
            BinaryOp::Or => "||",
            BinaryOp::And => "&&",
            BinaryOp::Eq => "==",
            BinaryOp::Ne => "!=",
            BinaryOp::Lt => "<",
            BinaryOp::Le => "<=",
            BinaryOp::Gt => ">",
            BinaryOp::Ge => ">=",
        }
    }
}

/// A piece of a string literal.
#[derive(Debug, Clone, PartialEq)]
pub enum StrPart {
    /// Text with escapes already resolved.
    Text(String),
    Interp(Expr),
}

#[derive(Debug, Clone, PartialEq)]
pub enum ExprKind {
    Int(u64),
    Float(f64),
    Bool(bool),
    Str(Vec<StrPart>),
    /// Bytes, with the text as written (`20GB`) for the formatter.
    Size {
        bytes: u64,
        text: String,
    },
    /// Milliseconds, with the text as written (`30s`).
    Duration {
        millis: u64,
        text: String,
    },
    /// `10.10.0.0/24`
    Cidr(String),
    /// `10.10.0.2`
    Ip(String),
    /// `80:8080` or `80:8080/udp`
    PortMap {
        published: u16,
        target: u16,
        protocol: String,
    },
    /// `tcp:80,443`, `tcp:8000-8100`
    PortSpec {
        protocol: String,
        ports: Vec<String>,
    },
    List(Vec<Expr>),
    Map(Vec<(MapKey, Expr)>),
    Name(Ident),
    Field {
        base: Box<Expr>,
        field: Ident,
    },
    Index {
        base: Box<Expr>,
        index: Box<Expr>,
    },
    Call {
        func: Ident,
        args: Vec<Expr>,
    },
    Not(Box<Expr>),
    Binary {
        op: BinaryOp,
        lhs: Box<Expr>,
        rhs: Box<Expr>,
    },
    Paren(Box<Expr>),
}

#[derive(Debug, Clone, PartialEq)]
pub struct MapKey {
    pub name: String,
    /// Whether it was written as a string (`"a b": 1`) rather than a bare key.
    pub quoted: bool,
    pub span: Span,
}

impl MapKey {
    /// A quoted key: its literal text, interpolations left out.
    pub fn quoted(parts: &[StrPart], span: Span) -> MapKey {
        let name = parts
            .iter()
            .map(|p| match p {
                StrPart::Text(t) => t.as_str(),
                StrPart::Interp(_) => "",
            })
            .collect();
        MapKey {
            name,
            quoted: true,
            span,
        }
    }
}

impl Expr {
    /// `a.b[0].c` as a list of names and indexes, if this is a plain reference path.
    pub fn as_name(&self) -> Option<&Ident> {
        match &self.kind {
            ExprKind::Name(n) => Some(n),
            _ => None,
        }
    }

    /// A plain string without interpolation.
    pub fn as_plain_str(&self) -> Option<String> {
        match &self.kind {
            ExprKind::Str(parts) => {
                let mut out = String::new();
                for p in parts {
                    match p {
                        StrPart::Text(t) => out.push_str(t),
                        StrPart::Interp(_) => return None,
                    }
                }
                Some(out)
            }
            _ => None,
        }
    }

    /// Strip any parentheses.
    pub fn unparen(&self) -> &Expr {
        match &self.kind {
            ExprKind::Paren(inner) => inner.unparen(),
            _ => self,
        }
    }
}
