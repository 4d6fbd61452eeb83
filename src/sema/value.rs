//! Values: what expressions evaluate to once names are resolved.

use std::collections::BTreeMap;

use super::scope::EntityId;

#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Int(u64),
    Float(f64),
    Bool(bool),
    Str(String),
    Size(u64),
    /// Milliseconds.
    Duration(u64),
    Cidr(String),
    Ip(String),
    PortMap {
        published: u16,
        target: u16,
        protocol: String,
    },
    PortSpec {
        protocol: String,
        ports: Vec<String>,
    },
    List(Vec<Value>),
    Map(BTreeMap<String, Value>),
    /// A declaration (a whole VM group, a service, a disk, ...).
    Entity(EntityId),
    /// One member of a VM group.
    Member(EntityId, u32),
    /// `vm.nfs`: the exports of a VM.
    NfsOf(EntityId),
    /// `vm.nfs.disk`.
    NfsExport {
        vm: EntityId,
        disk: EntityId,
    },
    /// Known only after apply: (resource node, field).
    Deferred(crate::model::NodeId, String),
    /// Something already diagnosed; using it reports nothing more.
    Poison,
}

impl Value {
    pub fn describe(&self) -> &'static str {
        match self {
            Value::Int(_) => "an integer",
            Value::Float(_) => "a decimal number",
            Value::Bool(_) => "a boolean",
            Value::Str(_) => "a string",
            Value::Size(_) => "a size",
            Value::Duration(_) => "a duration",
            Value::Cidr(_) => "an address range",
            Value::Ip(_) => "an IP address",
            Value::PortMap { .. } => "a port mapping",
            Value::PortSpec { .. } => "a port spec",
            Value::List(_) => "a list",
            Value::Map(_) => "a map",
            Value::Entity(_) => "a reference",
            Value::Member(..) => "a VM",
            Value::NfsOf(_) => "a VM's NFS exports",
            Value::NfsExport { .. } => "an NFS export",
            Value::Deferred(..) => "a value known after apply",
            Value::Poison => "an invalid value",
        }
    }

    /// Entities this value refers to (for dependency edges).
    pub fn entities(&self, out: &mut Vec<EntityId>) {
        match self {
            Value::Entity(e) | Value::Member(e, _) | Value::NfsOf(e) => out.push(*e),
            Value::NfsExport { vm, disk } => {
                out.push(*vm);
                out.push(*disk);
            }
            Value::List(items) => items.iter().for_each(|v| v.entities(out)),
            Value::Map(m) => m.values().for_each(|v| v.entities(out)),
            _ => {}
        }
    }
}
