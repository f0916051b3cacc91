//! The packed node in a real n8n (`n8n execute`, headless) against the sandbox: purge, paging,
//! quoted keys, create/update/delete, a CSV download as binary data, and the refusals that must
//! send nothing. And the tarball loading in a fresh n8n with all its resources and operations.
//!
//! n8n comes from `scripts/n8n-setup.sh` (installed once per machine into a cache folder outside
//! the clone; `N8N_BIN` points at another n8n binary instead). The node is installed the way
//! n8n's community-package installer does it: `npm pack`, unpacked under
//! `<user folder>/.n8n/nodes/node_modules/n8n-nodes-threecx`. Results are read from n8n's
//! database (`read-run.js`), not from `n8n execute`'s log output.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use base64::Engine as _;
use serde_json::{json, Value};
use threecx_sandbox::{SandboxConfig, SeedSizes};

use crate::support::{threecx, TestPbx, SECRET, SEED_INPUT};

const NODE_TYPE: &str = "n8n-nodes-threecx.threeCx";
const CREDENTIAL_ID: &str = "threecxSandbox01";
/// Longest any n8n command may take before the test kills it.
const COMMAND_TIMEOUT: Duration = Duration::from_secs(180);

struct N8n {
    bin: PathBuf,
    /// The folder holding `node_modules` (for read-run.js).
    install: PathBuf,
}

fn n8n() -> &'static N8n {
    static N8N: OnceLock<N8n> = OnceLock::new();
    N8N.get_or_init(|| {
        let bin = match std::env::var_os("N8N_BIN") {
            Some(bin) => PathBuf::from(bin),
            None => {
                let script =
                    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/n8n-setup.sh");
                let output = Command::new("bash")
                    .arg(&script)
                    .stderr(Stdio::inherit())
                    .output()
                    .expect("run scripts/n8n-setup.sh");
                assert!(
                    output.status.success(),
                    "scripts/n8n-setup.sh failed: n8n is needed for these tests (Node.js 20+ and \
                     npm; about 2.3 GB, installed once into the cache folder)"
                );
                PathBuf::from(String::from_utf8(output.stdout).unwrap().trim())
            }
        };
        // <install>/node_modules/.bin/n8n
        let install = bin
            .ancestors()
            .nth(3)
            .expect("n8n lives in <install>/node_modules/.bin")
            .to_path_buf();
        N8n { bin, install }
    })
}

/// The package as `npm pack` makes it (the tarball users install).
fn tarball(dir: &Path) -> PathBuf {
    let package = super::package::built();
    let output = Command::new("npm")
        .args(["pack", "--silent", "--pack-destination"])
        .arg(dir)
        .current_dir(package)
        .output()
        .expect("npm pack");
    assert!(output.status.success(), "npm pack failed");
    dir.join(String::from_utf8(output.stdout).unwrap().trim())
}

/// A fresh n8n user folder with the packed node installed as n8n's installer does it.
struct UserFolder {
    dir: tempfile::TempDir,
}

impl UserFolder {
    fn new() -> UserFolder {
        let dir = tempfile::tempdir().unwrap();
        let tgz = tarball(dir.path());
        let target = dir.path().join(".n8n/nodes/node_modules/n8n-nodes-threecx");
        std::fs::create_dir_all(&target).unwrap();
        let status = Command::new("tar")
            .arg("-xzf")
            .arg(&tgz)
            .arg("-C")
            .arg(&target)
            .arg("--strip-components=1")
            .status()
            .unwrap();
        assert!(status.success(), "unpack {}", tgz.display());
        // n8n's installer then installs the package's production dependencies: it has none.
        let manifest: Value =
            serde_json::from_slice(&std::fs::read(target.join("package.json")).unwrap()).unwrap();
        assert!(
            manifest.get("dependencies").is_none(),
            "no runtime dependency"
        );
        UserFolder { dir }
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut c = Command::new(&n8n().bin);
        c.args(args)
            .env("N8N_USER_FOLDER", self.dir.path())
            .env("N8N_ENCRYPTION_KEY", "threecx-test-key")
            .env("N8N_ENFORCE_SETTINGS_FILE_PERMISSIONS", "true")
            .env("N8N_DIAGNOSTICS_ENABLED", "false")
            .env("N8N_VERSION_NOTIFICATIONS_ENABLED", "false")
            .env("N8N_TEMPLATES_ENABLED", "false")
            .env("N8N_PERSONALIZATION_ENABLED", "false")
            .env("N8N_COMMUNITY_PACKAGES_ENABLED", "false")
            // No task runner process (only the Code node needs one); the broker on a free port,
            // so that runs do not collide.
            .env("N8N_RUNNERS_MODE", "external")
            .env("N8N_RUNNERS_AUTH_TOKEN", "unused")
            .env("N8N_RUNNERS_BROKER_PORT", "0")
            .env("N8N_LOG_LEVEL", "warn")
            // Binary data inline in the stored run.
            .env("N8N_DEFAULT_BINARY_DATA_MODE", "default");
        for proxy in [
            "HTTP_PROXY",
            "HTTPS_PROXY",
            "ALL_PROXY",
            "http_proxy",
            "https_proxy",
        ] {
            c.env_remove(proxy);
        }
        c
    }

    /// Runs an n8n command to its end (killed after [`COMMAND_TIMEOUT`]): exit code and output.
    fn run(&self, args: &[&str]) -> (Option<i32>, String) {
        let mut child = self
            .command(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start n8n");
        let started = Instant::now();
        loop {
            if let Some(status) = child.try_wait().unwrap() {
                let mut text = String::new();
                child
                    .stdout
                    .take()
                    .unwrap()
                    .read_to_string(&mut text)
                    .unwrap();
                child
                    .stderr
                    .take()
                    .unwrap()
                    .read_to_string(&mut text)
                    .unwrap();
                return (status.code(), text);
            }
            if started.elapsed() > COMMAND_TIMEOUT {
                let _ = child.kill();
                panic!("n8n {args:?} did not finish within {COMMAND_TIMEOUT:?}");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn import(&self, what: &str, value: &Value) {
        let file = self.dir.path().join(format!("{what}.json"));
        std::fs::write(&file, value.to_string()).unwrap();
        let (code, out) = self.run(&[
            &format!("import:{what}"),
            &format!("--input={}", file.display()),
        ]);
        assert_eq!(code, Some(0), "n8n import:{what}: {out}");
    }

    /// Executes a workflow; the stored run (see read-run.js).
    fn execute(&self, workflow_id: &str) -> Value {
        let (code, out) = self.run(&["execute", &format!("--id={workflow_id}")]);
        let read = Command::new("node")
            .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/cli/n8n/read-run.js"))
            .arg(&n8n().install)
            .arg(self.dir.path())
            .output()
            .unwrap();
        assert!(
            read.status.success(),
            "read-run.js: {}",
            String::from_utf8_lossy(&read.stderr)
        );
        let run: Value = serde_json::from_slice(&read.stdout).unwrap();
        assert_eq!(
            run["workflowId"], workflow_id,
            "the stored run is this one: {out}"
        );
        let ok = run["status"] == "success";
        assert_eq!(
            code == Some(0),
            ok,
            "exit code {code:?} vs stored status: {run}\n{out}"
        );
        run
    }
}

/// A workflow: a manual trigger, then `nodes` (name, parameters) one after the other, each a
/// 3CX node with the sandbox credential.
fn workflow(id: &str, nodes: &[(&str, Value)]) -> Value {
    let mut list = vec![json!({
        "id": "00000000-0000-4000-8000-000000000000", "name": "Start",
        "type": "n8n-nodes-base.manualTrigger", "typeVersion": 1, "position": [0, 0], "parameters": {}
    })];
    let mut connections = serde_json::Map::new();
    let mut previous = "Start".to_owned();
    for (i, (name, parameters)) in nodes.iter().enumerate() {
        list.push(json!({
            "id": format!("00000000-0000-4000-8000-00000000000{}", i + 1),
            "name": name, "type": NODE_TYPE, "typeVersion": 1,
            "position": [200 * (i + 1), 0], "parameters": parameters,
            "credentials": {"threeCxApi": {"id": CREDENTIAL_ID, "name": "3CX sandbox"}}
        }));
        connections.insert(
            previous.clone(),
            json!({"main": [[{"node": name, "type": "main", "index": 0}]]}),
        );
        previous = (*name).to_owned();
    }
    json!({"id": id, "name": id, "active": false, "settings": {}, "nodes": list,
        "connections": connections})
}

fn items<'a>(run: &'a Value, node: &str) -> &'a Vec<Value> {
    run["nodes"][node]["items"]
        .as_array()
        .unwrap_or_else(|| panic!("no items of {node}: {run}"))
}

/// `@odata.count` of `resource`/`action` with `filter`, through the CLI.
fn count(pbx: &TestPbx, resource: &str, action: &str, filter: Option<&str>) -> u64 {
    let mut input = json!({"$count": true, "$top": 0});
    if let Some(f) = filter {
        input["$filter"] = json!(f);
    }
    let run = threecx(["call", resource, action, "--input", &input.to_string()])
        .sandbox(pbx)
        .run();
    run.assert_code(0);
    run.json()["@odata.count"].as_u64().expect("@odata.count")
}

const CHATS: (&str, &str) = (
    "Chat Messages History View",
    "List Chat Messages History View",
);

#[test]
fn workflows_in_real_n8n_against_the_sandbox() {
    let started = Instant::now();
    let pbx = TestPbx::start(SandboxConfig {
        sizes: SeedSizes {
            users: 230,
            groups: 3,
            call_history: 500,
            chat_messages: 400,
        },
        ..SandboxConfig::default()
    });
    let folder = UserFolder::new();
    folder.import(
        "credentials",
        &json!([{"id": CREDENTIAL_ID, "name": "3CX sandbox", "type": "threeCxApi",
            "data": {"url": pbx.handle.url(), "clientId": pbx.handle.client_id(),
                     "clientSecret": SECRET}}]),
    );
    let period: Value = serde_json::from_str(SEED_INPUT).unwrap();
    let period_text = period["period"].to_string();
    // A user whose number needs quoting (created through the CLI).
    threecx([
        "call",
        "Users",
        "Create User",
        "--input",
        r#"{"body":{"Number":"7'1","FirstName":"Quote","LastName":"O'Brien"}}"#,
    ])
    .sandbox(&pbx)
    .run()
    .assert_code(0);

    folder.import("workflow", &the_workflows(&period_text));
    let setup = started.elapsed();

    purge_the_chats_of_the_period(&folder, &pbx);
    list_every_user_over_several_pages(&folder, &pbx);
    get_a_user_by_a_key_with_a_quote(&folder, &pbx);
    create_update_read_back_and_delete_a_user(&folder, &pbx);
    download_a_csv_report_as_binary_data(&folder);
    refusals_send_nothing(&folder, &pbx);

    println!(
        "n8n end to end: {:.1} s in all (set-up {:.1} s, 8 workflows)",
        started.elapsed().as_secs_f64(),
        setup.as_secs_f64()
    );
}

/// The eight workflows: one per step below.
fn the_workflows(period_text: &str) -> Value {
    json!([
        workflow(
            "wfPurgeChats0001",
            &[(
                "Purge",
                json!({
            "resource": "PurgeSettings", "operation": "PurgeChats",
            "period": period_text, "confirm": true})
            )]
        ),
        workflow(
            "wfListUsers00001",
            &[(
                "Users",
                json!({
            "resource": "Users", "operation": "ListUser", "returnAll": true,
            "options": {"select": "Id,Number"}})
            )]
        ),
        workflow(
            "wfUserByNumber01",
            &[(
                "User",
                json!({
            "resource": "Users", "operation": "GetUserByNumber", "Number": "7'1"})
            )]
        ),
        workflow(
            "wfUserCrud000001",
            &[
                (
                    "Create",
                    json!({"resource": "Users", "operation": "CreateUser",
                "body": r#"{"Number":"4711","FirstName":"Ada","LastName":"Lovelace"}"#})
                ),
                (
                    "Update",
                    json!({"resource": "Users", "operation": "UpdateUser",
                "Id": "={{ $json.Id }}", "body": r#"{"LastName":"Byron"}"#})
                ),
                (
                    "Get",
                    json!({"resource": "Users", "operation": "GetUser",
                "Id": "={{ $('Create').item.json.Id }}"})
                ),
                (
                    "Delete",
                    json!({"resource": "Users", "operation": "DeleteUser",
                "Id": "={{ $('Create').item.json.Id }}", "confirm": true})
                ),
            ]
        ),
        workflow(
            "wfCallsCsv000001",
            &[(
                "Csv",
                json!({
            "resource": "CallHistoryView", "operation": "DownloadCallHistory"})
            )]
        ),
        workflow(
            "wfBadPeriod00001",
            &[(
                "Purge",
                json!({
            "resource": "PurgeSettings", "operation": "PurgeChats",
            "period": r#"{"Start":"yesterday"}"#, "confirm": true})
            )]
        ),
        workflow(
            "wfUnconfirmed001",
            &[(
                "Purge",
                json!({
            "resource": "PurgeSettings", "operation": "PurgeChats", "period": period_text})
            )]
        ),
    ])
}

/// Purge the chats of the period: those inside gone, the others kept.
fn purge_the_chats_of_the_period(folder: &UserFolder, pbx: &TestPbx) {
    let inside = "TimeSent ge 2024-01-01T00:00:00Z and TimeSent le 2024-06-30T23:59:59Z";
    let outside = "TimeSent lt 2024-01-01T00:00:00Z or TimeSent gt 2024-06-30T23:59:59Z";
    let outside_before = count(pbx, CHATS.0, CHATS.1, Some(outside));
    assert!(count(pbx, CHATS.0, CHATS.1, Some(inside)) > 0);
    let run = folder.execute("wfPurgeChats0001");
    assert_eq!(
        items(&run, "Purge")[0]["json"],
        json!({"success": true, "status": 204})
    );
    assert_eq!(pbx.handle.count("POST", "/xapi/v1/PurgeChats"), 1);
    assert_eq!(count(pbx, CHATS.0, CHATS.1, Some(inside)), 0);
    assert_eq!(count(pbx, CHATS.0, CHATS.1, Some(outside)), outside_before);
}

/// Every user, over several pages.
fn list_every_user_over_several_pages(folder: &UserFolder, pbx: &TestPbx) {
    let run = folder.execute("wfListUsers00001");
    let users = items(&run, "Users");
    assert_eq!(users.len() as u64, count(pbx, "Users", "List User", None));
    assert!(users.len() > 200, "more than two pages of 100");
    assert_eq!(
        users[0]["json"].as_object().unwrap().len(),
        2,
        "$select: Id, Number"
    );
}

/// A key with a quote.
fn get_a_user_by_a_key_with_a_quote(folder: &UserFolder, pbx: &TestPbx) {
    let run = folder.execute("wfUserByNumber01");
    assert_eq!(items(&run, "User")[0]["json"]["LastName"], "O'Brien");
    assert!(pbx
        .handle
        .requests()
        .iter()
        .any(|r| r.path.contains("Number='7''1'") || r.path.contains("Number=%277%27%271%27")));
}

/// Create, update, read back, delete.
fn create_update_read_back_and_delete_a_user(folder: &UserFolder, pbx: &TestPbx) {
    let run = folder.execute("wfUserCrud000001");
    let id = items(&run, "Create")[0]["json"]["Id"]
        .as_i64()
        .expect("created Id");
    assert_eq!(items(&run, "Update")[0]["json"]["status"], 204);
    assert_eq!(items(&run, "Get")[0]["json"]["LastName"], "Byron");
    assert_eq!(items(&run, "Delete")[0]["json"]["success"], true);
    let gone = threecx(["call", "Users", "Get User", "--param", &format!("Id={id}")])
        .sandbox(pbx)
        .run();
    gone.assert_code(4);
}

/// A CSV report as binary data.
fn download_a_csv_report_as_binary_data(folder: &UserFolder) {
    let run = folder.execute("wfCallsCsv000001");
    let item = &items(&run, "Csv")[0];
    let binary = &item["binary"]["data"];
    assert_eq!(binary["fileName"], "DownloadCallHistory.csv");
    assert!(binary["mimeType"].as_str().unwrap().starts_with("text/csv"));
    let csv = base64::engine::general_purpose::STANDARD
        .decode(binary["data"].as_str().expect("inline data"))
        .expect("base64");
    let csv = String::from_utf8(csv).unwrap();
    assert!(
        csv.starts_with("CallId,StartTime,"),
        "{}",
        &csv[..40.min(csv.len())]
    );
    assert_eq!(csv.lines().count(), 501, "header + 500 rows");
    assert_eq!(item["json"]["size"], csv.len());
}

/// Refusals send nothing, not even a token request.
fn refusals_send_nothing(folder: &UserFolder, pbx: &TestPbx) {
    let before = pbx.handle.requests().len();
    let run = folder.execute("wfBadPeriod00001");
    let error = &run["nodes"]["Purge"]["error"];
    let message = error["message"].as_str().unwrap_or_default();
    assert!(
        message.contains("/period/Start") && message.contains("date-time"),
        "{run}"
    );
    let run = folder.execute("wfUnconfirmed001");
    let message = run["nodes"]["Purge"]["error"]["message"]
        .as_str()
        .unwrap_or_default();
    assert!(
        message.contains("destructive") && message.contains("Confirm"),
        "{run}"
    );
    assert_eq!(
        pbx.handle.requests().len(),
        before,
        "nothing reached the sandbox"
    );
}

/// Kills `n8n start` when the test ends, panics included.
struct Server(std::process::Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// What `n8n start` serves the editor: the node types it loaded (needs a logged-in user).
async fn loaded_types(base: &str, credential: Value) -> (Duration, Value, Value, Value) {
    let http = reqwest::Client::new();
    let started = Instant::now();
    let deadline = started + COMMAND_TIMEOUT;
    while http
        .get(format!("{base}/healthz"))
        .send()
        .await
        .map_or(true, |r| !r.status().is_success())
    {
        assert!(Instant::now() < deadline, "n8n start: no /healthz");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let healthy = started.elapsed();
    // The REST routes come up a little after /healthz.
    let cookie = loop {
        let r = http
            .post(format!("{base}/rest/owner/setup"))
            .json(
                &json!({"email": "owner@example.com", "firstName": "O", "lastName": "W",
                "password": "Passw0rd!xyz"}),
            )
            .send()
            .await
            .unwrap();
        // Until the route exists, the editor's pages answer instead (without a session).
        if let Some(cookie) = r
            .headers()
            .get("set-cookie")
            .filter(|_| r.status().is_success())
        {
            break cookie
                .to_str()
                .unwrap()
                .split(';')
                .next()
                .unwrap()
                .to_owned();
        }
        assert!(Instant::now() < deadline, "n8n start: owner set-up refused");
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    let get = |path: &str| {
        http.get(format!("{base}{path}"))
            .header("Cookie", &cookie)
            .send()
    };
    let nodes: Value = get("/types/nodes.json")
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let credentials: Value = get("/types/credentials.json")
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    // The credential's own test, as the editor's "Test" button runs it (on a saved credential).
    let created: Value = http
        .post(format!("{base}/rest/credentials"))
        .header("Cookie", &cookie)
        .json(&credential)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let mut credential = credential;
    credential["id"] = created["data"]["id"].clone();
    assert!(credential["id"].is_string(), "credential saved: {created}");
    let tested: Value = http
        .post(format!("{base}/rest/credentials/test"))
        .header("Cookie", &cookie)
        .json(&json!({"credentials": credential}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    (healthy, nodes, credentials, tested)
}

#[test]
fn the_packed_node_loads_in_a_fresh_n8n_with_every_resource_and_operation() {
    let folder = UserFolder::new();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let _server = Server(
        folder
            .command(&["start"])
            .env("N8N_PORT", port.to_string())
            .env("N8N_LISTEN_ADDRESS", "127.0.0.1")
            .env("N8N_SECURE_COOKIE", "false")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("n8n start"),
    );
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let pbx = TestPbx::small();
    let credential = |secret: &str| {
        json!({"name": "3CX sandbox", "type": "threeCxApi",
            "data": {"url": pbx.handle.url(), "clientId": pbx.handle.client_id(),
                     "clientSecret": secret}})
    };
    let (healthy, nodes, credentials, tested) = runtime.block_on(loaded_types(
        &format!("http://127.0.0.1:{port}"),
        credential(SECRET),
    ));
    assert_eq!(
        tested["data"]["status"], "OK",
        "the credential test passes: {tested}"
    );
    assert!(pbx.handle.count("GET", "/xapi/v1/SystemStatus") >= 1);

    let node = nodes
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["name"] == NODE_TYPE)
        .expect("n8n loaded the 3CX node");
    assert_eq!(node["displayName"], "3CX");
    let properties = node["properties"].as_array().unwrap();
    // n8n adds a "Custom API Call" entry to each list for credentials with generic auth.
    let real = |p: &Value| {
        p["options"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|o| o["value"] != "__CUSTOM_API_CALL__")
            .count()
    };
    let resources: usize = properties
        .iter()
        .filter(|p| p["name"] == "resource")
        .map(real)
        .sum();
    let operations: usize = properties
        .iter()
        .filter(|p| p["name"] == "operation")
        .map(real)
        .sum();
    println!(
        "n8n loaded {NODE_TYPE}: {resources} resources, {operations} operations; /healthz after {:.1} s",
        healthy.as_secs_f64()
    );
    assert_eq!((resources, operations), (132, 601));
    assert!(
        credentials
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["name"] == "threeCxApi"),
        "the 3CX API credential type is loaded"
    );
}
