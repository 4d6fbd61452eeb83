//! Shared helpers for the integration tests: a fake with short delays and a
//! small JSON client over reqwest.
#![allow(dead_code)]

use fake_gce::{FakeConfig, FakeHandle};
use serde_json::{Value, json};
use std::time::Duration;

pub const P: &str = "proj";
pub const R: &str = "europe-west1";
pub const Z: &str = "europe-west1-b";

pub fn fast_config() -> FakeConfig {
    FakeConfig {
        op_pending: Duration::from_millis(5),
        op_running: Duration::from_millis(15),
        wait_timeout: Duration::from_secs(5),
        ..FakeConfig::default()
    }
}

pub struct Api {
    pub fake: FakeHandle,
    pub client: reqwest::Client,
}

impl Api {
    pub async fn start() -> Api {
        Self::with(fast_config()).await
    }

    pub async fn with(config: FakeConfig) -> Api {
        let fake = fake_gce::start(config).await;
        Api {
            fake,
            client: client(),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.fake.base_url(), path)
    }

    pub async fn send(&self, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
        self.try_send(method, path, body)
            .await
            .unwrap_or_else(|e| panic!("{method} {path}: {e}"))
    }

    pub async fn try_send(
        &self,
        method: &str,
        path: &str,
        body: Option<Value>,
    ) -> Result<(u16, Value), reqwest::Error> {
        let m = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
        let mut req = self.client.request(m, self.url(path));
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await?;
        let status = resp.status().as_u16();
        let json = resp.json::<Value>().await?;
        Ok((status, json))
    }

    pub async fn get(&self, path: &str) -> (u16, Value) {
        self.send("GET", path, None).await
    }

    pub async fn post(&self, path: &str, body: Value) -> (u16, Value) {
        self.send("POST", path, Some(body)).await
    }

    pub async fn delete(&self, path: &str) -> (u16, Value) {
        self.send("DELETE", path, None).await
    }

    /// Wait for an operation through its `/wait` path (built from our
    /// endpoint, not from selfLink) until DONE.
    pub async fn wait(&self, op: &Value) -> Value {
        let scope = if let Some(z) = op["zone"].as_str() {
            format!("zones/{}", last(z))
        } else if let Some(r) = op["region"].as_str() {
            format!("regions/{}", last(r))
        } else {
            "global".to_string()
        };
        let name = op["name"].as_str().expect("operation name");
        for _ in 0..20 {
            let (status, body) = self
                .post(
                    &format!("projects/{P}/{scope}/operations/{name}/wait"),
                    json!({}),
                )
                .await;
            assert_eq!(status, 200, "{body}");
            if body["status"] == "DONE" {
                return body;
            }
        }
        panic!("operation {name} never finished");
    }

    /// Insert and wait; asserts both succeed and returns the DONE operation.
    pub async fn create(&self, collection_path: &str, body: Value) -> Value {
        let (status, op) = self.post(collection_path, body).await;
        assert_eq!(status, 200, "{op}");
        let done = self.wait(&op).await;
        assert!(done.get("error").is_none(), "{done}");
        done
    }

    /// A network, a subnetwork and an address, ready for instances.
    pub async fn base_network(&self) {
        self.create(
            &format!("projects/{P}/global/networks"),
            json!({"name": "net", "autoCreateSubnetworks": false}),
        )
        .await;
        self.create(
            &format!("projects/{P}/regions/{R}/subnetworks"),
            json!({"name": "sub", "network": "global/networks/net", "ipCidrRange": "10.10.0.0/24"}),
        )
        .await;
    }

    pub async fn create_vm(&self, name: &str) -> Value {
        self.create(&format!("projects/{P}/zones/{Z}/instances"), vm(name))
            .await;
        let (status, body) = self
            .get(&format!("projects/{P}/zones/{Z}/instances/{name}"))
            .await;
        assert_eq!(status, 200);
        body
    }
}

pub fn last(link: &str) -> &str {
    link.rsplit('/').next().unwrap_or(link)
}

pub fn vm(name: &str) -> Value {
    json!({
        "name": name,
        "machineType": format!("zones/{Z}/machineTypes/e2-standard-2"),
        "labels": {"sdbc-managed": "true", "sdbc-stack": "misago"},
        "disks": [{
            "boot": true,
            "autoDelete": true,
            "initializeParams": {
                "sourceImage": "projects/ubuntu-os-cloud/global/images/family/ubuntu-2404-lts-amd64",
                "diskSizeGb": "20"
            }
        }],
        "networkInterfaces": [{
            "subnetwork": format!("regions/{R}/subnetworks/sub"),
            "accessConfigs": [{"type": "ONE_TO_ONE_NAT"}]
        }],
        "metadata": {"items": [{"key": "user-data", "value": "#cloud-config\n"}]}
    })
}

pub fn uuid(n: u32) -> String {
    format!("123e4567-e89b-12d3-a456-{n:012x}")
}

/// A plain HTTP client. Built in a workspace where another crate turns on
/// reqwest's `rustls-no-provider`, reqwest needs a crypto provider installed
/// even for plain HTTP, so install ring's (once; a second install is a no-op).
fn client() -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::new()
}
