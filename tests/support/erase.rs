//! The syntax tree with every span erased: two parses of the same program
//! written differently (formatted or not) compare equal.

use sdbc::span::Span;
use sdbc::syntax::ast::{Arg, Block, Decl, Expr, ExprKind, Ident, Item, SourceAst, StrPart};

fn erase_ident(i: &mut Ident) {
    i.span = Span::default();
}

fn erase_expr(e: &mut Expr) {
    e.span = Span::default();
    match &mut e.kind {
        ExprKind::Str(parts) => parts.iter_mut().for_each(|p| {
            if let StrPart::Interp(x) = p {
                erase_expr(x);
            }
        }),
        ExprKind::List(items) => items.iter_mut().for_each(erase_expr),
        ExprKind::Map(entries) => entries.iter_mut().for_each(|(k, v)| {
            k.span = Span::default();
            erase_expr(v);
        }),
        ExprKind::Name(n) => erase_ident(n),
        ExprKind::Field { base, field } => {
            erase_expr(base);
            erase_ident(field);
        }
        ExprKind::Index { base, index } => {
            erase_expr(base);
            erase_expr(index);
        }
        ExprKind::Call { func, args } => {
            erase_ident(func);
            args.iter_mut().for_each(erase_expr);
        }
        ExprKind::Not(x) | ExprKind::Paren(x) => erase_expr(x),
        ExprKind::Binary { lhs, rhs, .. } => {
            erase_expr(lhs);
            erase_expr(rhs);
        }
        _ => {}
    }
}

fn erase_decl(d: &mut Decl) {
    d.span = Span::default();
    erase_ident(&mut d.kind);
    d.subjects.iter_mut().for_each(erase_expr);
    for p in d.params.iter_mut().flatten() {
        p.span = Span::default();
        erase_ident(&mut p.name);
        p.default.iter_mut().for_each(erase_expr);
    }
    d.value.iter_mut().for_each(erase_expr);
    for a in &mut d.args {
        match a {
            Arg::Positional(e) => erase_expr(e),
            Arg::Named { key, value } => {
                erase_ident(key);
                erase_expr(value);
            }
        }
    }
    d.body.iter_mut().for_each(erase_block);
}

fn erase_block(b: &mut Block) {
    b.span = Span::default();
    b.items.iter_mut().for_each(erase_item);
}

fn erase_item(i: &mut Item) {
    match i {
        Item::Decl(d) => erase_decl(d),
        Item::Attr(a) => {
            a.span = Span::default();
            erase_ident(&mut a.key);
            erase_expr(&mut a.value);
        }
    }
}

pub fn erased_items(ast: &SourceAst) -> Vec<Item> {
    let mut items = ast.items.clone();
    items.iter_mut().for_each(erase_item);
    items
}
