//! The firewalls of a model, as `requests` sends them: the user's and the
//! ones the resolver generated (see [`crate::model::firewalls`]).

use crate::model::{Firewall, Model};

/// Every firewall of the model, in model order.
pub fn all(model: &Model) -> Vec<Firewall> {
    model.firewalls.clone()
}
