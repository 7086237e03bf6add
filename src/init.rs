//! `linkis-gen init`: a commented starter spec with the smallest host list that carries a number
//! of concurrent users under the default placement, so that a newcomer starts from a spec that
//! validates and only has to fill in the placeholders.
//!
//! The host count is found with the sizing stage itself: 1 and 2 hosts are tried first, then the
//! ≥ 3-host layout (last two control, the rest ECM) with just enough ECM hosts, and the result is
//! checked by parsing, validating and placing the printed text.

use std::fmt::Write as _;

use crate::catalog::Release;
use crate::load::Source;
use crate::size::{Plan, default_roles, gib};
use crate::spec::{GIB, Role, Size};
use crate::validate::{MAX_CONCURRENCY, MAX_HOSTS, MAX_USERS};

/// What `init` was asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InitOptions {
    pub users: u64,
    /// Memory of every host.
    pub host_memory: Size,
    pub engines: Vec<EngineType>,
    pub concurrency: u64,
    pub version: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EngineType {
    pub name: String,
    pub memory: Size,
    pub cores: u64,
}

impl Default for InitOptions {
    /// The guide's assumptions: hosts of 64G, one engine type of 1G, 2 engines per user.
    fn default() -> Self {
        InitOptions {
            users: 50,
            host_memory: Size(64 * GIB),
            engines: vec![EngineType {
                name: "spark".into(),
                memory: Size(GIB),
                cores: 1,
            }],
            concurrency: 2,
            version: crate::catalog::DEFAULT_RELEASE.into(),
        }
    }
}

/// Parses `spark:1G,hive:1G` (optionally `NAME:MEMORY:CORES`, e.g. `spark:2G:2`).
pub fn parse_engines(s: &str) -> Result<Vec<EngineType>, String> {
    let mut out: Vec<EngineType> = Vec::new();
    for item in s.split(',').map(str::trim).filter(|i| !i.is_empty()) {
        let parts: Vec<&str> = item.split(':').collect();
        let (name, memory, cores) = match parts.as_slice() {
            [n, m] => (*n, *m, "1"),
            [n, m, c] => (*n, *m, *c),
            _ => {
                return Err(format!(
                    "`{item}` is not NAME:MEMORY or NAME:MEMORY:CORES, e.g. spark:1G or spark:2G:2"
                ));
            }
        };
        if name.is_empty()
            || !name
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
        {
            return Err(format!(
                "engine type `{name}` must be lowercase letters, digits and `_`, e.g. spark"
            ));
        }
        if out.iter().any(|e| e.name == name) {
            return Err(format!("engine type `{name}` is given twice"));
        }
        let memory = Size::parse(memory).map_err(|e| format!("engine {name}: {e}"))?;
        let cores = cores
            .parse::<u64>()
            .map_err(|_| format!("engine {name}: `{cores}` is not a number of cores"))?;
        out.push(EngineType {
            name: name.to_string(),
            memory,
            cores,
        });
    }
    if out.is_empty() {
        return Err("give at least one engine type, e.g. --engines spark:1G".into());
    }
    Ok(out)
}

/// The placeholder address of host `i` (1-based): 10.0.0.1, 10.0.0.2, …, 10.0.1.1 after 254.
fn placeholder_address(i: usize) -> String {
    format!("10.0.{}.{}", (i - 1) / 254, (i - 1) % 254 + 1)
}

/// The body of the spec (everything but the header comment) for `n` hosts.
/// The second edition's cluster keys, with their defaults in comments.
const CLUSTER_PLATFORM: &str = "  # gateway_url: http://10.0.0.100:9001   # what clients and linkis-cli use (a load balancer); default: the first gateway
  # java_home: /usr/lib/jvm/java-1.8.0-openjdk   # JAVA_HOME of every service; default: `java` on the PATH
  # env: { TZ: Asia/Shanghai }    # more variables for every service
";

/// How the playbook readies the database.
const DATABASE_DAY1: &str = "  # driver_jar: files/mysql-connector-j-8.0.33.jar   # Apache releases ship no MySQL JDBC driver: give one to install on every host
  bootstrap: auto                 # an empty database gets the release's schema and seed; one with Linkis' tables is never touched
";

/// The platform the engines and the storage use, with install.sh's defaults.
const PLATFORM: &str = "\
hadoop:                           # HADOOP_HOME / HADOOP_CONF_DIR of every service; the ECM hosts must have them
  home: /appcom/Install/hadoop
  conf_dir: /appcom/config/hadoop-config
  yarn_url: http://127.0.0.1:8088 # PLACEHOLDER: the ResourceManager REST address(es), `;` between an HA pair
  # yarn_auth: { user: yarn, password: { vault: vault_yarn_password } }
  # kerberos: { principal: hadoop@EXAMPLE.COM, keytab_dir: /appcom/keytab/, krb5_conf: /etc/krb5.conf }

hive:
  home: /appcom/Install/hive
  conf_dir: /appcom/config/hive-config
  # metastore: { url: \"jdbc:mysql://10.0.255.2:3306/hive\", user: hive, password: { vault: vault_hive_metastore_password } }

spark:
  home: /appcom/Install/spark
  conf_dir: /appcom/config/spark-config

storage:                          # file:// roots are per host: on several hosts use hdfs:// (or a shared mount)
  workspace: hdfs:///tmp/linkis   # users' scripts and logs
  hdfs_root: hdfs:///tmp/linkis   # users' HDFS root and the BML store
  result_sets: hdfs:///tmp/linkis # job results
  engine_root: /appcom/tmp        # engines' working directory on the ECM hosts

auth:
  admin_password: { vault: vault_linkis_admin_password }   # PLACEHOLDER: define this variable in your Ansible vault
  # ldap: { url: \"ldap://ldap.example.com:389\", base_dn: \"dc=example,dc=com\" }
";

fn body(o: &InitOptions, n: usize) -> String {
    let mut s = String::new();
    let w = &mut s;
    let _ = writeln!(w, "version: 1");
    let _ = writeln!(w);
    let _ = writeln!(w, "cluster:");
    let _ = writeln!(
        w,
        "  name: linkis                    # names files and Ansible groups: a-z, 0-9, -"
    );
    let _ = writeln!(w, "  linkis_version: \"{}\"", o.version);
    let _ = writeln!(
        w,
        "  package: files/apache-linkis-{}-bin.tar.gz   # the release tarball, relative to where ansible-playbook runs",
        o.version
    );
    let _ = writeln!(w, "  install_dir: /appcom/Install/LinkisInstall");
    let _ = writeln!(w, "  deploy_user: hadoop");
    w.push_str(CLUSTER_PLATFORM);
    let _ = writeln!(w);
    let _ = writeln!(
        w,
        "database:                         # the Linkis metadata database"
    );
    let _ = writeln!(w, "  type: mysql");
    let _ = writeln!(
        w,
        "  host: 10.0.255.1                # PLACEHOLDER: set the real address of the MySQL server"
    );
    let _ = writeln!(w, "  port: 3306");
    let _ = writeln!(w, "  name: linkis");
    let _ = writeln!(w, "  user: linkis");
    let _ = writeln!(
        w,
        "  password: {{ vault: vault_linkis_db_password }}   # PLACEHOLDER: define this variable in your Ansible vault"
    );
    w.push_str(DATABASE_DAY1);
    let _ = writeln!(w);
    w.push_str(PLATFORM);
    let _ = writeln!(w);
    let _ = writeln!(w, "sizing:");
    let _ = writeln!(w, "  concurrent_users: {}", o.users);
    let _ = writeln!(
        w,
        "  max_concurrency_per_user: {}     # engines one user may run at once of each type; init's default is the guide's 2, a spec without this key gets 1",
        o.concurrency
    );
    let _ = writeln!(w, "  engines:");
    for e in &o.engines {
        let _ = writeln!(
            w,
            "    {}: {{ memory: {}, cores: {} }}",
            e.name, e.memory, e.cores
        );
    }
    let _ = writeln!(
        w,
        "  service_memory: 2G              # heap of each microservice JVM"
    );
    let _ = writeln!(
        w,
        "  publicservice_memory: auto      # 6G above 100 concurrent users, else service_memory"
    );
    let _ = writeln!(
        w,
        "  reserve_memory: 10G             # kept free on the hosts that run control services"
    );
    let _ = writeln!(w);
    let _ = writeln!(w, "host_defaults:");
    let _ = writeln!(w, "  memory: {}", o.host_memory);
    let _ = writeln!(
        w,
        "  # cores: 32                     # physical cores: lets `plan` compare engine cores with them"
    );
    let _ = writeln!(w, "  ssh_port: 22");
    let _ = writeln!(w);
    let _ = writeln!(
        w,
        "# No host declares roles or services, so the default placement applies (see the header)."
    );
    let _ = writeln!(w, "hosts:");
    let roles = default_roles(n);
    for (i, r) in roles.iter().enumerate() {
        let role = match (r.contains(&Role::Control), r.contains(&Role::Ecm)) {
            (true, true) => "control + ECM",
            (true, false) => "control",
            _ => "ECM",
        };
        let entry = format!(
            "{{ name: s{}, address: {} }}",
            i + 1,
            placeholder_address(i + 1)
        );
        let _ = writeln!(
            w,
            "  - {entry:<36} # {role}; PLACEHOLDER: set the real address"
        );
    }
    s
}

fn header(o: &InitOptions, plan: &Plan) -> String {
    let d = &plan.demand;
    let engines = o
        .engines
        .iter()
        .map(|e| format!("{} {}", e.name, e.memory))
        .collect::<Vec<_>>()
        .join(" + ");
    let engine_spec = o
        .engines
        .iter()
        .map(|e| match e.cores {
            1 => format!("{}:{}", e.name, e.memory),
            c => format!("{}:{}:{c}", e.name, e.memory),
        })
        .collect::<Vec<_>>()
        .join(",");
    let ecm: Vec<_> = plan.ecm_hosts().collect();
    let control: Vec<_> = plan.hosts.iter().filter(|h| h.is_control()).collect();
    let names = |v: &[&crate::size::PlacedHost]| match v.len() {
        0 => String::new(),
        1 => v[0].name.clone(),
        2 => format!("{} and {}", v[0].name, v[1].name),
        k => format!("{} … {} ({k} hosts,", v[0].name, v[k - 1].name),
    };
    let n = plan.hosts.len();
    let mut s = String::new();
    let w = &mut s;
    let _ = writeln!(
        w,
        "# linkis-gen starter spec: {} concurrent users, Linkis {}, hosts of {}.",
        o.users, o.version, o.host_memory
    );
    let _ = writeln!(
        w,
        "# Made by `linkis-gen init --users {} --host-memory {} --engines {engine_spec} --concurrency {} --version {}`.",
        o.users, o.host_memory, o.concurrency, o.version
    );
    let _ = writeln!(w, "#");
    let _ = writeln!(w, "# Sizing (the Linkis deployment guide's formula):");
    let _ = writeln!(
        w,
        "#   ECM memory = {} users × ({engines}) × {} concurrent = {}",
        d.users,
        d.concurrency,
        gib(d.memory as u128)
    );
    let _ = writeln!(
        w,
        "#   {n} host{}: the EngineConnManager on {}{}{} for engines),",
        if n == 1 { "" } else { "s" },
        names(&ecm),
        if ecm.len() > 2 { " " } else { " (" },
        gib(plan.capacity_memory as u128)
    );
    let _ = writeln!(
        w,
        "#   every other service (Eureka, gateway, publicservice, ...) on {}.",
        names(&control).trim_end_matches(',')
    );
    if n < 3 {
        let _ = writeln!(
            w,
            "#   One Eureka and one gateway: no HA. With 3 or more hosts the last two are an HA pair."
        );
    }
    let _ = writeln!(w, "#");
    let _ = writeln!(w, "# Before use: replace every PLACEHOLDER below, then run");
    let _ = writeln!(
        w,
        "#   linkis-gen plan spec.yaml            # the arithmetic and the per-host placement"
    );
    let _ = writeln!(w, "#   linkis-gen render spec.yaml -o out/");
    s
}

/// Places a candidate text; the plan or the first error's message.
fn try_plan(text: &str) -> Result<Plan, String> {
    // Planned as the operator's spec will be once the placeholders are set (an untouched one is
    // an error of `validate`, `placeholder`).
    let text = text.replace("PLACEHOLDER", "set");
    crate::plan(&Source::new("init", text.as_bytes().to_vec())).map_err(|diags| {
        let errors: Vec<_> = diags.iter().filter(|d| d.is_error()).collect();
        let Some(first) = errors.first() else {
            return "the starter spec does not place".to_string();
        };
        let mut m = first.message.clone();
        if let Some(h) = &first.hint {
            m.push_str(&format!(" (hint: {h})"));
        }
        if errors.len() > 1 {
            m.push_str(&format!(" (and {} more errors)", errors.len() - 1));
        }
        m
    })
}

/// The starter spec, or why no default layout of such hosts carries the users.
pub fn starter_spec(o: &InitOptions) -> Result<String, String> {
    if Release::find(&o.version).is_none() {
        return Err(format!(
            "Linkis {} is not supported (supported: {})",
            o.version,
            crate::catalog::supported_list()
        ));
    }
    if o.users == 0 || o.users > MAX_USERS {
        return Err(format!("--users must be 1 to {MAX_USERS}"));
    }
    if o.concurrency == 0 || o.concurrency > MAX_CONCURRENCY {
        return Err(format!("--concurrency must be 1 to {MAX_CONCURRENCY}"));
    }
    // 1 and 2 hosts put the ECM beside the control services; try them first.
    for n in [1, 2] {
        let text = body(o, n);
        if let Ok(plan) = try_plan(&text) {
            return Ok(format!("{}{text}", header(o, &plan)));
        }
    }
    // 3 or more: the last two run the control services, the others only an ECM.
    let per_ecm = (o.host_memory.bytes() as u128).saturating_sub(2 * GIB as u128);
    let demand = crate::size::memory_demand(
        o.users,
        o.concurrency,
        o.engines.iter().map(|e| e.memory.bytes()),
    );
    if per_ecm == 0 {
        return Err(format!(
            "hosts of {} have no memory left for engines after the ECM's 2G heap",
            o.host_memory
        ));
    }
    let ecm_hosts = demand.div_ceil(per_ecm).max(1);
    let n = ecm_hosts + 2;
    if n > MAX_HOSTS as u128 {
        return Err(format!(
            "{} users need {} of engine memory: {ecm_hosts} ECM hosts of {}, more than the {MAX_HOSTS} hosts linkis-gen supports",
            o.users,
            gib(demand),
            o.host_memory
        ));
    }
    let text = body(o, n as usize);
    let plan = try_plan(&text).map_err(|e| {
        format!(
            "no layout of hosts of {} works: with {n} hosts, {e}",
            o.host_memory
        )
    })?;
    Ok(format!("{}{text}", header(o, &plan)))
}
