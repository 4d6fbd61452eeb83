#!/usr/bin/env python3
"""Extract the subset of the Compute Engine v1 discovery document that sdbc needs.

Source: the discovery document shipped inside PyPI's `google-api-python-client`
(`googleapiclient/discovery_cache/documents/compute.v1.json`, Apache-2.0).

Usage:
    python3 data/gce/extract-schemas.py            # downloads the newest wheel
    python3 data/gce/extract-schemas.py --version 2.202.0
    python3 data/gce/extract-schemas.py --wheel path/to/wheel.whl

Writes `data/gce/compute-v1-schemas.json` next to this script. The output
is byte-stable for a given input: keys are sorted, schema bodies are copied
verbatim (descriptions included, since "[Output Only]" lives there), and the
file ends with one newline.
"""

import argparse
import glob
import json
import os
import subprocess
import sys
import tempfile
import zipfile

DOC_PATH = "googleapiclient/discovery_cache/documents/compute.v1.json"

# Schemas sdbc sends or reads; every schema they reference is added too.
ROOT_SCHEMAS = [
    "Network",
    "Subnetwork",
    "Firewall",
    "Address",
    "Disk",
    "Instance",
    "Metadata",
    "Operation",
    "Tags",
    "Scheduling",
    "AttachedDisk",
    "NetworkInterface",
    "AccessConfig",
    "GuestAttributes",
    "InstancesSetMachineTypeRequest",
    # Request body of instances.setLabels (not in the original list, but the
    # fake validates that body too).
    "InstancesSetLabelsRequest",
]

# (discovery resource, [methods]) pairs whose paths sdbc calls.
METHODS = [
    ("networks", ["insert", "get", "list", "delete"]),
    ("subnetworks", ["insert", "get", "list", "delete"]),
    ("firewalls", ["insert", "get", "list", "delete"]),
    ("addresses", ["insert", "get", "list", "delete"]),
    ("disks", ["insert", "get", "list", "delete"]),
    (
        "instances",
        [
            "insert",
            "get",
            "list",
            "delete",
            "start",
            "stop",
            "setMetadata",
            "setMachineType",
            "setLabels",
            "getGuestAttributes",
        ],
    ),
    ("zoneOperations", ["get", "wait"]),
    ("regionOperations", ["get", "wait"]),
    ("globalOperations", ["get", "wait"]),
]


def fetch_wheel(version, workdir):
    spec = "google-api-python-client" + (f"=={version}" if version else "")
    subprocess.run(
        [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
         "-d", workdir, spec],
        check=True,
        stdout=sys.stderr,
    )
    wheels = glob.glob(os.path.join(workdir, "google_api_python_client-*.whl"))
    if len(wheels) != 1:
        sys.exit(f"expected one wheel in {workdir}, found {wheels}")
    return wheels[0]


def wheel_version(path):
    # google_api_python_client-2.202.0-py3-none-any.whl
    return os.path.basename(path).split("-")[1]


def closure(schemas, roots):
    seen = set()

    def walk(node):
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "$ref":
                    if value not in seen:
                        seen.add(value)
                        walk(schemas[value])
                else:
                    walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    for root in roots:
        if root not in schemas:
            sys.exit(f"schema {root} not in the discovery document")
        seen.add(root)
        walk(schemas[root])
    return {name: schemas[name] for name in sorted(seen)}


def methods(doc):
    out = {}
    for resource, names in METHODS:
        for name in names:
            m = doc["resources"][resource]["methods"][name]
            entry = {
                "id": m["id"],
                "httpMethod": m["httpMethod"],
                "path": m.get("flatPath", m["path"]),
                "parameterOrder": m.get("parameterOrder", []),
                "queryParameters": sorted(
                    k for k, v in m.get("parameters", {}).items()
                    if v.get("location") == "query"
                ),
            }
            if "request" in m:
                entry["request"] = m["request"]["$ref"]
            if "response" in m:
                entry["response"] = m["response"]["$ref"]
            out[f"{resource}.{name}"] = entry
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--version", help="google-api-python-client version to download")
    ap.add_argument("--wheel", help="use this wheel instead of downloading")
    ap.add_argument(
        "--out",
        default=os.path.join(os.path.dirname(os.path.abspath(__file__)),
                             "compute-v1-schemas.json"),
    )
    args = ap.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        wheel = args.wheel or fetch_wheel(args.version, tmp)
        with zipfile.ZipFile(wheel) as zf:
            doc = json.loads(zf.read(DOC_PATH))
        version = wheel_version(wheel)

    result = {
        "source": {
            "package": "google-api-python-client",
            "version": version,
            "file": DOC_PATH,
            "license": "Apache-2.0",
        },
        "revision": doc["revision"],
        "rootUrl": doc["rootUrl"],
        "servicePath": doc["servicePath"],
        "methods": methods(doc),
        "schemas": closure(doc["schemas"], ROOT_SCHEMAS),
    }
    text = json.dumps(result, indent=1, sort_keys=True, ensure_ascii=False) + "\n"
    with open(args.out, "w", encoding="utf-8", newline="\n") as f:
        f.write(text)
    print(f"wrote {args.out}: revision {doc['revision']}, package {version}, "
          f"{len(result['schemas'])} schemas, {len(result['methods'])} methods",
          file=sys.stderr)


if __name__ == "__main__":
    main()
