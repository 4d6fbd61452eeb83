//! Finding what stands at an offset in a syntax tree: the chain of
//! declarations around it, and the innermost expression under it.

use crate::schema::Place;
use crate::syntax::ast::{Arg, Decl, Expr, ExprKind, Item, StrPart};

/// The declarations containing `offset`, outermost first.
pub fn decl_chain(items: &[Item], offset: usize) -> Vec<&Decl> {
    let mut chain = Vec::new();
    let mut items = items;
    loop {
        let found = items.iter().find_map(|i| match i {
            Item::Decl(d) if d.span.contains(offset) => Some(d),
            _ => None,
        });
        match found {
            Some(d) => {
                chain.push(d);
                match &d.body {
                    Some(b) if b.span.contains(offset) => items = &b.items,
                    _ => return chain,
                }
            }
            None => return chain,
        }
    }
}

/// Where the last declaration of a chain stands.
pub fn place_of(chain: &[&Decl]) -> Place {
    chain
        .len()
        .checked_sub(2)
        .map_or(Place::Top, |i| Place::inside(&chain[i].kind.name))
}

/// The innermost expression of a declaration (not of its nested declarations) under `offset`.
pub fn expr_in_decl(d: &Decl, offset: usize) -> Option<&Expr> {
    let mut roots: Vec<&Expr> = d.subjects.iter().collect();
    roots.extend(d.value.iter());
    for a in &d.args {
        match a {
            Arg::Positional(e) | Arg::Named { value: e, .. } => roots.push(e),
        }
    }
    roots.extend(d.body_attrs().map(|a| &a.value));
    for p in d.params.iter().flatten() {
        roots.extend(p.default.iter());
    }
    roots
        .into_iter()
        .find(|e| e.span.contains(offset))
        .map(|e| innermost(e, offset))
}

fn innermost(e: &Expr, offset: usize) -> &Expr {
    let children: Vec<&Expr> = match &e.kind {
        ExprKind::List(xs) => xs.iter().collect(),
        ExprKind::Map(kvs) => kvs.iter().map(|(_, v)| v).collect(),
        ExprKind::Field { base, .. } => vec![base],
        ExprKind::Index { base, index } => vec![base, index],
        ExprKind::Call { args, .. } => args.iter().collect(),
        ExprKind::Not(x) | ExprKind::Paren(x) => vec![x],
        ExprKind::Binary { lhs, rhs, .. } => vec![lhs, rhs],
        ExprKind::Str(parts) => parts
            .iter()
            .filter_map(|p| match p {
                StrPart::Interp(x) => Some(x),
                StrPart::Text(_) => None,
            })
            .collect(),
        _ => Vec::new(),
    };
    match children.into_iter().find(|c| c.span.contains(offset)) {
        Some(c) => innermost(c, offset),
        None => e,
    }
}

/// The text a catalog lookup should try for an expression: a bare word or a plain string.
pub fn catalog_word(e: &Expr) -> Option<String> {
    match &e.kind {
        ExprKind::Name(n) => Some(n.name.clone()),
        ExprKind::Str(_) => e.as_plain_str(),
        _ => None,
    }
}
