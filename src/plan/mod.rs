//! What a render changes on a running cluster, decided from the model and the two states (what
//! runs, `applied.json`, and what is rendered): the stage beside `render`, which renders these
//! plans into CHANGES.md and changes.yml.
//!
//! - `upgrade`: when the spec's release or discovery differs from the one that runs (decided
//!   once, in `lib.rs`, before the model);
//! - `changes`: the per-instance change plan otherwise (computed once, by `render`, from the state
//!   it takes).

pub mod changes;
pub mod upgrade;
