//! Code generation: from the resolved model to the three outputs a user can
//! review before anything runs: Compute Engine requests, cloud-init
//! user-data per VM, and the Swarm stack file. Targets read only
//! [`crate::model`]; they do no network I/O.

pub mod body;
pub mod cloud_init;
pub mod digest;
pub mod gce;
pub mod json_text;
pub mod stack;
#[cfg(test)]
pub(crate) mod testutil;
pub mod yaml;
