//! The sizing numbers the plan report shows: the guide's formula, the heaps and their rules.

use serde::Serialize;

use crate::size::{Demand, Heaps, Plan, publicservice_heap, role_services};
use crate::spec::{Role, Service, Size};

/// The sizing of the cluster.
#[derive(Debug, Clone, Serialize)]
pub struct Sizing {
    pub demand: Demand,
    pub heaps: Heaps,
    /// Why publicservice has its heap.
    pub publicservice_rule: &'static str,
    /// Kept free on every host that runs control services, bytes.
    pub reserve: u64,
    /// The engine types, in name order.
    pub engines: Vec<Engine>,
    /// Σ engine memory over the ECM hosts, bytes.
    pub capacity_memory: u64,
    /// The control services of the release in this cluster, in start order.
    pub control_services: Vec<Service>,
}

/// One engine type.
#[derive(Debug, Clone, Serialize)]
pub struct Engine {
    pub name: String,
    /// Memory of one engine, bytes.
    pub memory: u64,
    /// The memory as the spec wrote it (`1G`, `512M`).
    pub memory_text: String,
    pub cores: u64,
}

pub fn resolve(plan: &Plan) -> Sizing {
    let s = &plan.spec.sizing;
    Sizing {
        demand: plan.demand,
        heaps: plan.heaps,
        publicservice_rule: publicservice_heap(s).1,
        reserve: s.reserve_memory.bytes(),
        engines: s
            .engines
            .iter()
            .map(|(name, e)| Engine {
                name: name.clone(),
                memory: e.memory.bytes(),
                memory_text: Size(e.memory.bytes()).to_string(),
                cores: e.cores,
            })
            .collect(),
        capacity_memory: plan.capacity_memory,
        control_services: role_services(
            &plan.release,
            plan.spec.cluster.discovery,
            &[Role::Control],
        ),
    }
}
