//! What the evaluator knows of each VM declaration's members before any
//! of their fields is read: the group's size, each member's name, internal
//! address and whether it has a static address. Kept per declaration (a
//! member's name and address are worked out when asked), not per member:
//! a group of a thousand holds a thousand flags, not three thousand map
//! entries and two thousand strings.

use std::collections::BTreeMap;

use super::scope::EntityId;

/// Facts about VMs the evaluator needs for fields like `internal_ip`.
#[derive(Debug, Default)]
pub struct VmFacts {
    /// Group size, or `None` for a single VM.
    pub counts: BTreeMap<EntityId, Option<u32>>,
    decls: BTreeMap<EntityId, Members>,
}

/// The members of one VM declaration, as far as they are known.
#[derive(Debug)]
struct Members {
    /// The declaration's model name (the group's, or the single VM's).
    name: String,
    /// Group size, or `None` for a single VM.
    count: Option<u32>,
    /// The subnetwork range and the host number of the first member, if
    /// the VM is in a network.
    hosts: Option<(String, u32)>,
    /// Each member's static-address flag, in member order; the members
    /// listed are the ones whose address is known.
    static_ip: Vec<bool>,
}

impl Members {
    fn len(&self) -> u32 {
        self.count.unwrap_or(1)
    }
}

impl VmFacts {
    /// Starts the members of `id` (named `name`): their names are known from
    /// here on, their addresses as each is [`VmFacts::settle`]d.
    pub fn start(&mut self, id: EntityId, name: String, count: Option<u32>) {
        self.counts.insert(id, count);
        let members = Members {
            name,
            count,
            hosts: None,
            static_ip: Vec::with_capacity(count.unwrap_or(1) as usize),
        };
        self.decls.insert(id, members);
    }

    /// The members of `id` take the host numbers from `first` in `cidr`.
    pub fn place(&mut self, id: EntityId, cidr: &str, first: u32) {
        if let Some(m) = self.decls.get_mut(&id) {
            m.hosts = Some((cidr.to_string(), first));
        }
    }

    /// The next member of `id` is known: whether it has a static address.
    pub fn settle(&mut self, id: EntityId, is_static: bool) {
        if let Some(m) = self.decls.get_mut(&id) {
            m.static_ip.push(is_static);
        }
    }

    /// Member `i`'s name (`worker-2`, or the single VM's name).
    pub fn name(&self, id: EntityId, i: u32) -> Option<String> {
        let m = self.decls.get(&id)?;
        if i >= m.len() || i as usize > m.static_ip.len() {
            return None;
        }
        Some(match m.count {
            Some(_) => format!("{}-{i}", m.name),
            None => m.name.clone(),
        })
    }

    /// Member `i`'s internal address, if it is in a network with room for it.
    pub fn ip(&self, id: EntityId, i: u32) -> Option<String> {
        let m = self.decls.get(&id)?;
        if i as usize >= m.static_ip.len() {
            return None;
        }
        let (cidr, first) = m.hosts.as_ref()?;
        host_ip(cidr, first.checked_add(i)?)
    }

    /// Whether member `i` has a static external address.
    pub fn is_static(&self, id: EntityId, i: u32) -> bool {
        self.decls
            .get(&id)
            .and_then(|m| m.static_ip.get(i as usize))
            .copied()
            .unwrap_or(false)
    }
}

/// The `host`-th address of a range, if it is inside it.
pub fn host_ip(cidr: &str, host: u32) -> Option<String> {
    let (ip, prefix) = cidr.split_once('/')?;
    let prefix: u32 = prefix.parse().ok()?;
    let octets: Vec<u32> = ip
        .split('.')
        .map(|o| o.parse().ok())
        .collect::<Option<_>>()?;
    let base = octets.iter().fold(0u32, |acc, o| (acc << 8) | o);
    let size = 1u64 << (32 - prefix.min(32));
    if u64::from(host) + 2 > size {
        return None;
    }
    let n = base.checked_add(host)?;
    Some(format!(
        "{}.{}.{}.{}",
        n >> 24,
        (n >> 16) & 255,
        (n >> 8) & 255,
        n & 255
    ))
}
