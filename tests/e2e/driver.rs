//! Starts the real app under tauri-driver (WebKitWebDriver) and hands out a WebDriver client.
//! Needs a display (scripts/test runs everything under xvfb-run) and tauri-driver on PATH
//! (scripts/setup installs it).

use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::elements::Element;
use fantoccini::{Client, ClientBuilder, Locator};

pub struct App {
    pub client: Client,
    driver: Child,
    /// Each click or typed field: the effort measure of UX.md.
    pub interactions: u32,
}

/// Longest a single WebDriver command may go unanswered. WebKitWebDriver can stop answering (it
/// once did after a popup with the webview's compositing off); a named failure beats a hung suite.
const COMMAND_TIMEOUT: Duration = Duration::from_secs(60);

async fn within<T>(what: impl std::fmt::Display, command: impl std::future::Future<Output = T>) -> T {
    match tokio::time::timeout(COMMAND_TIMEOUT, command).await {
        Ok(answer) => answer,
        Err(_) => panic!("WebDriver: {what} got no answer within {COMMAND_TIMEOUT:?}"),
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// Scratch home for one app: XDG dirs (app data lives there) and a unique keychain service.
pub fn scratch(root: &Path) -> Vec<(String, String)> {
    let dir = |name: &str| root.join(name).display().to_string();
    vec![
        ("XDG_DATA_HOME".into(), dir("data")),
        ("XDG_CONFIG_HOME".into(), dir("config")),
        ("XDG_CACHE_HOME".into(), dir("cache")),
        ("JINGTONG_KEYRING_SERVICE".into(), format!("jingtong-e2e-{}", uuid::Uuid::now_v7().simple())),
    ]
}

impl App {
    pub async fn launch(server_url: &str, env: &[(String, String)]) -> App {
        let port = free_port();
        let native = free_port();
        let log = std::fs::File::create(std::env::temp_dir().join(format!("tauri-driver-{port}.log"))).unwrap();
        let mut driver = Command::new("tauri-driver")
            .args(["--port", &port.to_string(), "--native-port", &native.to_string()])
            .env("JINGTONG_SERVER_URL", server_url)
            .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            // A file, not our stderr: WebKitWebDriver outlives tauri-driver by a moment and would
            // hold the test's output open (nextest then reports a leak).
            .stdout(Stdio::null())
            .stderr(log)
            // Its own process group, so stopping it also stops WebKitWebDriver and the app.
            .process_group(0)
            .spawn()
            .expect("tauri-driver must be on PATH: run scripts/setup");
        // tauri-driver opens its port before WebKitWebDriver is listening on the native one; a
        // session request in between fails, so wait for both and retry the session once more.
        let deadline = Instant::now() + Duration::from_secs(20);
        while [port, native].iter().any(|p| std::net::TcpStream::connect(("127.0.0.1", *p)).is_err()) {
            if Instant::now() > deadline {
                stop_group(&mut driver);
                panic!("tauri-driver or WebKitWebDriver did not start");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let caps = serde_json::json!({
            "browserName": "wry",
            "tauri:options": { "application": env!("CARGO_BIN_EXE_jingtong") }
        });
        let mut attempt = 0;
        let client = loop {
            attempt += 1;
            let connected = ClientBuilder::rustls()
                .expect("rustls client")
                .capabilities(caps.as_object().unwrap().clone())
                .connect(&format!("http://127.0.0.1:{port}"))
                .await;
            match connected {
                Ok(client) => break client,
                Err(e) if attempt < 3 => {
                    eprintln!("WebDriver session attempt {attempt} failed: {e}; retrying");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
                Err(e) => {
                    stop_group(&mut driver);
                    panic!("WebDriver session with the app: {e}");
                }
            }
        };
        App { client, driver, interactions: 0 }
    }

    pub async fn find(&self, css: &str) -> Element {
        within(
            format!("find {css}"),
            self.client.wait().at_most(Duration::from_secs(30)).for_element(Locator::Css(css)),
        )
        .await
        .unwrap_or_else(|e| panic!("{css} did not appear: {e}"))
    }

    pub async fn click(&mut self, css: &str) {
        // A closing dialog's overlay can cover the target for a moment: retry. On two loaded cores
        // WebKit has been seen to take more than 5 s to finish a popup's closing animation.
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            match within(format!("click {css}"), self.find(css).await.click()).await {
                Ok(_) => break,
                Err(e) if Instant::now() < deadline => {
                    eprintln!("click {css} not taken yet ({e}); retrying");
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
                Err(e) => panic!("click {css}: {e}"),
            }
        }
        self.interactions += 1;
    }

    pub async fn type_into(&mut self, css: &str, text: &str) {
        within(format!("type into {css}"), self.find(css).await.send_keys(text))
            .await
            .unwrap_or_else(|e| panic!("type into {css}: {e}"));
        self.interactions += 1;
    }

    /// What a file picker does: hands the `<input type=file>` at `css` a file and fires `change`.
    pub async fn give_file(&mut self, css: &str, bytes: &[u8], name: &str, mime: &str) {
        use base64::Engine as _;
        // The screen may still be loading (screens load when first opened): wait for the picker.
        self.find(css).await;
        let script = r#"
            const [css, data, name, mime] = arguments;
            const bin = atob(data);
            const bytes = new Uint8Array(bin.length);
            for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
            const input = document.querySelector(css);
            const dt = new DataTransfer();
            dt.items.add(new File([bytes], name, { type: mime }));
            input.files = dt.files;
            input.dispatchEvent(new Event('change', { bubbles: true }));
        "#;
        let data = base64::engine::general_purpose::STANDARD.encode(bytes);
        let args = vec![css.into(), data.into(), name.into(), mime.into()];
        within(format!("file for {css}"), self.client.execute(script, args))
            .await
            .unwrap_or_else(|e| panic!("file for {css}: {e}"));
        self.interactions += 1;
    }

    pub async fn text(&self, css: &str) -> String {
        within(format!("text of {css}"), self.find(css).await.text()).await.unwrap()
    }

    /// Waits until `css` shows text containing `want`.
    pub async fn wait_for_text(&self, css: &str, want: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let have = self.text(css).await;
            if have.contains(want) {
                return have;
            }
            assert!(Instant::now() < deadline, "{css} shows {have:?}, expected it to contain {want:?}");
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// Waits until at least `n` elements match `css`.
    pub async fn wait_for_count(&self, css: &str, n: usize) {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let have =
                within(format!("find all {css}"), self.client.find_all(Locator::Css(css))).await.map_or(0, |v| v.len());
            if have >= n {
                return;
            }
            assert!(Instant::now() < deadline, "{css}: {have} of {n} appeared");
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    pub async fn screenshot(&self, name: &str) -> PathBuf {
        // WebKit paints the last DOM change a frame or two later than the DOM reports it.
        tokio::time::sleep(Duration::from_millis(800)).await;
        let png = within(format!("screenshot {name}"), self.client.screenshot()).await.unwrap();
        let path = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("e2e-{name}.png"));
        std::fs::write(&path, png).unwrap();
        path
    }

    /// Kills the app at once (SIGKILL to the whole group), as a crash or a dead battery would.
    pub fn kill(mut self) {
        let group = format!("-{}", self.driver.id());
        let _ = Command::new("kill").args(["-KILL", "--", &group]).status();
        let _ = self.driver.wait();
    }

    pub async fn close(self) {
        let _ = within("close", self.client.clone().close()).await;
        // Drop stops the process group.
    }
}

impl Drop for App {
    fn drop(&mut self) {
        stop_group(&mut self.driver);
    }
}

/// Stops tauri-driver's process group: the driver, WebKitWebDriver and the app.
fn stop_group(driver: &mut Child) {
    let group = format!("-{}", driver.id());
    let _ = Command::new("kill").args(["-TERM", "--", &group]).status();
    let _ = driver.wait();
}
