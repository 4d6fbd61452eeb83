//! Every generated user-data passes cloud-init's own validator
//! (`cloud-init schema --config-file`), and every generated startup script
//! parses with `bash -n`.

mod support;

use sdbc::targets::cloud_init::user_data;
use support::{TempFile, model, run};

const CLOUD_INIT: &str = "/usr/bin/cloud-init";
const INSTALL: &str =
    "install Debian's `cloud-init` package (apt-get install cloud-init) to run this test";

#[test]
fn user_data_passes_cloud_init_schema() {
    assert!(
        std::path::Path::new(CLOUD_INIT).exists(),
        "{CLOUD_INIT} is missing: {INSTALL}"
    );
    let model = model();
    for vm in &model.vms {
        let text = match user_data(&model, vm) {
            Ok(t) => t,
            Err(e) => panic!("{}: {e}", vm.name),
        };
        assert!(text.starts_with("#cloud-config\n"), "{}", vm.name);
        let file = TempFile::new(&format!("{}.yaml", vm.name), &text);
        let path = file.0.to_string_lossy().into_owned();
        let out = run(
            CLOUD_INIT,
            &["schema", "--config-file", &path],
            None,
            INSTALL,
        );
        assert!(
            out.status.success(),
            "cloud-init rejected the user-data of {}:\n{}{}\n{text}",
            vm.name,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr),
        );
    }
}

#[test]
fn startup_scripts_parse_with_bash() {
    let mut model = model();
    for vm in &mut model.vms {
        vm.cloud_init = false;
    }
    for vm in &model.vms {
        let text = match user_data(&model, vm) {
            Ok(t) => t,
            Err(e) => panic!("{}: {e}", vm.name),
        };
        assert!(text.starts_with("#!/bin/bash\n"), "{}", vm.name);
        let file = TempFile::new(&format!("{}.sh", vm.name), &text);
        let path = file.0.to_string_lossy().into_owned();
        let out = run("bash", &["-n", &path], None, "bash is required");
        assert!(
            out.status.success(),
            "bash -n rejected the startup script of {}:\n{}\n{text}",
            vm.name,
            String::from_utf8_lossy(&out.stderr),
        );
    }
}
