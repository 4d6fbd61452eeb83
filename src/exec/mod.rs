//! Talking to Compute Engine (the only module that does network I/O).
