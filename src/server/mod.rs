//! HTTP servers nosey runs: the `listen` receiver for trying routes (and the demo).

pub mod listen;
