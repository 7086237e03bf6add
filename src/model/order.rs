//! The order the playbooks run the cluster in, decided once from the placement: the inventory's
//! groups, the cross-host start stages and the stop order, the registrations the verify role
//! expects, and the host clear-server runs on. The apply side's templates lay these out
//! (src/render/apply.rs); nothing there groups or orders hosts itself.

use serde::Serialize;

use super::{Host, Instance};
use crate::catalog::{HealthCheck, Release, START_STAGES};
use crate::spec::Service;

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Order {
    /// The inventory groups: one per service of the cluster, then control and ECM hosts.
    pub groups: Vec<Group>,
    /// The cross-host start stages that have a service running somewhere, numbered from 1.
    pub stages: Vec<Stage>,
    /// The placed services in the line's stop order (linkis-stop-all.sh), for stop.yml.
    pub stops: Vec<StageSvc>,
    /// Every instance's registration, as the verify role expects it.
    pub expected: Vec<Expected>,
    /// The first linkismanager host: an upgrade dumps and migrates the database there.
    pub manager_host: Option<String>,
    /// Where clear-server runs (the manager host), when the release has it.
    pub clear_server_host: Option<String>,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Group {
    pub name: String,
    pub hosts: Vec<String>,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Stage {
    pub index: usize,
    pub name: &'static str,
    /// The stage's services that run somewhere, in start order.
    pub services: Vec<StageSvc>,
    /// `linkis_gateway:linkis_publicservice`: the hosts of the stage.
    pub pattern: String,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct StageSvc {
    pub service: &'static str,
    pub daemon: &'static str,
    pub unit: String,
    pub group: String,
    /// Has a health endpoint worth waiting for (Eureka, gateway).
    pub health: bool,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Expected {
    pub app: String,
    pub host: String,
    pub port: u16,
    /// The service's key in `linkis_ports` (the verify role can check some services only).
    pub service: &'static str,
}

/// The order of a placed cluster: its services (in start order) on its hosts.
pub fn resolve(
    release: &Release,
    clear_server: bool,
    services: &[Service],
    hosts: &[Host],
) -> Order {
    let with = |s: Service| hosts.iter().filter(move |h| h.runs(s));
    // The first instance of each service that runs somewhere.
    let first = |s: Service| with(s).next().and_then(|h| h.instance(s));
    let mut stages: Vec<Stage> = Vec::new();
    for (index, name) in START_STAGES.iter().enumerate() {
        let svcs: Vec<StageSvc> = services
            .iter()
            .filter_map(|s| first(*s))
            .filter(|i| i.stage == index)
            .map(stage_svc)
            .collect();
        if svcs.is_empty() {
            continue;
        }
        let pattern = svcs
            .iter()
            .map(|s| s.group.as_str())
            .collect::<Vec<_>>()
            .join(":");
        stages.push(Stage {
            index: stages.len() + 1,
            name,
            services: svcs,
            pattern,
        });
    }
    let manager_host = with(Service::Linkismanager).next().map(|h| h.name.clone());
    Order {
        groups: groups(services, hosts),
        stages,
        stops: release
            .line
            .conf
            .stop
            .iter()
            .filter_map(|s| first(*s))
            .map(stage_svc)
            .collect(),
        expected: hosts
            .iter()
            .flat_map(|h| {
                h.instances.iter().map(move |i| Expected {
                    app: i.app.clone(),
                    host: h.name.clone(),
                    port: i.port,
                    service: i.name,
                })
            })
            .collect(),
        clear_server_host: manager_host.clone().filter(|_| clear_server),
        manager_host,
    }
}

/// The inventory groups: one per service of the cluster, then control and ECM hosts.
fn groups(services: &[Service], hosts: &[Host]) -> Vec<Group> {
    let names = |f: &dyn Fn(&Host) -> bool| -> Vec<String> {
        hosts
            .iter()
            .filter(|h| f(h))
            .map(|h| h.name.clone())
            .collect()
    };
    let mut groups: Vec<Group> = services
        .iter()
        .map(|s| Group {
            name: super::group_name(*s),
            hosts: names(&|h| h.runs(*s)),
        })
        .collect();
    groups.push(Group {
        name: "linkis_control".into(),
        hosts: names(&|h| h.control),
    });
    groups.push(Group {
        name: "linkis_ecm".into(),
        hosts: names(&|h| h.runs(Service::Engineconnmanager)),
    });
    groups
}

fn stage_svc(i: &Instance) -> StageSvc {
    StageSvc {
        service: i.name,
        daemon: i.daemon,
        unit: i.unit.clone(),
        group: i.group.clone(),
        health: i.health == HealthCheck::Http,
    }
}
