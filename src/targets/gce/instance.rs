//! The instance body, written directly as the compact JSON text of its
//! kept form ([`Body::of_kept_text`]): the fields in the order of the
//! compute v1 `Instance` schema as sdbc sends it, each appended to one
//! `String` ([`json_text`]), so a VM costs one text and no JSON tree or
//! serializer. Its boot configuration (a long metadata value) stands there
//! as a digest made once per distinct text ([`Memo`]), and the [`Body`]
//! keeps the shared text itself.
//!
//! What VMs made alike share (the machine's URLs, the metadata) is written
//! once and copied while the next VM is alike ([`Shape`], [`Metadata`]).

use std::borrow::Cow;
use std::cell::{Cell, OnceCell, RefCell};
use std::rc::Rc;
use std::sync::Arc;

use crate::graph::NodeId;
use crate::model::{SwarmRole, Vm};
use crate::targets::body::Body;
use crate::targets::digest::Memo;
use crate::targets::json_text::{push_escaped, push_members, push_str, push_strs};

use super::bodies::{BOOT_DISK_TYPE, Ctx};
use super::{SSH_KEYS, SSH_KEYS_ITEM, names, refs};

/// What an instance's description says after the owner mark.
const DESCRIPTION: &str = "instance of group ";
/// The label naming a VM's group, on the instance.
const GROUP_LABEL: &str = "sdbc-group";
/// The label naming the VM, on its boot disk.
const VM_LABEL: &str = "sdbc-vm";

/// The JSON text of the parts VMs made alike (a group's members, and most
/// often VMs declared one by one too) share, made once for the first of
/// them and reused while the next VM is alike.
struct Shape<'m> {
    /// The VM it was made from.
    from: &'m Vm,
    /// The insert call's path.
    path: String,
    machine_type: String,
    /// `"sourceImage":...,"diskSizeGb":...,"diskType":...,"labels":`
    boot_disk: String,
    /// `"network":...,"subnetwork":...`
    network: String,
}

impl Shape<'_> {
    /// Whether `vm`'s body would have this shape: every field it is made of is equal.
    fn fits(&self, vm: &Vm) -> bool {
        let a = self.from;
        a.zone == vm.zone
            && a.machine_type == vm.machine_type
            && a.image == vm.image
            && a.boot_disk_gb == vm.boot_disk_gb
            && a.network == vm.network
    }
}

/// A VM's metadata in the kept form, shared by the VMs with the same boot
/// configuration (the same text), key and login keys.
struct Metadata {
    boot_config: Option<Arc<str>>,
    key: &'static str,
    ssh_keys: bool,
    /// The JSON text of the `metadata` field.
    kept: String,
    /// The boot configuration, when the kept form has its digest.
    long: Option<Arc<str>>,
}

impl Metadata {
    fn fits(&self, boot_config: Option<&Arc<str>>, key: &str, ssh_keys: bool) -> bool {
        let same_config = match (&self.boot_config, boot_config) {
            (Some(a), Some(b)) => Arc::ptr_eq(a, b) || a == b,
            (None, None) => true,
            _ => false,
        };
        same_config && self.key == key && self.ssh_keys == ssh_keys
    }
}

/// What the instance bodies of one program share: the digests of their
/// boot configurations, the shape and metadata of the last VM, and the
/// length of the last body (the room the next one is given).
#[derive(Default)]
pub(super) struct Shared<'m> {
    memo: Memo<'m>,
    shape: RefCell<Option<Rc<Shape<'m>>>>,
    metadata: RefCell<Option<Rc<Metadata>>>,
    last_len: Cell<usize>,
    /// The description's start before what it describes, escaped.
    description_start: OnceCell<String>,
    /// The owner mark's labels as JSON members ([`Ctx::written_mark_labels`]).
    mark_pairs: OnceCell<Vec<(String, String)>>,
}

/// A label pair, normalized.
type Label<'a> = (Cow<'a, str>, Cow<'a, str>);

impl<'m> Ctx<'m> {
    /// The body of `vm`'s insert call and the call's path; `boot_config`
    /// is its boot configuration, shared with the VMs that have the same one.
    pub(super) fn instance_body(
        &self,
        vm: &'m Vm,
        boot_config: Option<&'m Arc<str>>,
        shared: &Shared<'m>,
    ) -> (Body, String) {
        let shape = self.shape(vm, shared);
        let metadata = metadata(vm, boot_config, shared);
        let mut out = String::with_capacity(shared.last_len.get());
        out.push_str(r#"{"name":"#);
        push_str(&mut out, &names::resource_name_of(&vm.name));
        out.push_str(r#","description":"#);
        self.push_description(&mut out, shared, &[DESCRIPTION, &vm.group]);
        out.push_str(r#","machineType":"#);
        out.push_str(&shape.machine_type);
        out.push_str(r#","tags":{"items":"#);
        self.push_tags(&mut out, vm);
        out.push_str(r#"},"labels":"#);
        let group = (Cow::Borrowed(GROUP_LABEL), label_value(&vm.group));
        self.push_labels(&mut out, shared, user_labels(vm).chain([group]));
        out.push_str(r#","disks":[{"boot":true,"autoDelete":true,"type":"PERSISTENT","mode":"READ_WRITE","deviceName":"boot","initializeParams":{"#);
        out.push_str(&shape.boot_disk);
        let this_vm = (Cow::Borrowed(VM_LABEL), label_value(&vm.name));
        self.push_labels(&mut out, shared, [this_vm].into_iter());
        out.push_str("}}");
        for disk in &vm.disks {
            self.push_attached_disk(&mut out, vm, disk);
        }
        out.push_str(r#"],"networkInterfaces":[{"#);
        out.push_str(&shape.network);
        push_network_access(&mut out, vm);
        out.push_str(r#"}],"metadata":"#);
        out.push_str(&metadata.kept);
        out.push('}');
        shared.last_len.set(out.len());
        let body = Body::of_kept_text(out, metadata.long.iter().cloned().collect());
        (body, shape.path.clone())
    }

    /// The shape of `vm`: the last one when it fits, else a new one.
    fn shape(&self, vm: &'m Vm, shared: &Shared<'m>) -> Rc<Shape<'m>> {
        let mut last = shared.shape.borrow_mut();
        if let Some(shape) = last.as_ref().filter(|s| s.fits(vm)) {
            return Rc::clone(shape);
        }
        let project = self.project();
        let region = self.region_of(&vm.network);
        let machine_type = format!("zones/{}/machineTypes/{}", vm.zone, vm.machine_type);
        let disk_type = format!(
            "projects/{project}/zones/{}/diskTypes/{BOOT_DISK_TYPE}",
            vm.zone
        );
        let subnetwork = format!(
            "projects/{project}/regions/{region}/subnetworks/{}",
            names::resource_name(&vm.network)
        );
        let boot_disk = [
            ("sourceImage", self.image_url(&vm.image)),
            ("diskSizeGb", vm.boot_disk_gb.to_string()),
            ("diskType", disk_type),
        ];
        let network = [
            ("network", self.network_url(&vm.network)),
            ("subnetwork", subnetwork),
        ];
        let shape = Rc::new(Shape {
            from: vm,
            path: format!("projects/{project}/zones/{}/instances", vm.zone),
            machine_type: json(&machine_type),
            boot_disk: fields(&boot_disk) + r#","labels":"#,
            network: fields(&network),
        });
        *last = Some(Rc::clone(&shape));
        shape
    }

    /// Appends, as a JSON string, the description of a resource whose
    /// `what` is the concatenation of `what`.
    fn push_description(&self, out: &mut String, shared: &Shared<'m>, what: &[&str]) {
        let start = shared.description_start.get_or_init(|| {
            let mut start = String::new();
            push_escaped(&mut start, &self.description(""));
            start
        });
        out.push('"');
        out.push_str(start);
        for part in what {
            push_escaped(out, part);
        }
        out.push('"');
    }

    /// Appends the owner mark's labels and `extra` as a JSON object, sorted
    /// by key; of two pairs with one key the later wins, and the mark wins
    /// over every other.
    fn push_labels<'a>(
        &self,
        out: &mut String,
        shared: &Shared<'m>,
        extra: impl Iterator<Item = Label<'a>>,
    ) {
        let marks = shared.mark_pairs.get_or_init(|| self.written_mark_labels());
        let is_mark = |k: &str| marks.iter().any(|(mark, _)| mark == k);
        let mut pairs: Vec<Label<'a>> = extra.filter(|(k, _)| !is_mark(k)).collect();
        pairs.sort_by(|a, b| a.0.cmp(&b.0)); // stable: equal keys keep their order
        let last_of_key = |i: usize| pairs.get(i + 1).is_none_or(|next| next.0 != pairs[i].0);
        let mut marks = marks.iter().peekable();
        out.push('{');
        let start = out.len();
        let comma = |out: &mut String| {
            if out.len() > start {
                out.push(',');
            }
        };
        for (k, v) in pairs
            .iter()
            .enumerate()
            .filter(|&(i, _)| last_of_key(i))
            .map(|(_, p)| p)
        {
            while let Some((_, written)) = marks.next_if(|(mark, _)| mark.as_str() < k.as_ref()) {
                comma(out);
                out.push_str(written);
            }
            comma(out);
            push_str(out, k);
            out.push(':');
            push_str(out, v);
        }
        for (_, written) in marks {
            comma(out);
            out.push_str(written);
        }
        out.push('}');
    }

    /// The owner mark's labels, sorted by key, each with its JSON member
    /// text (`"key":"value"`).
    fn written_mark_labels(&self) -> Vec<(String, String)> {
        let mut marks: Vec<(String, String)> = self
            .mark_labels()
            .iter()
            .map(|(k, v)| (k.clone(), fields(&[(k.as_str(), v.clone())])))
            .collect();
        marks.sort();
        marks
    }

    fn push_tags(&self, out: &mut String, vm: &Vm) {
        let mut tags: Vec<Cow<str>> = vm.tags.iter().map(|t| names::resource_name_of(t)).collect();
        tags.push(names::resource_name_of(&vm.group));
        tags.push(Cow::from(self.stack_tag()));
        tags.sort();
        tags.dedup();
        push_strs(out, tags.iter().map(|t| t.as_ref()));
    }

    /// Appends an attached persistent disk, comma first; `deviceName` is
    /// the disk's name, so the guest sees it as `/dev/disk/by-id/google-NAME`.
    fn push_attached_disk(&self, out: &mut String, vm: &Vm, disk: &str) {
        let zone = self.zone_of_disk(disk).unwrap_or(vm.zone.as_str());
        let name = names::resource_name(disk);
        let source = format!("projects/{}/zones/{zone}/disks/{name}", self.project());
        out.push_str(r#",{"boot":false,"autoDelete":false,"type":"PERSISTENT","mode":"READ_WRITE","deviceName":"#);
        push_str(out, &name);
        out.push_str(r#","source":"#);
        push_str(out, &source);
        out.push('}');
    }
}

/// `vm`'s own labels, normalized.
fn user_labels<'a>(vm: &'a Vm) -> impl Iterator<Item = Label<'a>> + 'a {
    vm.labels
        .iter()
        .map(|(k, v)| (Cow::Owned(names::label_key(k)), names::label_value_of(v)))
}

fn label_value(s: &str) -> Cow<'_, str> {
    names::label_value_of(s)
}

/// Appends `vm`'s address and, when it has one, its external access.
fn push_network_access(out: &mut String, vm: &Vm) {
    out.push_str(r#","networkIP":"#);
    push_str(out, &vm.internal_ip);
    if vm.external_access || vm.address.is_some() {
        out.push_str(r#","accessConfigs":[{"name":"external-nat","type":"ONE_TO_ONE_NAT","networkTier":"PREMIUM""#);
        if let Some(addr) = &vm.address {
            out.push_str(r#","natIP":"#);
            push_str(out, &refs::placeholder(&NodeId::address(addr), "address"));
        }
        out.push_str("}]");
    }
}

/// `s` as a JSON string.
fn json(s: &str) -> String {
    let mut out = String::new();
    push_str(&mut out, s);
    out
}

/// String fields as JSON object members, without the braces: `"k":"v",...`.
fn fields(pairs: &[(&str, String)]) -> String {
    let mut out = String::new();
    push_members(&mut out, pairs.iter().map(|(k, v)| (*k, v.as_str())));
    out
}

/// `vm`'s metadata: the last VM's when it fits, else written anew.
fn metadata<'m>(
    vm: &'m Vm,
    boot_config: Option<&'m Arc<str>>,
    shared: &Shared<'m>,
) -> Rc<Metadata> {
    let key = crate::targets::cloud_init::metadata_key(vm);
    let ssh_keys = vm.swarm != SwarmRole::None;
    let mut last = shared.metadata.borrow_mut();
    if let Some(m) = last.as_ref().filter(|m| m.fits(boot_config, key, ssh_keys)) {
        return Rc::clone(m);
    }
    let mut kept = String::from(r#"{"items":[{"key":"enable-guest-attributes","value":"TRUE"}"#);
    let mut long = None;
    if let Some(text) = boot_config {
        kept.push_str(r#",{"key":"#);
        push_str(&mut kept, key);
        kept.push_str(r#","value":"#);
        match shared.memo.long(text) {
            Some(digest) => {
                long = Some(Arc::clone(text));
                kept.push_str(&serde_json::to_string(&*digest).expect("a digest serializes"));
            }
            None => push_str(&mut kept, text),
        }
        kept.push('}');
    }
    if ssh_keys {
        kept.push_str(r#",{"key":"#);
        push_str(&mut kept, SSH_KEYS_ITEM);
        kept.push_str(r#","value":"#);
        push_str(&mut kept, SSH_KEYS);
        kept.push('}');
    }
    kept.push_str("]}");
    let m = Rc::new(Metadata {
        boot_config: boot_config.cloned(),
        key,
        ssh_keys,
        kept,
        long,
    });
    *last = Some(Rc::clone(&m));
    m
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::targets::testutil::two_vm_model;

    #[test]
    fn the_fixed_label_keys_need_no_normalizing() {
        for key in [GROUP_LABEL, VM_LABEL] {
            assert_eq!(names::label_key(key), key);
        }
    }

    /// The kept text is compared byte for byte with the one a state keeps,
    /// which serde_json wrote: the hand-written text must be that text,
    /// whatever the names, labels and disks hold.
    #[test]
    fn the_kept_text_is_what_serde_json_writes() {
        let mut model = two_vm_model();
        let vm = &mut model.vms[0];
        vm.labels.insert("Team \"A\"".into(), "web\nops\\x".into());
        vm.labels.insert("sdbc-stack".into(), "someone-else".into());
        vm.tags.push("Tag é".into());
        vm.group = "grp\t\"q\"".into();
        model.vms[1].external_access = false;
        let graph = crate::graph::build(&model, &[]);
        let ctx = Ctx::new(&model, &graph);
        let shared = Shared::default();
        let long: Arc<str> = "#cloud-config\n# \"long\"\n".repeat(9).into();
        for (vm, boot) in model.vms.iter().zip([Some(&long), None]) {
            let (body, _) = ctx.instance_body(vm, boot, &shared);
            let text = body.kept_text();
            let value: serde_json::Value = serde_json::from_str(text).expect("valid JSON");
            assert_eq!(serde_json::to_string(&value).expect("ser"), text);
        }
    }
}
