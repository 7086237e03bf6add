//! Phase timers for profiling a run: with `LINKIS_GEN_TIMINGS=1` in the environment, each
//! `mark` prints to stderr the time since the previous one and the resident memory. Off (and
//! free) otherwise.

use std::sync::Mutex;
use std::sync::OnceLock;
use std::time::Instant;

fn enabled() -> bool {
    static ON: OnceLock<bool> = OnceLock::new();
    *ON.get_or_init(|| std::env::var_os("LINKIS_GEN_TIMINGS").is_some_and(|v| v != "0"))
}

static LAST: Mutex<Option<Instant>> = Mutex::new(None);

/// Prints `timing: LABEL MS` (milliseconds since the previous mark, or since the first call).
pub fn mark(label: &str) {
    if !enabled() {
        return;
    }
    let now = Instant::now();
    let mut last = LAST.lock().unwrap_or_else(|e| e.into_inner());
    let ms = last.map_or(0.0, |t| now.duration_since(t).as_secs_f64() * 1000.0);
    *last = Some(now);
    // The resident memory now and at its peak so far (Linux), to see which phase sets the peak.
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .map_or(String::new(), |v| v.trim().replace(" kB", "K"))
    };
    eprintln!(
        "timing: {label} {ms:.1} ms (rss {}, peak {})",
        field("VmRSS:"),
        field("VmHWM:")
    );
}
