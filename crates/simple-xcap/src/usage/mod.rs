//! Application usages (being written).
