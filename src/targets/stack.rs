//! The Swarm stack file (placeholder).
