//! What the evaluator knows of each VM declaration's members before any
//! of their fields is read: the group's size, each member's name, internal
//! address and whether it has a static address. Kept per declaration (a
//! member's name and address are worked out when asked), not per member:
//! a group of a thousand holds a thousand flags, not three thousand map
//! entries and two thousand strings.

use super::scope::EntityId;

/// Facts about VMs the evaluator needs for fields like `internal_ip`.
#[derive(Debug, Default)]
pub struct VmFacts {
    /// The VM declarations started, indexed by entity id (other entities'
    /// slots stay empty).
    decls: Vec<Option<Members>>,
}

/// The members of one VM declaration, as far as they are known.
#[derive(Debug)]
struct Members {
    /// The declaration's model name (the group's, or the single VM's).
    name: String,
    /// Group size, or `None` for a single VM.
    count: Option<u32>,
    /// The subnetwork range and the host number of the first member, if
    /// the VM is in a network whose range reads.
    hosts: Option<(Range, u32)>,
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
        let members = Members {
            name,
            count,
            hosts: None,
            static_ip: Vec::with_capacity(count.unwrap_or(1) as usize),
        };
        let slot = id.0 as usize;
        if self.decls.len() <= slot {
            self.decls.resize_with(slot + 1, || None);
        }
        self.decls[slot] = Some(members);
    }

    fn get(&self, id: EntityId) -> Option<&Members> {
        self.decls.get(id.0 as usize)?.as_ref()
    }

    fn get_mut(&mut self, id: EntityId) -> Option<&mut Members> {
        self.decls.get_mut(id.0 as usize)?.as_mut()
    }

    /// The group size of the VM declaration `id`: `Some(None)` for a single
    /// VM, `None` if `id` is no VM declaration started.
    pub fn count(&self, id: EntityId) -> Option<Option<u32>> {
        self.get(id).map(|m| m.count)
    }

    /// The members of `id` take the host numbers from `first` in `range`.
    pub fn place(&mut self, id: EntityId, range: Range, first: u32) {
        if let Some(m) = self.get_mut(id) {
            m.hosts = Some((range, first));
        }
    }

    /// The next member of `id` is known: whether it has a static address.
    pub fn settle(&mut self, id: EntityId, is_static: bool) {
        if let Some(m) = self.get_mut(id) {
            m.static_ip.push(is_static);
        }
    }

    /// Member `i`'s name (`worker-2`, or the single VM's name).
    pub fn name(&self, id: EntityId, i: u32) -> Option<String> {
        let m = self.get(id)?;
        if i >= m.len() || i as usize > m.static_ip.len() {
            return None;
        }
        Some(match m.count {
            Some(_) => {
                let mut name = String::with_capacity(m.name.len() + 5);
                name.push_str(&m.name);
                name.push('-');
                push_decimal(&mut name, i);
                name
            }
            None => m.name.clone(),
        })
    }

    /// Member `i`'s internal address, if it is in a network with room for it.
    pub fn ip(&self, id: EntityId, i: u32) -> Option<String> {
        let m = self.get(id)?;
        if i as usize >= m.static_ip.len() {
            return None;
        }
        let (range, first) = m.hosts.as_ref()?;
        range.host(first.checked_add(i)?).map(dotted)
    }

    /// Whether member `i` has a static external address.
    pub fn is_static(&self, id: EntityId, i: u32) -> bool {
        self.get(id)
            .and_then(|m| m.static_ip.get(i as usize))
            .copied()
            .unwrap_or(false)
    }
}

/// An IPv4 range read from its CIDR text (`10.128.0.0/20`).
#[derive(Debug, Clone, Copy)]
pub struct Range {
    base: u32,
    size: u64,
}

impl Range {
    /// The range `cidr` writes, or `None` if it does not read as one.
    pub fn parse(cidr: &str) -> Option<Range> {
        let (ip, prefix) = cidr.split_once('/')?;
        let prefix: u32 = prefix.parse().ok()?;
        let mut base = 0u32;
        for octet in ip.split('.') {
            let o: u32 = octet.parse().ok()?;
            base = (base << 8) | o;
        }
        Some(Range {
            base,
            size: 1u64 << (32 - prefix.min(32)),
        })
    }

    /// Host number `host`'s address, if the range has room for it (its
    /// last address, the broadcast, excluded).
    pub fn host(self, host: u32) -> Option<u32> {
        if u64::from(host) + 2 > self.size {
            return None;
        }
        self.base.checked_add(host)
    }
}

/// An IPv4 address in dotted form (`10.128.0.10`).
fn dotted(n: u32) -> String {
    let mut s = String::with_capacity(15);
    for (k, shift) in [24, 16, 8, 0].into_iter().enumerate() {
        if k > 0 {
            s.push('.');
        }
        push_decimal(&mut s, (n >> shift) & 255);
    }
    s
}

/// Appends `n` in decimal, without the formatting machinery (lowering
/// writes a name or an address per VM).
fn push_decimal(s: &mut String, n: u32) {
    let mut digits = [0u8; 10];
    let mut at = digits.len();
    let mut rest = n;
    loop {
        at -= 1;
        digits[at] = b'0' + (rest % 10) as u8;
        rest /= 10;
        if rest == 0 {
            break;
        }
    }
    for &d in &digits[at..] {
        s.push(char::from(d));
    }
}
