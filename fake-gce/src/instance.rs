//! Instance inserts: machine type, disks (attached or created from
//! `initializeParams`), network interfaces with internal and external
//! addresses, metadata, scheduling defaults and the other server-set fields.

use crate::error::ApiError;
use crate::resources::{
    Place, next_external, next_internal, obj, prepare_disk, resolve, set_default,
};
use crate::state::State;
use crate::util::{reference_key, region_of_zone};
use serde_json::{Value, json};

/// Complete an instance body for storage; disks it creates go to `extra`,
/// disks and addresses it attaches to `uses`.
pub(crate) fn prepare(
    st: &mut State,
    place: &Place<'_>,
    key: &str,
    body: &mut Value,
    extra: &mut Vec<(String, Value)>,
    uses: &mut Vec<String>,
) -> Result<(), ApiError> {
    let project = place.project;
    let zone = place.location;
    let link = st.link(key);
    body["machineType"] = json!(machine_type(st, project, zone, &body["machineType"])?);
    let name = body["name"].as_str().unwrap_or_default().to_string();
    let mut disks = body["disks"].as_array().cloned().unwrap_or_default();
    let mut boot_disks = Vec::new();
    for (i, disk) in disks.iter_mut().enumerate() {
        let field = format!("resource.disks[{i}]");
        let disk_key = if let Some(source) = disk["source"].as_str() {
            let k = resolve(st, project, &format!("{field}.source"), source, "disks")?;
            let read_write = disk["mode"].as_str().unwrap_or("READ_WRITE") == "READ_WRITE";
            let users = st.resources[&k]["users"].as_array().map_or(0, Vec::len);
            if read_write && users > 0 {
                let user = st.resources[&k]["users"][0]
                    .as_str()
                    .unwrap_or("")
                    .to_string();
                return Err(ApiError::in_use(&k, &user));
            }
            uses.push(k.clone());
            k
        } else {
            let params = disk
                .as_object_mut()
                .and_then(|m| m.remove("initializeParams"))
                .unwrap_or_default();
            let disk_name =
                params["diskName"]
                    .as_str()
                    .unwrap_or(if i == 0 { name.as_str() } else { "" });
            let disk_name = if disk_name.is_empty() {
                format!("{name}-{i}")
            } else {
                disk_name.to_string()
            };
            let k = format!("{}/disks/{disk_name}", place.scope_path);
            if st.taken(&k) {
                return Err(ApiError::already_exists(&k));
            }
            let mut d = json!({"name": disk_name});
            for (from, to) in [
                ("diskSizeGb", "sizeGb"),
                ("sourceImage", "sourceImage"),
                ("diskType", "type"),
                ("labels", "labels"),
                ("description", "description"),
            ] {
                if let Some(v) = params.get(from) {
                    d[to] = v.clone();
                }
            }
            prepare_disk(st, place, &mut d, Some(&link));
            d["kind"] = json!("compute#disk");
            d["id"] = json!(st.new_id());
            d["creationTimestamp"] = json!(crate::util::now_rfc3339());
            d["selfLink"] = json!(st.link(&k));
            boot_disks.push((k.clone(), d));
            k
        };
        let size = st
            .resources
            .get(&disk_key)
            .or_else(|| boot_disks.last().map(|(_, d)| d))
            .map_or(json!("10"), |d| d["sizeGb"].clone());
        let disk_name = disk_key.rsplit('/').next().unwrap_or_default().to_string();
        disk["source"] = json!(st.link(&disk_key));
        set_default(disk, "kind", json!("compute#attachedDisk"));
        set_default(disk, "type", json!("PERSISTENT"));
        set_default(disk, "mode", json!("READ_WRITE"));
        set_default(disk, "deviceName", json!(disk_name));
        set_default(disk, "boot", json!(false));
        set_default(disk, "autoDelete", json!(false));
        set_default(disk, "interface", json!("SCSI"));
        disk["index"] = json!(i);
        disk["diskSizeGb"] = size;
    }
    body["disks"] = json!(disks);
    extra.extend(boot_disks);

    let region = region_of_zone(zone).to_string();
    let mut nics = body["networkInterfaces"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    for (i, nic) in nics.iter_mut().enumerate() {
        let field = format!("resource.networkInterfaces[{i}]");
        let (net_key, subnet_key) = if let Some(sub) = nic["subnetwork"].as_str() {
            let sk = resolve(
                st,
                project,
                &format!("{field}.subnetwork"),
                sub,
                "subnetworks",
            )?;
            let net = st.resources[&sk]["network"]
                .as_str()
                .unwrap_or_default()
                .to_string();
            let nk = reference_key(&net, project).unwrap_or_default();
            (nk, Some(sk))
        } else {
            let net = nic["network"]
                .as_str()
                .unwrap_or("global/networks/default")
                .to_string();
            let nk = resolve(st, project, &format!("{field}.network"), &net, "networks")?;
            if st.resources[&nk]["autoCreateSubnetworks"] != json!(true) {
                return Err(ApiError::invalid(format!(
                    "Invalid value for field '{field}.subnetwork': ''. \
                     Subnetwork should be specified for custom subnetmode network"
                )));
            }
            (nk, None)
        };
        nic["network"] = json!(st.link(&net_key));
        if nic.get("networkIP").is_none() {
            nic["networkIP"] = json!(next_internal(st, subnet_key.as_deref()));
        }
        if let Some(sk) = &subnet_key {
            nic["subnetwork"] = json!(st.link(sk));
        }
        nic["name"] = json!(format!("nic{i}"));
        nic["kind"] = json!("compute#networkInterface");
        nic["fingerprint"] = json!(st.fingerprint());
        set_default(nic, "stackType", json!("IPV4_ONLY"));
        let mut configs = nic["accessConfigs"].as_array().cloned().unwrap_or_default();
        for (j, ac) in configs.iter_mut().enumerate() {
            set_default(ac, "kind", json!("compute#accessConfig"));
            set_default(ac, "type", json!("ONE_TO_ONE_NAT"));
            set_default(ac, "name", json!("External NAT"));
            set_default(ac, "networkTier", json!("PREMIUM"));
            match ac["natIP"].as_str().map(str::to_string) {
                Some(ip) => uses.push(reserved_address(st, project, &region, &ip, &field, j)?),
                None => ac["natIP"] = json!(next_external(st)),
            }
        }
        if nic.get("accessConfigs").is_some() {
            nic["accessConfigs"] = json!(configs);
        }
    }
    body["networkInterfaces"] = json!(nics);

    let items_size: usize = body["metadata"]["items"]
        .as_array()
        .map(|items| {
            items
                .iter()
                .map(|it| {
                    it["key"].as_str().map_or(0, str::len)
                        + it["value"].as_str().map_or(0, str::len)
                })
                .sum()
        })
        .unwrap_or(0);
    if items_size > 512 * 1024 {
        return Err(ApiError::invalid(format!(
            "Invalid value for field 'resource.metadata': metadata is {items_size} bytes; \
             the total size of all keys and values must be less than 512 KB"
        )));
    }
    let fp = st.fingerprint();
    let metadata = obj(&mut body["metadata"]);
    metadata.insert("kind".into(), json!("compute#metadata"));
    metadata.insert("fingerprint".into(), json!(fp));
    if body.get("tags").is_some() {
        body["tags"]["fingerprint"] = json!(st.fingerprint());
    }
    let mut scheduling = json!({
        "onHostMaintenance": "MIGRATE",
        "automaticRestart": true,
        "preemptible": false,
        "provisioningModel": "STANDARD"
    });
    if let Some(given) = body["scheduling"].as_object() {
        for (k, v) in given {
            scheduling[k] = v.clone();
        }
    }
    body["scheduling"] = scheduling;
    body["status"] = json!("RUNNING");
    body["zone"] = json!(st.link(&format!("projects/{project}/zones/{zone}")));
    body["labelFingerprint"] = json!(st.fingerprint());
    body["fingerprint"] = json!(st.fingerprint());
    body["cpuPlatform"] = json!("Intel Broadwell");
    set_default(body, "canIpForward", json!(false));
    set_default(body, "deletionProtection", json!(false));
    body["startRestricted"] = json!(false);
    crate::hosts::apply(st, key, body);
    Ok(())
}

/// Normalise a machine type reference to its full link; 400 if it is not
/// `zones/<this zone>/machineTypes/<name>` in some URL form.
pub fn machine_type(
    st: &State,
    project: &str,
    zone: &str,
    given: &Value,
) -> Result<String, ApiError> {
    let s = given.as_str().unwrap_or_default();
    let key = reference_key(s, project).filter(|k| {
        let p: Vec<&str> = k.split('/').collect();
        p.len() == 6 && p[2] == "zones" && p[3] == zone && p[4] == "machineTypes"
    });
    match key {
        Some(k) => Ok(st.link(&k)),
        None => Err(ApiError::invalid(format!(
            "Invalid value for field 'resource.machineType': '{s}'. \
             Machine type must be a URL like 'zones/{zone}/machineTypes/e2-standard-2'"
        ))),
    }
}

fn reserved_address(
    st: &State,
    project: &str,
    region: &str,
    ip: &str,
    field: &str,
    j: usize,
) -> Result<String, ApiError> {
    let prefix = format!("projects/{project}/regions/{region}/addresses/");
    let found = st
        .resources
        .range(prefix.clone()..)
        .take_while(|(k, _)| k.starts_with(&prefix))
        .find(|(_, a)| a["address"] == ip);
    match found {
        Some((k, a)) if a["status"] == "IN_USE" => {
            let user = a["users"][0].as_str().unwrap_or_default();
            Err(ApiError::in_use(k, user))
        }
        Some((k, _)) => Ok(k.clone()),
        None => Err(ApiError::invalid(format!(
            "Invalid value for field '{field}.accessConfigs[{j}].natIP': '{ip}'. \
             The specified external IP address '{ip}' was not found in region '{region}'."
        ))),
    }
}
