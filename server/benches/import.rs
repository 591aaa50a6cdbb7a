//! The import and duplicate benchmarks of issue 17. Prints Markdown tables (see BENCHMARKS.md).
//!
//! ```text
//! cargo bench -p parcours-server --bench import -- [--rows 100000] [--people 40000] [--registered 300000] [--runs 3]
//! ```
//!
//! Import: a sheet of `--rows` rows, one per contract, of `--people` people (sorted by person, as
//! an export is), is generated as CSV and as XLSX (dates as dates, hours as numbers) with the ACI
//! sample's mapping (`examples/import/`). Each import runs in a child process of this binary on a
//! fresh store, through `parcours_server::import::run` as `parcours import-sheet` runs it, and
//! reports its wall time and its peak resident memory (`VmHWM`); the same file is then imported
//! again into the same store (the second run adds nothing). Each case runs `--runs` times, each
//! time on a fresh store: the table gives the median of each figure, and every run is printed
//! below it (the machine is shared: one run alone says little). Baselines of the same run: reading
//! the CSV's rows alone (the parse every pass pays), and the CSV import of a sheet five times
//! smaller (peak memory does not grow with the file). Input files and stores are deleted at the end.
//!
//! Duplicates: `--registered` people are indexed in a store's blind keys, then the lookup a
//! registration makes (`same_name_and_birth_date`: HMAC + one prefix scan) is timed 20,000 times
//! for people who are there, against the same lookup on an empty index.

// The shared statistics; this benchmark uses some of them.
#[allow(dead_code)]
#[path = "../../benches/stats.rs"]
mod stats;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use parcours_core::store::{Author, Store, StoreOptions};
use parcours_core::vocabulary::{Actor, Date, PersonalData, StreamId};
use parcours_server::app::import::{self, ImportOptions, Mapping, Source};

/// The binary's allocator, so that these figures are those of `parcours import-sheet` (until
/// 2026-12-07's second series the child used glibc's `malloc`; BENCHMARKS.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const FIRST_NAMES: [&str; 8] = ["Hélène", "Karim", "Aïssata", "Éric", "Samira", "Julien", "Françoise", "Mathéo"];

fn argument(name: &str, default: u64) -> u64 {
    let arguments: Vec<String> = std::env::args().collect();
    arguments
        .iter()
        .position(|argument| argument == name)
        .and_then(|at| arguments.get(at + 1))
        .and_then(|value| value.parse().ok())
        .unwrap_or(default)
}

fn mapping_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/import/aci-mapping.json")
}

/// The rows of the sheet: person i has 2 or 3 contracts (rows), 180 days apart; every other
/// person left after their last contract.
fn rows(rows: u64, people: u64) -> Vec<[String; 15]> {
    let start = chrono::NaiveDate::from_ymd_opt(2019, 1, 7).unwrap_or_default();
    let three = rows.saturating_sub(2 * people).min(people);
    let mut out = Vec::with_capacity(rows as usize);
    let day = |date: chrono::NaiveDate| date.format("%d/%m/%Y").to_string();
    for person in 0..people {
        let contracts = if person < three { 3 } else { 2 };
        let referral = start + chrono::Duration::days((person % 1500) as i64);
        let birth = chrono::NaiveDate::from_ymd_opt(
            1960 + (person % 40) as i32,
            1 + (person % 12) as u32,
            1 + (person % 28) as u32,
        )
        .unwrap_or_default();
        for contract in 0..contracts {
            let begin = referral + chrono::Duration::days(7 + 180 * contract);
            let end = begin + chrono::Duration::days(179);
            let last = contract + 1 == contracts;
            let exit = last && person % 2 == 0;
            out.push([
                format!("Nom{person:06}"),
                FIRST_NAMES[(person % 8) as usize].to_owned(),
                day(birth),
                if person % 2 == 0 { "F" } else { "H" }.to_owned(),
                day(referral),
                "France Travail".to_owned(),
                "Demandeur d'emploi".to_owned(),
                format!("C-{person:06}-{contract}"),
                "CDDI".to_owned(),
                day(begin),
                "26".to_owned(),
                if !last || exit { day(end) } else { String::new() },
                if !last || exit { "Fin de contrat".to_owned() } else { String::new() },
                if exit { day(end) } else { String::new() },
                if exit { "CDI".to_owned() } else { String::new() },
            ]);
        }
    }
    out
}

const HEADER: [&str; 15] = [
    "Nom",
    "Prénom",
    "Né(e) le",
    "Sexe",
    "Entrée",
    "Prescripteur",
    "Situation",
    "N° contrat",
    "Contrat",
    "Début contrat",
    "Heures/sem",
    "Fin contrat",
    "Motif fin",
    "Sortie",
    "Motif de sortie",
];
const DATE_COLUMNS: [usize; 5] = [2, 4, 9, 11, 13];

fn write_csv(path: &Path, rows: &[[String; 15]]) -> std::io::Result<()> {
    let mut file = std::io::BufWriter::new(std::fs::File::create(path)?);
    writeln!(file, "{}", HEADER.join(","))?;
    for row in rows {
        writeln!(file, "{}", row.join(","))?;
    }
    file.flush()
}

fn write_xlsx(path: &Path, rows: &[[String; 15]]) -> Result<(), rust_xlsxwriter::XlsxError> {
    use rust_xlsxwriter::{ExcelDateTime, Format, Workbook};
    let mut workbook = Workbook::new();
    let sheet = workbook.add_worksheet();
    sheet.set_name("Salariés")?;
    let date = Format::new().set_num_format("dd/mm/yyyy");
    for (column, name) in HEADER.iter().enumerate() {
        sheet.write_string(0, column as u16, *name)?;
    }
    for (at, row) in rows.iter().enumerate() {
        let line = at as u32 + 1;
        for (column, cell) in row.iter().enumerate() {
            if cell.is_empty() {
                continue;
            }
            let column16 = column as u16;
            if DATE_COLUMNS.contains(&column) {
                let parts: Vec<u16> = cell.split('/').filter_map(|part| part.parse().ok()).collect();
                let value = ExcelDateTime::from_ymd(parts[2], parts[1] as u8, parts[0] as u8)?;
                sheet.write_datetime_with_format(line, column16, value, &date)?;
            } else if column == 10 {
                sheet.write_number(line, column16, cell.parse::<f64>().unwrap_or(0.0))?;
            } else {
                sheet.write_string(line, column16, cell)?;
            }
        }
    }
    workbook.save(path)
}

/// The peak resident memory of this process, in MiB.
fn peak_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let kib: f64 = status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(f64::NAN);
    kib / 1024.0
}

/// In the child: one import, one line of figures on stdout.
fn child(file: &Path, data: &Path) {
    // As the binary does at its start (`main.rs`).
    let _ = nix::sys::prctl::set_thp_disable(true);
    let mapping = Mapping::from_json(&std::fs::read(mapping_path()).expect("the mapping")).expect("a mapping");
    let store = Store::open(data, StoreOptions::default()).expect("a store");
    let today = Date(chrono::Utc::now().date_naive());
    let options = ImportOptions { dry_run: false, skip_bad_rows: false, today };
    let author = Author::from(Actor("bench".into()));
    let started = Instant::now();
    let report = import::run(&store, &author, &Source::Path(file.to_owned()), &mapping, &options, &mut |_| {})
        .expect("the import");
    let seconds = started.elapsed().as_secs_f64();
    assert_eq!(report.errors_total, 0, "{:?}", report.errors.first());
    println!("{seconds} {} {} {} {}", report.rows, report.events_new, report.events_already_there, peak_mib());
}

struct Run {
    seconds: f64,
    rows: u64,
    events_new: u64,
    already: u64,
    peak_mib: f64,
}

impl std::fmt::Display for Run {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{:.2} s, {}, {} new, {} there, {:.0} MiB",
            self.seconds,
            stats::rate(self.rows as f64 / self.seconds),
            self.events_new,
            self.already,
            self.peak_mib
        )
    }
}

fn run_child(file: &Path, data: &Path) -> Run {
    let output = std::process::Command::new(std::env::current_exe().expect("this binary"))
        .args(["--child", file.to_str().unwrap_or_default(), data.to_str().unwrap_or_default()])
        .output()
        .expect("the child runs");
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{text}\n{}", String::from_utf8_lossy(&output.stderr));
    let line = text.lines().last().unwrap_or_default();
    let fields: Vec<f64> = line.split(' ').filter_map(|field| field.parse().ok()).collect();
    assert_eq!(fields.len(), 5, "{line}");
    Run {
        seconds: fields[0],
        rows: fields[1] as u64,
        events_new: fields[2] as u64,
        already: fields[3] as u64,
        peak_mib: fields[4],
    }
}

fn parse_only(file: &Path) -> f64 {
    let started = Instant::now();
    let mut rows = 0u64;
    Source::Path(file.to_owned())
        .for_each_row(None, "%d/%m/%Y", |_, _| {
            rows += 1;
            Ok(())
        })
        .expect("the CSV reads");
    rows as f64 / started.elapsed().as_secs_f64()
}

fn imports(dir: &Path) {
    let (row_count, people) = (argument("--rows", 100_000), argument("--people", 40_000));
    let sheet = rows(row_count, people);
    let small = rows(row_count / 5, people / 5);
    let (csv, xlsx, small_csv) = (dir.join("sheet.csv"), dir.join("sheet.xlsx"), dir.join("small.csv"));
    write_csv(&csv, &sheet).expect("the CSV");
    write_csv(&small_csv, &small).expect("the small CSV");
    write_xlsx(&xlsx, &sheet).expect("the XLSX");
    drop((sheet, small));
    let size = |path: &Path| std::fs::metadata(path).map(|meta| meta.len() as f64 / 1_048_576.0).unwrap_or(f64::NAN);
    println!("sheet: {row_count} rows, {people} people; CSV {:.1} MiB, XLSX {:.1} MiB\n", size(&csv), size(&xlsx));
    let parse = parse_only(&csv);
    let runs = argument("--runs", 3).max(1);
    let mut raw = Vec::new();
    println!("median of {runs} runs, each on a fresh store\n");
    println!("| case | rows | wall s | rows/s | events new | already there | peak RSS MiB |");
    println!("|---|---|---|---|---|---|---|");
    let row = |name: &str, runs: &[Run]| {
        let median = |figure: fn(&Run) -> f64| stats::median(runs.iter().map(figure).collect());
        let seconds = median(|run| run.seconds);
        let rows = runs[0].rows;
        println!(
            "| {name} | {rows} | {seconds:.2} | {} | {} | {} | {:.0} |",
            stats::rate(median(|run| run.rows as f64 / run.seconds)),
            median(|run| run.events_new as f64),
            median(|run| run.already as f64),
            median(|run| run.peak_mib)
        );
    };
    for (name, file) in [("CSV", &csv), ("XLSX", &xlsx), ("CSV, a fifth of the sheet", &small_csv)] {
        let (mut firsts, mut seconds) = (Vec::new(), Vec::new());
        for attempt in 0..runs {
            let data = dir.join(format!("store-{}-{attempt}", name.len()));
            let first = run_child(file, &data);
            let second = run_child(file, &data);
            let _ = std::fs::remove_dir_all(&data);
            raw.push(format!("{name}, run {}: first {first}; again {second}", attempt + 1));
            firsts.push(first);
            seconds.push(second);
        }
        row(&format!("{name}, first import"), &firsts);
        row(&format!("{name}, same file again"), &seconds);
    }
    println!("\nevery run (wall s, rows/s, events new, already there, peak RSS MiB):");
    for line in raw {
        println!("- {line}");
    }
    println!("\nbaseline: reading the CSV's rows alone: {}", stats::rate(parse));
}

fn duplicates(dir: &Path) {
    let registered = argument("--registered", 300_000);
    let identity = |person: u64| PersonalData {
        first_name: Some(FIRST_NAMES[(person % 8) as usize].to_owned()),
        last_name: Some(format!("Nom{person:07}")),
        birth_date: Date::from_ymd(1950 + (person % 50) as i32, 1 + (person % 12) as u32, 1 + (person % 28) as u32),
        ..PersonalData::default()
    };
    let time = |store: &Store| {
        let mut times = Vec::with_capacity(20_000);
        for lookup in 0..20_000u64 {
            let person = (lookup * 7919) % registered.max(1);
            let started = Instant::now();
            let found = store.blind_keys().same_name_and_birth_date(&identity(person)).expect("a lookup");
            times.push(started.elapsed());
            std::hint::black_box(found);
        }
        times.sort();
        times
    };
    let empty_dir = dir.join("empty");
    let empty = Store::open(&empty_dir, StoreOptions::default()).expect("a store");
    let baseline = time(&empty);
    drop(empty);
    let full_dir = dir.join("registered");
    let store = Store::open(&full_dir, StoreOptions::default()).expect("a store");
    let started = Instant::now();
    for person in 0..registered {
        store
            .blind_keys()
            .index(StreamId(uuid::Uuid::from_u128(u128::from(person) + 1)), &identity(person))
            .expect("index");
    }
    let indexing = started.elapsed();
    let times = time(&store);
    let ms = |times: &[Duration], q| stats::percentile_ms(times, q);
    println!("\nduplicate lookup at registration ({registered} people indexed in {:.1} s):\n", indexing.as_secs_f64());
    println!("| index | p50 ms | p99 ms | max ms |");
    println!("|---|---|---|---|");
    println!(
        "| empty (baseline) | {:.4} | {:.4} | {:.4} |",
        ms(&baseline, 0.5),
        ms(&baseline, 0.99),
        ms(&baseline, 1.0)
    );
    println!("| {registered} people | {:.4} | {:.4} | {:.4} |", ms(&times, 0.5), ms(&times, 0.99), ms(&times, 1.0));
    let size = store.size_on_disk().unwrap_or(0) as f64 / 1_048_576.0;
    println!("\nstore on disk with the index: {size:.0} MiB");
}

fn main() {
    let arguments: Vec<String> = std::env::args().collect();
    if let Some(at) = arguments.iter().position(|argument| argument == "--child") {
        child(Path::new(&arguments[at + 1]), Path::new(&arguments[at + 2]));
        return;
    }
    let dir = tempfile::tempdir().expect("a temporary directory");
    let only = arguments.iter().position(|argument| argument == "--only").and_then(|at| arguments.get(at + 1)).cloned();
    if only.as_deref().is_none_or(|only| only == "import") {
        imports(dir.path());
    }
    if only.as_deref().is_none_or(|only| only == "duplicates") {
        duplicates(dir.path());
    }
}
