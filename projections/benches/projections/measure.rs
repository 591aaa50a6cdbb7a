//! What the kernel says about this process (memory, CPU time, load), and the tables' yes/no.

use crate::Result;

pub fn yes_no(met: bool) -> &'static str {
    if met {
        "yes"
    } else {
        "**no**"
    }
}

/// Resident memory of this process as `/proc/self/status` reports it, in KiB.
#[derive(Clone, Copy, Debug)]
pub struct Rss {
    /// `VmRSS`: resident now.
    pub now_kib: u64,
    /// `VmHWM`: the most ever resident.
    pub peak_kib: u64,
}

impl Rss {
    pub fn read() -> Result<Rss> {
        let status = std::fs::read_to_string("/proc/self/status")?;
        let field = |name: &str| -> Result<u64> {
            let line = status.lines().find(|line| line.starts_with(name)).ok_or(format!("no {name} in status"))?;
            let kib = line.trim_start_matches(name).trim().trim_end_matches("kB").trim();
            Ok(kib.parse()?)
        };
        Ok(Rss { now_kib: field("VmRSS:")?, peak_kib: field("VmHWM:")? })
    }
}

/// CPU time this process has used so far, all threads together, in seconds.
pub fn cpu_seconds() -> Result<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat")?;
    // Fields after the command name, which is in parentheses and may hold spaces: utime and stime
    // are the 14th and 15th fields, in clock ticks of 1/100 s (USER_HZ on Linux).
    let after_name = stat.rsplit_once(')').ok_or("malformed /proc/self/stat")?.1;
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    let ticks = |index: usize| -> Result<f64> { Ok(fields.get(index).ok_or("short /proc/self/stat")?.parse::<f64>()?) };
    Ok((ticks(11)? + ticks(12)?) / 100.0)
}

/// The load average over the last minute: how busy the shared machine was.
pub fn load_average() -> Result<f64> {
    let text = std::fs::read_to_string("/proc/loadavg")?;
    Ok(text.split_whitespace().next().ok_or("empty /proc/loadavg")?.parse()?)
}

pub fn mib(kib: u64) -> String {
    format!("{:.0} MiB", kib as f64 / 1024.0)
}
