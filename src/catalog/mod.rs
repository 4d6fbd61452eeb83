//! The Compute Engine catalog: machine types, regions and zones, image
//! families and disk types, as data.
//!
//! The data lives in `data/gce/catalog.json` (sources and date in
//! `data/gce/CATALOG.md`), is embedded in the binary with `include_str!`
//! and parsed once, on first use. The checker uses it to reject an unknown
//! machine type, zone, image or disk type (with "did you mean", see
//! [`closest`]), to check that replicas fit a machine's CPU and memory, and
//! to refuse an image that does not run cloud-init; the editor uses the
//! iterators for completion.
//!
//! Every lookup is by exact name; nothing here does network I/O.

use std::sync::OnceLock;

use serde::Deserialize;

/// The embedded catalog data.
const CATALOG_JSON: &str = include_str!("../../data/gce/catalog.json");

/// A machine series (`e2`, `n2`, ...).
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct MachineFamily {
    pub name: String,
    pub description: String,
    /// CPU architecture: `x86_64` or `arm64`.
    pub arch: String,
}

/// A predefined machine type.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct MachineType {
    /// `e2-standard-2`.
    pub name: String,
    /// The series it belongs to (`e2`).
    pub family: String,
    /// vCPUs the guest sees (the API's `guestCpus`); what Docker Swarm
    /// schedules reservations against.
    pub vcpus: u32,
    /// Memory in MiB (the API's `memoryMb`).
    pub memory_mb: u64,
    /// Sustained CPU capacity: a fraction of one core for the shared-core
    /// types (`e2-micro` 0.25, `e2-small` 0.5, `e2-medium` 1), otherwise
    /// equal to `vcpus`.
    #[serde(default)]
    sustained_cpus: Option<f64>,
}

impl MachineType {
    /// Sustained CPU capacity; see the field's documentation.
    pub fn sustained_cpus(&self) -> f64 {
        self.sustained_cpus.unwrap_or(f64::from(self.vcpus))
    }

    /// Whether it is a shared-core type (bursts above its sustained share).
    pub fn is_shared_core(&self) -> bool {
        self.sustained_cpus() < f64::from(self.vcpus)
    }

    /// Memory in bytes.
    pub fn memory_bytes(&self) -> u64 {
        self.memory_mb.saturating_mul(1024 * 1024)
    }
}

/// A region and its zones.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Region {
    /// `europe-west1`.
    pub name: String,
    /// Where it is (`St. Ghislain, Belgium`).
    pub location: String,
    /// Full zone names (`europe-west1-b`).
    pub zones: Vec<String>,
}

/// A zone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Zone {
    /// `europe-west1-b`.
    pub name: String,
    /// `europe-west1`.
    pub region: String,
}

/// A public image family.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Image {
    /// `PROJECT/FAMILY`, e.g. `ubuntu-os-cloud/ubuntu-2404-lts-amd64`.
    pub path: String,
    pub description: String,
    /// Whether the image runs cloud-init, so that `user-data` is applied.
    pub cloud_init: bool,
    /// `x86_64` or `arm64`; must match the machine family's.
    pub arch: String,
    /// `apt`, `dnf`, or `None` where packages cannot be installed (COS,
    /// Fedora CoreOS).
    pub package_manager: Option<String>,
    /// How it is provisioned, and the source for `cloud_init`.
    #[serde(default)]
    pub note: Option<String>,
}

impl Image {
    /// The image project (`ubuntu-os-cloud`).
    pub fn project(&self) -> &str {
        self.path.split_once('/').map_or("", |(p, _)| p)
    }

    /// The family name (`ubuntu-2404-lts-amd64`).
    pub fn family(&self) -> &str {
        self.path
            .split_once('/')
            .map_or(self.path.as_str(), |(_, f)| f)
    }

    /// The partial URL of the family's newest image, as the API's
    /// `initializeParams.sourceImage` accepts it.
    pub fn source_image(&self) -> String {
        format!(
            "projects/{}/global/images/family/{}",
            self.project(),
            self.family()
        )
    }
}

/// A persistent disk type.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct DiskType {
    /// `pd-balanced`.
    pub name: String,
    pub description: String,
    /// Smallest and largest size in GB.
    pub min_gb: u64,
    pub max_gb: u64,
    /// The catalog's machine families that can attach it.
    pub families: Vec<String>,
    /// A further restriction, if any.
    #[serde(default)]
    pub note: Option<String>,
}

impl DiskType {
    /// Whether a machine of `family` can attach this disk type.
    pub fn supports_family(&self, family: &str) -> bool {
        self.families.iter().any(|f| f == family)
    }
}

/// The file's shape.
#[derive(Debug, Deserialize)]
struct CatalogFile {
    catalog_date: String,
    families: Vec<MachineFamily>,
    machine_types: Vec<MachineType>,
    regions: Vec<Region>,
    images: Vec<Image>,
    disk_types: Vec<DiskType>,
}

/// The parsed catalog with its name indexes.
#[derive(Debug)]
pub struct Catalog {
    file: CatalogFile,
    zones: Vec<Zone>,
    /// Hashed: lowering looks a machine type and an image up per VM.
    machine_index: NameIndex,
    zone_index: NameIndex,
    region_index: NameIndex,
    image_index: NameIndex,
}

/// Position in a catalog list, by name.
type NameIndex = foldhash::HashMap<String, usize>;

impl Catalog {
    /// Parses catalog JSON. Only the embedded file is ever parsed outside tests.
    fn parse(text: &str) -> Result<Self, serde_json::Error> {
        let file: CatalogFile = serde_json::from_str(text)?;
        let zones: Vec<Zone> = file
            .regions
            .iter()
            .flat_map(|r| {
                r.zones.iter().map(|z| Zone {
                    name: z.clone(),
                    region: r.name.clone(),
                })
            })
            .collect();
        fn index<T>(items: &[T], key: impl Fn(&T) -> &str) -> NameIndex {
            items
                .iter()
                .enumerate()
                .map(|(i, t)| (key(t).to_string(), i))
                .collect()
        }
        Ok(Catalog {
            machine_index: index(&file.machine_types, |m| &m.name),
            zone_index: index(&zones, |z| &z.name),
            region_index: index(&file.regions, |r| &r.name),
            image_index: index(&file.images, |i| &i.path),
            zones,
            file,
        })
    }

    /// The date the data was compiled (`YYYY-MM-DD`).
    pub fn date(&self) -> &str {
        &self.file.catalog_date
    }
}

/// The embedded catalog, parsed on first use.
///
/// # Panics
///
/// If the embedded `data/gce/catalog.json` is malformed: a build defect
/// that the unit tests catch, never a property of the user's input.
pub fn get() -> &'static Catalog {
    static CATALOG: OnceLock<Catalog> = OnceLock::new();
    CATALOG.get_or_init(|| match Catalog::parse(CATALOG_JSON) {
        Ok(catalog) => catalog,
        Err(e) => panic!("sdbc bug: the embedded data/gce/catalog.json is invalid: {e}"),
    })
}

/// The machine type called `name` (`e2-standard-2`).
pub fn machine_type(name: &str) -> Option<&'static MachineType> {
    let c = get();
    c.machine_index.get(name).map(|&i| &c.file.machine_types[i])
}

/// The machine family called `name` (`e2`).
pub fn family(name: &str) -> Option<&'static MachineFamily> {
    get().file.families.iter().find(|f| f.name == name)
}

/// The zone called `name` (`europe-west1-b`).
pub fn zone(name: &str) -> Option<&'static Zone> {
    let c = get();
    c.zone_index.get(name).map(|&i| &c.zones[i])
}

/// The region called `name` (`europe-west1`).
pub fn region(name: &str) -> Option<&'static Region> {
    let c = get();
    c.region_index.get(name).map(|&i| &c.file.regions[i])
}

/// The image family at `path` (`PROJECT/FAMILY`).
pub fn image(path: &str) -> Option<&'static Image> {
    let c = get();
    c.image_index.get(path).map(|&i| &c.file.images[i])
}

/// The disk type called `name` (`pd-balanced`).
pub fn disk_type(name: &str) -> Option<&'static DiskType> {
    get().file.disk_types.iter().find(|d| d.name == name)
}

/// Every machine type, grouped by family in catalog order.
pub fn machine_types() -> impl Iterator<Item = &'static MachineType> {
    get().file.machine_types.iter()
}

/// Every machine family.
pub fn families() -> impl Iterator<Item = &'static MachineFamily> {
    get().file.families.iter()
}

/// Every zone, region by region.
pub fn zones() -> impl Iterator<Item = &'static Zone> {
    get().zones.iter()
}

/// Every region.
pub fn regions() -> impl Iterator<Item = &'static Region> {
    get().file.regions.iter()
}

/// Every image family.
pub fn images() -> impl Iterator<Item = &'static Image> {
    get().file.images.iter()
}

/// Every disk type.
pub fn disk_types() -> impl Iterator<Item = &'static DiskType> {
    get().file.disk_types.iter()
}

/// "Did you mean" for catalog names is [`crate::diag::closest`].
pub use crate::diag::closest;

#[cfg(test)]
mod tests;
