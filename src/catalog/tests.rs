//! Tests of the catalog: the embedded data parses, lookups work, and the data
//! is internally consistent (every zone's region exists, every family is
//! listed, memory follows each series' published ratio).

use super::*;

#[test]
fn embedded_catalog_parses() {
    let c = Catalog::parse(CATALOG_JSON).map_err(|e| e.to_string());
    assert!(c.is_ok(), "{c:?}");
    assert_eq!(get().date().len(), "2026-11-27".len());
}

#[test]
fn looks_up_machine_types() {
    let m = machine_type("e2-standard-2").map(|m| (m.vcpus, m.memory_mb, m.family.as_str()));
    assert_eq!(m, Some((2, 8192, "e2")));
    let micro = machine_type("e2-micro").map(|m| (m.vcpus, m.sustained_cpus(), m.is_shared_core()));
    assert_eq!(micro, Some((2, 0.25, true)));
    assert_eq!(
        machine_type("n2-highmem-128").map(|m| m.memory_mb),
        Some(864 * 1024)
    );
    assert_eq!(
        machine_type("c3-highcpu-176").map(|m| m.memory_mb),
        Some(352 * 1024)
    );
    assert_eq!(machine_type("t2d-standard-60").map(|m| m.vcpus), Some(60));
    assert_eq!(
        machine_type("e2-standard-2").map(MachineType::memory_bytes),
        Some(8 << 30)
    );
    assert!(machine_type("e2-standard-3").is_none());
    assert!(machine_type("").is_none());
}

#[test]
fn looks_up_zones_and_regions() {
    assert_eq!(
        zone("europe-west1-b").map(|z| z.region.as_str()),
        Some("europe-west1")
    );
    assert_eq!(
        zone("us-central1-f").map(|z| z.region.as_str()),
        Some("us-central1")
    );
    // europe-west1 has no zone a; us-east1 has no zone a.
    assert!(zone("europe-west1-a").is_none());
    assert!(zone("us-east1-a").is_none());
    assert_eq!(region("europe-west1").map(|r| r.zones.len()), Some(3));
    assert!(region("europe-west5").is_none());
}

#[test]
fn looks_up_images() {
    let ubuntu = image("ubuntu-os-cloud/ubuntu-2404-lts-amd64");
    assert_eq!(ubuntu.map(|i| i.cloud_init), Some(true));
    assert_eq!(ubuntu.map(Image::project), Some("ubuntu-os-cloud"));
    assert_eq!(
        ubuntu.map(Image::source_image).as_deref(),
        Some("projects/ubuntu-os-cloud/global/images/family/ubuntu-2404-lts-amd64")
    );
    assert_eq!(
        image("debian-cloud/debian-12").map(|i| i.cloud_init),
        Some(false)
    );
    assert_eq!(
        image("cos-cloud/cos-stable").map(|i| i.cloud_init),
        Some(true)
    );
    assert_eq!(
        image("fedora-coreos-cloud/fedora-coreos-stable").map(|i| i.cloud_init),
        Some(false)
    );
    assert!(image("ubuntu-2404-lts-amd64").is_none());
}

#[test]
fn looks_up_disk_types() {
    let balanced = disk_type("pd-balanced");
    assert_eq!(balanced.map(|d| d.supports_family("c3")), Some(true));
    assert_eq!(
        disk_type("pd-standard").map(|d| d.supports_family("c3")),
        Some(false)
    );
    assert_eq!(
        disk_type("hyperdisk-balanced").map(|d| d.supports_family("e2")),
        Some(false)
    );
    assert!(disk_type("pd-fast").is_none());
}

#[test]
fn every_zone_has_a_known_region_and_its_prefix() {
    for z in zones() {
        let r = region(&z.region);
        assert!(
            r.is_some(),
            "zone {} of unknown region {}",
            z.name,
            z.region
        );
        let suffix = z.name.strip_prefix(&format!("{}-", z.region));
        assert!(
            suffix.is_some_and(|s| s.len() == 1 && s.bytes().all(|b| b.is_ascii_lowercase())),
            "zone {} is not REGION-LETTER",
            z.name
        );
    }
    assert!(regions().all(|r| !r.zones.is_empty()));
}

#[test]
fn every_family_has_machine_types_and_every_type_a_family() {
    for want in ["e2", "n2", "n2d", "c3", "t2d"] {
        assert!(family(want).is_some(), "family {want} missing");
        assert!(
            machine_types().any(|m| m.family == want),
            "no machine type of {want}"
        );
    }
    for m in machine_types() {
        assert!(
            family(&m.family).is_some(),
            "{} has unknown family {}",
            m.name,
            m.family
        );
        assert!(m.name.starts_with(&format!("{}-", m.family)), "{}", m.name);
    }
}

#[test]
fn memory_follows_the_published_ratios() {
    // GiB per vCPU by series and shape, as Google publishes them; the
    // exceptions are the shared-core e2 types and n2-highmem-128 (864 GB).
    let ratio = |family: &str, shape: &str| -> Option<u64> {
        Some(match (family, shape) {
            (_, "standard") => 4,
            (_, "highmem") => 8,
            ("c3", "highcpu") => 2,
            (_, "highcpu") => 1,
            _ => return None,
        })
    };
    for m in machine_types() {
        if m.is_shared_core() || m.name == "n2-highmem-128" {
            continue;
        }
        let mut parts = m.name.split('-');
        let (family, shape, count) = (parts.next(), parts.next(), parts.next());
        let count: Option<u32> = count.and_then(|c| c.parse().ok());
        assert_eq!(
            count,
            Some(m.vcpus),
            "{}: vCPUs do not match the name",
            m.name
        );
        let per_cpu = family.zip(shape).and_then(|(f, s)| ratio(f, s));
        assert_eq!(
            per_cpu.map(|r| r * 1024 * u64::from(m.vcpus)),
            Some(m.memory_mb),
            "{}: memory does not follow the series ratio",
            m.name
        );
    }
}

#[test]
fn names_are_unique() {
    let mut seen = std::collections::BTreeSet::new();
    for name in machine_types().map(|m| m.name.as_str()) {
        assert!(seen.insert(name), "duplicate machine type {name}");
    }
    assert_eq!(get().machine_index.len(), machine_types().count());
    assert_eq!(get().zone_index.len(), zones().count());
    assert_eq!(get().image_index.len(), images().count());
    assert_eq!(get().region_index.len(), regions().count());
}

#[test]
fn the_seed_regions_are_present() {
    for r in [
        "us-central1",
        "us-east1",
        "us-east4",
        "us-west1",
        "us-west4",
        "europe-west1",
        "europe-west2",
        "europe-west3",
        "europe-west4",
        "europe-west6",
        "europe-west9",
        "europe-north1",
        "asia-east1",
        "asia-northeast1",
        "asia-southeast1",
        "australia-southeast1",
        "southamerica-east1",
    ] {
        assert!(region(r).is_some(), "region {r} missing");
    }
}

#[test]
fn images_have_project_family_paths_and_known_architectures() {
    for i in images() {
        assert!(
            !i.project().is_empty() && !i.family().is_empty(),
            "{}",
            i.path
        );
        assert!(matches!(i.arch.as_str(), "x86_64" | "arm64"), "{}", i.path);
    }
    for d in disk_types() {
        assert!(d.min_gb <= d.max_gb, "{}", d.name);
        assert!(d.families.iter().all(|f| family(f).is_some()), "{}", d.name);
    }
}

#[test]
fn closest_suggests_near_names() {
    let names = || machine_types().map(|m| m.name.as_str());
    assert_eq!(closest("e2-standart-2", names()), Some("e2-standard-2"));
    assert_eq!(closest("n2-standard", names()), Some("n2-standard-2"));
    assert_eq!(closest("m1-ultramem-40", names()), None);
    let zone_names = || zones().map(|z| z.name.as_str());
    assert_eq!(
        closest("europe-west1-a", zone_names()),
        Some("europe-west1-b")
    );
}
