//! Entities and scopes. Every declaration that has a name becomes an
//! [`Entity`]; module instances open a [`Scope`] of their own whose names
//! are addressed from outside as `instance.name` and whose model names are
//! prefixed (`redis-proxy`).

use std::collections::BTreeMap;

use crate::span::{FileId, Span};
use crate::syntax::ast::{Decl, Expr};

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct EntityId(pub u32);

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ScopeId(pub u32);

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EntityKind {
    Vm,
    Disk,
    Network,
    Firewall,
    Address,
    Secret,
    Config,
    Service,
    Output,
    Param,
    Let,
    Module,
    Instance,
}

impl EntityKind {
    pub fn from_kind(kind: &str) -> Option<EntityKind> {
        Some(match kind {
            "vm" => EntityKind::Vm,
            "disk" => EntityKind::Disk,
            "network" => EntityKind::Network,
            "firewall" => EntityKind::Firewall,
            "address" => EntityKind::Address,
            "secret" => EntityKind::Secret,
            "config" => EntityKind::Config,
            "service" => EntityKind::Service,
            "output" => EntityKind::Output,
            "param" => EntityKind::Param,
            "let" => EntityKind::Let,
            "module" => EntityKind::Module,
            _ => return None,
        })
    }

    /// The word used in messages and in `Ty::Ref` lists.
    pub fn word(self) -> &'static str {
        match self {
            EntityKind::Vm => "vm",
            EntityKind::Disk => "disk",
            EntityKind::Network => "network",
            EntityKind::Firewall => "firewall",
            EntityKind::Address => "address",
            EntityKind::Secret => "secret",
            EntityKind::Config => "config",
            EntityKind::Service => "service",
            EntityKind::Output => "output",
            EntityKind::Param => "param",
            EntityKind::Let => "let",
            EntityKind::Module => "module",
            EntityKind::Instance => "module instance",
        }
    }
}

#[derive(Debug)]
pub struct Entity<'a> {
    pub kind: EntityKind,
    /// As users address it: `redis.proxy`.
    pub qual_name: String,
    /// As Compute Engine or Swarm names it: `redis-proxy`.
    pub model_name: String,
    pub decl: &'a Decl,
    pub file: FileId,
    /// The scope it was declared in.
    pub scope: ScopeId,
    /// For an instance: the scope of its body.
    pub inner: Option<ScopeId>,
    /// The name's span.
    pub span: Span,
}

/// A parameter of a module instance: the argument expression and the scope to evaluate it in.
#[derive(Debug, Clone, Copy)]
pub struct Binding<'a> {
    pub expr: &'a Expr,
    pub scope: ScopeId,
}

#[derive(Debug, Default)]
pub struct Scope<'a> {
    /// Names declared here (each borrowed from its declaration), hashed: a
    /// program declares thousands. Iterate with [`Scope::sorted_names`].
    pub names: foldhash::HashMap<&'a str, EntityId>,
    /// Module parameters bound in this scope.
    pub params: BTreeMap<String, Binding<'a>>,
    /// `redis.` for the scope of instance `redis`; empty at top level.
    pub qual_prefix: String,
    /// `redis-` for the scope of instance `redis`.
    pub model_prefix: String,
    /// The instance that owns this scope.
    pub owner: Option<EntityId>,
    /// Module parameters the instance did not set (already reported): using
    /// one yields nothing more.
    pub unset: std::collections::BTreeSet<String>,
}

impl<'a> Scope<'a> {
    /// The names declared here, in name order.
    pub fn sorted_names(&self) -> Vec<(&'a str, EntityId)> {
        let mut out: Vec<_> = self.names.iter().map(|(k, v)| (*k, *v)).collect();
        out.sort_unstable();
        out
    }
}

#[derive(Debug, Default)]
pub struct Symbols<'a> {
    pub entities: Vec<Entity<'a>>,
    pub scopes: Vec<Scope<'a>>,
}

impl<'a> Symbols<'a> {
    pub fn entity(&self, id: EntityId) -> &Entity<'a> {
        &self.entities[id.0 as usize]
    }

    pub fn scope(&self, id: ScopeId) -> &Scope<'a> {
        &self.scopes[id.0 as usize]
    }

    pub fn scope_mut(&mut self, id: ScopeId) -> &mut Scope<'a> {
        &mut self.scopes[id.0 as usize]
    }

    pub fn add_scope(&mut self, scope: Scope<'a>) -> ScopeId {
        self.scopes.push(scope);
        ScopeId(self.scopes.len() as u32 - 1)
    }

    pub fn add_entity(&mut self, e: Entity<'a>) -> EntityId {
        self.entities.push(e);
        EntityId(self.entities.len() as u32 - 1)
    }

    pub fn ids(&self) -> impl Iterator<Item = EntityId> {
        (0..self.entities.len() as u32).map(EntityId)
    }

    /// Entities of a kind, in declaration order.
    pub fn of_kind(&self, kind: EntityKind) -> impl Iterator<Item = EntityId> + '_ {
        self.ids().filter(move |id| self.entity(*id).kind == kind)
    }

    /// The entity a name means in a scope (no parent scopes: modules are closed).
    pub fn lookup(&self, scope: ScopeId, name: &str) -> Option<EntityId> {
        self.scope(scope).names.get(name).copied()
    }

    /// Every name visible in a scope, for "did you mean".
    pub fn visible(&self, scope: ScopeId) -> impl Iterator<Item = &str> {
        let s = self.scope(scope);
        let names = s.sorted_names().into_iter().map(|(name, _)| name);
        names.chain(s.params.keys().map(String::as_str))
    }
}
