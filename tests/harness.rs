//! The end-to-end harness: starts the real `parcours` binary on a free port and talks HTTP to it.
//! The tests themselves are in `e2e/`, compiled as the server package's integration test so that
//! cargo builds the binary for them.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

/// The admin token every test server accepts (`PARCOURS_ADMIN_TOKEN`).
pub const ADMIN_TOKEN: &str = "prc_test_admin_token_for_the_end_to_end_tests_only";

/// A running `parcours serve`. Killed when dropped.
pub struct Server {
    child: Child,
    pub url: String,
    pub data: PathBuf,
    bin: PathBuf,
}

impl Server {
    /// Starts `parcours serve --data DATA --addr 127.0.0.1:0 ARGS...` and waits until it listens.
    pub fn start(bin: &Path, data: &Path, args: &[&str]) -> Server {
        Server::start_with_env(bin, data, args, &[])
    }

    pub fn start_with_env(bin: &Path, data: &Path, args: &[&str], env: &[(&str, &str)]) -> Server {
        Server::spawn(bin, data, args, env, Stdio::inherit())
    }

    /// Starts a server whose logs (at debug level) go to `log`, for tests that read them.
    pub fn start_logged(bin: &Path, data: &Path, args: &[&str], log: &Path) -> Server {
        let file = std::fs::File::create(log).expect("the log file");
        Server::spawn(bin, data, args, &[("PARCOURS_LOG", "debug")], Stdio::from(file))
    }

    fn spawn(bin: &Path, data: &Path, args: &[&str], env: &[(&str, &str)], stderr: Stdio) -> Server {
        Server::try_spawn(bin, data, args, env, stderr).unwrap_or_else(|error| panic!("{error}"))
    }

    /// Starts a server that may fail to start (a store that does not open): the error says why.
    pub fn try_start(bin: &Path, data: &Path, args: &[&str]) -> Result<Server, String> {
        Server::try_spawn(bin, data, args, &[], Stdio::inherit())
    }

    fn try_spawn(
        bin: &Path,
        data: &Path,
        args: &[&str],
        env: &[(&str, &str)],
        stderr: Stdio,
    ) -> Result<Server, String> {
        let mut child = Command::new(bin)
            .arg("serve")
            .arg("--data")
            .arg(data)
            .args(["--addr", "127.0.0.1:0"])
            .args(args)
            .env("PARCOURS_ADMIN_TOKEN", ADMIN_TOKEN)
            .env("PARCOURS_LOG", "warn")
            .envs(env.iter().copied())
            .stdout(Stdio::piped())
            .stderr(stderr)
            .spawn()
            .expect("the parcours binary starts");
        let stdout = child.stdout.take().expect("piped stdout");
        let (sender, receiver) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut lines = BufReader::new(stdout).lines();
            while let Some(Ok(line)) = lines.next() {
                if let Some(url) = line.strip_prefix("listening on ") {
                    let _ = sender.send(url.to_owned());
                }
                // Keep draining so the server never blocks on a full pipe.
            }
        });
        let url = match receiver.recv_timeout(Duration::from_secs(120)) {
            Ok(url) => url,
            Err(_) => {
                let _ = child.kill();
                let status = child.wait().map(|status| status.to_string()).unwrap_or_default();
                return Err(format!("parcours serve did not start listening within 120 s ({status})"));
            }
        };
        Ok(Server { child, url, data: data.to_owned(), bin: bin.to_owned() })
    }

    /// A client that acts as the environment's admin.
    pub fn admin(&self) -> Client {
        Client::new(&self.url).with_token(ADMIN_TOKEN)
    }

    /// A client without credential.
    pub fn anonymous(&self) -> Client {
        Client::new(&self.url)
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// SIGKILL: the process dies at once, mid-write if it was writing.
    pub fn kill9(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// SIGTERM, then waits for a graceful exit.
    pub fn terminate(mut self) -> ExitStatus {
        let _ = Command::new("kill").args(["-TERM", &self.child.id().to_string()]).status();
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                return status;
            }
            assert!(Instant::now() < deadline, "the server did not stop within 60 s of SIGTERM");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Runs another `parcours` command against the same binary.
    pub fn command(&self, args: &[&str]) -> Output {
        run(&self.bin, args)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs `parcours ARGS...` to completion.
pub fn run(bin: &Path, args: &[&str]) -> Output {
    Command::new(bin).args(args).env("PARCOURS_LOG", "warn").output().expect("the parcours binary runs")
}

/// A small JSON client over reqwest.
#[derive(Clone)]
pub struct Client {
    pub http: reqwest::Client,
    pub base: String,
    pub token: Option<String>,
}

/// Status and parsed body of an answer.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub body: Value,
    pub text: String,
}

impl Client {
    pub fn new(base: &str) -> Client {
        let http = reqwest::Client::builder().pool_max_idle_per_host(64).build().expect("an HTTP client");
        Client { http, base: base.trim_end_matches('/').to_owned(), token: None }
    }

    pub fn with_token(&self, token: &str) -> Client {
        Client { token: Some(token.to_owned()), ..self.clone() }
    }

    fn request(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        let builder = self.http.request(method, format!("{}{path}", self.base));
        match &self.token {
            Some(token) => builder.bearer_auth(token),
            None => builder,
        }
    }

    pub async fn get(&self, path: &str) -> Answer {
        answer(self.request(reqwest::Method::GET, path).send().await.expect("GET answered")).await
    }

    /// GET, the response as it came: for answers that are not JSON (files, pages) and their headers.
    pub async fn get_response(&self, path: &str) -> reqwest::Response {
        self.request(reqwest::Method::GET, path).send().await.expect("GET answered")
    }

    pub async fn post(&self, path: &str, body: &Value) -> Answer {
        answer(self.request(reqwest::Method::POST, path).json(body).send().await.expect("POST answered")).await
    }

    /// POSTs raw bytes as JSON, for malformed bodies.
    pub async fn post_raw(&self, path: &str, body: impl Into<reqwest::Body>) -> Answer {
        let request = self.request(reqwest::Method::POST, path).header("content-type", "application/json").body(body);
        answer(request.send().await.expect("POST answered")).await
    }

    /// POSTs a `multipart/form-data` body of named parts, each with its file name and bytes.
    pub async fn post_multipart(&self, path: &str, parts: Vec<(&str, &str, Vec<u8>)>) -> Answer {
        let mut form = reqwest::multipart::Form::new();
        for (name, file_name, bytes) in parts {
            form = form.part(name.to_owned(), reqwest::multipart::Part::bytes(bytes).file_name(file_name.to_owned()));
        }
        answer(self.request(reqwest::Method::POST, path).multipart(form).send().await.expect("POST answered")).await
    }

    /// PUT with a JSON body; the status only.
    pub async fn put_status(&self, path: &str, body: &Value) -> u16 {
        self.status("PUT", path, Some(body)).await
    }

    pub async fn delete_status(&self, path: &str) -> u16 {
        self.status("DELETE", path, None).await
    }

    /// Any method, an optional JSON body; the status only (the body is not awaited, so a live
    /// feed's answer returns at once).
    pub async fn status(&self, method: &str, path: &str, body: Option<&Value>) -> u16 {
        let method = reqwest::Method::from_bytes(method.as_bytes()).expect("an HTTP method");
        let mut request = self.request(method, path);
        if let Some(body) = body {
            request = request.json(body);
        }
        request.send().await.expect("answered").status().as_u16()
    }

    /// POST that reports transport failures instead of panicking (for crash tests).
    pub async fn try_post(&self, path: &str, body: &Value) -> Result<Answer, reqwest::Error> {
        let response = self.request(reqwest::Method::POST, path).json(body).send().await?;
        Ok(answer(response).await)
    }
}

async fn answer(response: reqwest::Response) -> Answer {
    let status = response.status().as_u16();
    let text = response.text().await.unwrap_or_default();
    let body = serde_json::from_str(&text).unwrap_or(Value::Null);
    Answer { status, body, text }
}
