//! What the HTTP benchmarks share: the people they set up through the API, wrk and its report,
//! the server's CPU time, and the statistics of the tables (see `benches/http/README.md`).

use std::fmt::Write as _;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use parcours_tests::Client;
use serde_json::{json, Value};

pub type Error = Box<dyn std::error::Error + Send + Sync>;
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// The structure every benchmark person belongs to, and that the coordinator's token names.
pub const STRUCTURE: &str = "bench-aci";
/// When the people were registered and referred; every later step falls after, and before today.
pub const REGISTERED_ON: &str = "2025-01-06";
pub const REFERRED_ON: &str = "2025-01-07";
/// The date of every appended follow-up.
pub const FOLLOW_UP_ON: &str = "2025-02-03";

/// The body of one append: a follow-up, valid any number of times in an open episode, so that
/// every request of a run is accepted whatever came before it.
pub fn follow_up_body() -> Value {
    json!({"events": [{"type": "follow_up_held", "occurred_on": FOLLOW_UP_ON, "data": {"kind": "phone"}}]})
}

pub fn log(bench: &str, message: impl AsRef<str>) {
    eprintln!("[{bench} bench] {}", message.as_ref());
}

/// A coordinator's token for [`STRUCTURE`], created with `parcours token create` in the empty
/// store before the server opens it: the credential a real client sends, checked by the store.
pub fn coordinator_token(bin: &Path, data: &Path) -> Result<String> {
    role_token(bin, data, "coordinator")
}

/// A token of any role (with [`STRUCTURE`] for a coordinator).
pub fn role_token(bin: &Path, data: &Path, role: &str) -> Result<String> {
    let data = data.to_str().ok_or("a non-UTF-8 data directory")?;
    let mut args = vec!["token", "create", "--role", role, "--label", "bench", "--data", data];
    if role == "coordinator" {
        args.extend(["--structure", STRUCTURE]);
    }
    let output = parcours_tests::run(bin, &args);
    if !output.status.success() {
        return Err(format!("parcours token create: {}", String::from_utf8_lossy(&output.stderr)).into());
    }
    Ok(String::from_utf8(output.stdout)?.trim().to_owned())
}

/// Registers `count` people (identity included, as a real registration) and refers them, with
/// `follow_ups` follow-ups in the same request as the referral; `concurrency` requests at a time.
/// Returns their ids.
pub async fn people(client: &Client, count: usize, follow_ups: usize, concurrency: usize) -> Result<Vec<String>> {
    let mut ids = Vec::with_capacity(count);
    let mut next = 0;
    while next < count {
        let wave: Vec<_> = (next..count.min(next + concurrency))
            .map(|n| {
                let client = client.clone();
                tokio::spawn(async move { person(&client, n, follow_ups).await })
            })
            .collect();
        for handle in wave {
            ids.push(handle.await??);
        }
        next += concurrency;
    }
    Ok(ids)
}

async fn person(client: &Client, n: usize, follow_ups: usize) -> Result<String> {
    let registration = json!({"occurred_on": REGISTERED_ON, "data": {"structure": STRUCTURE,
        "gender": if n % 2 == 0 { "female" } else { "male" }, "birth_year": 1970 + n % 40,
        "identity": {"first_name": format!("Prénom{n}"), "last_name": "Martin", "email": format!("p{n}@example.org")}}});
    let answer = client.post("/api/beneficiaries", &registration).await;
    if answer.status != 201 {
        return Err(format!("registration: {} {}", answer.status, answer.text).into());
    }
    let id = answer.body["id"].as_str().ok_or("registration without an id")?.to_owned();
    let mut events = vec![json!({"type": "referred", "occurred_on": REFERRED_ON, "data": {"structure": STRUCTURE,
        "prescriber": {"kind": "france_travail"}, "programme": "aci", "situation": "long_term_unemployed",
        "benefits": ["rsa"]}})];
    for _ in 0..follow_ups {
        events.push(follow_up_body()["events"][0].clone());
    }
    let answer = client.post(&format!("/api/beneficiaries/{id}/events"), &json!({"events": events})).await;
    if answer.status != 201 {
        return Err(format!("referral: {} {}", answer.status, answer.text).into());
    }
    Ok(id)
}

// ---------------------------------------------------------------------------------------------
// wrk

/// What one wrk run measured, from the `done` function of our scripts.
#[derive(Clone, Copy, Debug, Default)]
pub struct WrkRun {
    pub requests: u64,
    pub seconds: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
    /// Answers with a status ≥ 400, and socket errors (connect, read, write, timeout).
    pub status_errors: u64,
    pub socket_errors: u64,
}

impl WrkRun {
    pub fn per_second(&self) -> f64 {
        self.requests as f64 / self.seconds
    }
}

/// How each request of a run is made.
pub enum Requests<'a> {
    /// `GET` of one path, the same every time.
    Get { path: &'a str },
    /// `GET path_before{id}path_after` over the ids, in turn.
    GetEach { ids: &'a [String], before: &'a str, after: &'a str },
    /// `POST before{id}after` with a JSON body, over the ids in turn.
    PostEach { ids: &'a [String], before: &'a str, after: &'a str, body: &'a str },
}

/// Writes a wrk script that prepares every request once (so that Lua costs little per request:
/// wrk shares the two cores with the server) and reports in one parseable line.
fn script(requests: &Requests, token: Option<&str>) -> String {
    let mut lua = String::from("local prepared = {}\nlocal next_one = 0\n");
    let auth = token.map(|token| format!("[\"Authorization\"] = \"Bearer {token}\", ")).unwrap_or_default();
    let _ = writeln!(lua, "local headers = {{ {auth}[\"Content-Type\"] = \"application/json\" }}");
    lua.push_str("function init(args)\n");
    match requests {
        Requests::Get { path } => {
            let _ = writeln!(lua, "  prepared[1] = wrk.format(\"GET\", \"{path}\", headers)");
        }
        Requests::GetEach { ids, before, after } => {
            for id in *ids {
                let _ =
                    writeln!(lua, "  prepared[#prepared + 1] = wrk.format(\"GET\", \"{before}{id}{after}\", headers)");
            }
        }
        Requests::PostEach { ids, before, after, body } => {
            let _ = writeln!(lua, "  local body = [[{body}]]");
            for id in *ids {
                let _ = writeln!(
                    lua,
                    "  prepared[#prepared + 1] = wrk.format(\"POST\", \"{before}{id}{after}\", headers, body)"
                );
            }
        }
    }
    // Threads start at different places so that two connections rarely append to one stream at
    // the same moment (they may: the store orders them, as it would real clients).
    lua.push_str("  next_one = math.random(#prepared)\nend\n");
    lua.push_str(
        "function request()\n  next_one = next_one % #prepared + 1\n  return prepared[next_one]\nend\n\
         function done(summary, latency, requests)\n\
         \x20 local e = summary.errors\n\
         \x20 io.write(string.format(\"WRK_RESULT %d %d %d %d %d %d %d\\n\", summary.requests, summary.duration,\n\
         \x20   latency:percentile(50), latency:percentile(99), latency.max, e.status,\n\
         \x20   e.connect + e.read + e.write + e.timeout))\n\
         end\n",
    );
    lua
}

/// Runs wrk against `url` for `duration` with `connections` connections.
pub fn wrk(
    url: &str,
    requests: &Requests,
    token: Option<&str>,
    connections: usize,
    threads: usize,
    duration: Duration,
    scratch: &Path,
) -> Result<WrkRun> {
    let script_path = scratch.join("bench.lua");
    std::fs::write(&script_path, script(requests, token))?;
    let output = Command::new("wrk")
        .args(["-t", &threads.to_string(), "-c", &connections.to_string()])
        .args(["-d", &format!("{}s", duration.as_secs().max(1)), "--timeout", "10s"])
        .arg("-s")
        .arg(&script_path)
        .arg(url)
        .output()
        .map_err(|error| format!("wrk could not run ({error}); install it: apt-get install -y wrk"))?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    let line = stdout
        .lines()
        .find_map(|line| line.strip_prefix("WRK_RESULT "))
        .ok_or_else(|| format!("wrk printed no result: {stdout} {}", String::from_utf8_lossy(&output.stderr)))?;
    let numbers: Vec<u64> = line.split_whitespace().map(str::parse).collect::<Result<_, _>>()?;
    let [requests, duration_us, p50, p99, max, status_errors, socket_errors] = numbers[..] else {
        return Err(format!("unexpected wrk result: {line}").into());
    };
    Ok(WrkRun {
        requests,
        seconds: duration_us as f64 / 1e6,
        p50_ms: p50 as f64 / 1e3,
        p99_ms: p99 as f64 / 1e3,
        max_ms: max as f64 / 1e3,
        status_errors,
        socket_errors,
    })
}

// ---------------------------------------------------------------------------------------------
// CPU time and the machine.

/// User + system CPU time of a process so far (`/proc/PID/stat`, in clock ticks of 10 ms).
pub fn cpu_time(pid: u32) -> Result<Duration> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
    // The command name may hold spaces: the fields that follow start after its closing parenthesis.
    let rest = stat.rsplit_once(')').ok_or("malformed /proc stat")?.1;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of the whole line, 12 and 13 after the name.
    let ticks: u64 = fields.get(11).ok_or("short /proc stat")?.parse::<u64>()?
        + fields.get(12).ok_or("short /proc stat")?.parse::<u64>()?;
    Ok(Duration::from_millis(ticks * 10))
}

/// The 1-minute load average, to print beside each run: the machine is shared.
pub fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|text| text.split_whitespace().next().map(str::to_owned))
        .unwrap_or_else(|| "?".into())
}

/// Waits until the 1-minute load average is at most `max`, for at most `patience`: lets the
/// previous run's leftovers (fsyncs, the server's exit) settle. Others' load is not ours to wait
/// out forever.
pub fn settle(max: f64, patience: Duration) {
    let started = Instant::now();
    while started.elapsed() < patience {
        if load_average().parse::<f64>().is_ok_and(|load| load <= max) {
            return;
        }
        std::thread::sleep(Duration::from_millis(500));
    }
}

// ---------------------------------------------------------------------------------------------
// Statistics.
