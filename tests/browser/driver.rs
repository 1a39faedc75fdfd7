//! Headless Chromium over WebDriver: a `chromedriver` process of the test's own and one browser
//! session per user, with helpers that poll against deadlines and save a screenshot of each page.

use std::{
    future::Future,
    os::unix::process::CommandExt,
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    sync::{
        Arc, Mutex, OnceLock,
        atomic::{AtomicUsize, Ordering},
    },
    time::{Duration, Instant},
};

use fantoccini::{Client, ClientBuilder, Locator, elements::Element};
use serde_json::{Value, json};
use support::ports::free_port;

/// How long an element, a page or a state may take to show up, unless a step says otherwise.
pub const PATIENCE: Duration = Duration::from_secs(20);

/// Where the screenshots go: `tests/browser/screenshots/NN-name.png`.
pub fn screenshots_dir() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("browser/screenshots");
        // The pictures of an earlier run go; the folder is made once per test process.
        // (Listed first, then removed: removing while listing may skip entries.)
        let old: Vec<PathBuf> = std::fs::read_dir(&dir)
            .map(|entries| entries.flatten().map(|e| e.path()).collect())
            .unwrap_or_default();
        for path in old {
            if matches!(
                path.extension().and_then(|e| e.to_str()),
                Some("png" | "html")
            ) {
                let _ = std::fs::remove_file(path);
            }
        }
        std::fs::create_dir_all(&dir).expect("the screenshots folder is created");
        dir
    })
}

/// A program the test needs: from `variable` if set, else `default`; missing fails the test.
fn program(variable: &str, default: &str, package: &str) -> PathBuf {
    let path = std::env::var_os(variable)
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(default));
    let runnable = std::fs::metadata(&path)
        .map(|m| {
            use std::os::unix::fs::PermissionsExt;
            m.is_file() && m.permissions().mode() & 0o111 != 0
        })
        .unwrap_or(false);
    assert!(
        runnable,
        "the browser test needs {} (set {variable} to override): install Debian's {package} \
         (`apt-get install chromium chromium-driver`)",
        path.display()
    );
    path
}

/// A `chromedriver` on a free loopback port, in a process group of its own: dropping it kills the
/// group (the driver and the browsers it started) by its id.
pub struct ChromeDriver {
    child: Child,
    url: String,
    chromium: PathBuf,
    log: PathBuf,
    /// The number of the next screenshot of this test's browsers.
    shots: Arc<AtomicUsize>,
    /// The browsers' profile folders, removed with the driver.
    profiles: Mutex<Vec<PathBuf>>,
}

impl ChromeDriver {
    /// Starts a driver whose browsers number their screenshots from `first_shot` (each test has
    /// a range of its own, so that the pictures of tests run side by side don't interleave).
    pub async fn start(first_shot: usize) -> Self {
        let chromium = program("CHROMIUM", "/usr/bin/chromium", "chromium");
        let driver = program("CHROMEDRIVER", "/usr/bin/chromedriver", "chromium-driver");
        let port = free_port();
        let log = std::env::temp_dir().join(format!("ticketing-chromedriver-{port}.log"));
        let log_file = std::fs::File::create(&log).expect("a log file for chromedriver");
        let child = Command::new(&driver)
            .arg(format!("--port={port}"))
            .process_group(0)
            .stdin(Stdio::null())
            .stdout(log_file.try_clone().unwrap())
            .stderr(log_file)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run {}: {e}", driver.display()));
        let mut this = ChromeDriver {
            child,
            url: format!("http://127.0.0.1:{port}"),
            chromium,
            log,
            shots: Arc::new(AtomicUsize::new(first_shot)),
            profiles: Mutex::default(),
        };
        let deadline = Instant::now() + PATIENCE;
        while tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_err()
        {
            if let Ok(Some(status)) = this.child.try_wait() {
                panic!(
                    "chromedriver ended ({status}) before listening on port {port}: {}",
                    std::fs::read_to_string(&this.log).unwrap_or_default()
                );
            }
            assert!(
                Instant::now() < deadline,
                "chromedriver did not listen on port {port} within {PATIENCE:?}: {}",
                std::fs::read_to_string(&this.log).unwrap_or_default()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        this
    }

    /// A new browser (its own empty profile, so no cookies) on the app at `base`; `who` prefixes
    /// its screenshots.
    pub async fn session(&self, base: &str, who: &str) -> Browser {
        self.session_with(base, who, true).await
    }

    /// As [`Self::session`], with the pages' JavaScript off: what a visitor who blocks scripts
    /// (or whose script failed to load) sees. (WebDriver's own scripts still run.)
    pub async fn session_without_javascript(&self, base: &str, who: &str) -> Browser {
        self.session_with(base, who, false).await
    }

    async fn session_with(&self, base: &str, who: &str, javascript: bool) -> Browser {
        let profile =
            std::env::temp_dir().join(format!("ticketing-chromium-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&profile).expect("a profile folder for Chromium");
        self.profiles.lock().unwrap().push(profile.clone());
        let args = [
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--disable-quic",
            "--window-size=1200,900",
        ]
        .iter()
        .map(|a| a.to_string())
        .chain([format!("--user-data-dir={}", profile.display())])
        .collect::<Vec<_>>();
        let capabilities = json!({
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": self.chromium.display().to_string(),
                "args": args,
                // 2 = blocked, as the content setting a visitor (or their admin) chooses.
                "prefs": {
                    "profile.managed_default_content_settings.javascript":
                        if javascript { 1 } else { 2 },
                },
            },
        });
        let Value::Object(capabilities) = capabilities else {
            unreachable!()
        };
        let connector = hyper_util::client::legacy::connect::HttpConnector::new();
        let client = ClientBuilder::new(connector)
            .capabilities(capabilities)
            .connect(&self.url)
            .await
            .unwrap_or_else(|e| {
                panic!(
                    "chromedriver did not start {}: {e}\n{}",
                    self.chromium.display(),
                    std::fs::read_to_string(&self.log).unwrap_or_default()
                )
            });
        let timeouts = fantoccini::wd::TimeoutConfiguration::new(
            Some(Duration::from_secs(10)),
            Some(Duration::from_secs(30)),
            Some(Duration::ZERO),
        );
        client
            .update_timeouts(timeouts)
            .await
            .expect("the session's timeouts are set");
        Browser {
            client,
            base: base.trim_end_matches('/').to_owned(),
            who: who.to_owned(),
            profile,
            shots: self.shots.clone(),
        }
    }
}

impl Drop for ChromeDriver {
    fn drop(&mut self) {
        // The group this test made for its own chromedriver, by id: the driver and its browsers.
        if let Ok(pid) = i32::try_from(self.child.id()) {
            // SAFETY: kill(2) with a negative pid signals that process group; no memory is touched.
            unsafe {
                libc::kill(-pid, libc::SIGKILL);
            }
        }
        let _ = self.child.wait();
        let _ = std::fs::remove_file(&self.log);
        if let Ok(profiles) = self.profiles.lock() {
            for profile in profiles.iter() {
                let _ = std::fs::remove_dir_all(profile);
            }
        }
    }
}

/// One user's browser.
pub struct Browser {
    client: Client,
    base: String,
    who: String,
    profile: PathBuf,
    shots: Arc<AtomicUsize>,
}

impl Browser {
    /// Ends the session (the browser quits) and removes its profile.
    pub async fn close(self) {
        let _ = self.client.close().await;
        let _ = std::fs::remove_dir_all(&self.profile);
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    /// Opens `path` of the app.
    pub async fn goto(&self, path: &str) {
        if let Err(e) = self.client.goto(&self.url(path)).await {
            self.fail(format!("cannot open {path}: {e}")).await
        }
    }

    /// Reloads the page shown, as the browser's reload button does.
    pub async fn reload(&self) {
        if let Err(e) = self.client.refresh().await {
            self.fail(format!("cannot reload the page: {e}")).await
        }
    }

    /// The path (and query) of the page shown now.
    pub async fn location(&self) -> String {
        match self.client.current_url().await {
            Ok(url) => match url.query() {
                Some(query) => format!("{}?{query}", url.path()),
                None => url.path().to_owned(),
            },
            Err(e) => format!("(no URL: {e})"),
        }
    }

    /// The query parameter `name` of the page shown now, decoded.
    pub async fn query_param(&self, name: &str) -> Option<String> {
        let url = self.client.current_url().await.ok()?;
        url.query_pairs()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.into_owned())
    }

    /// Saves a screenshot of the page as `NN-<who>-<name>.png`.
    pub async fn shot(&self, name: &str) -> PathBuf {
        let n = self.shots.fetch_add(1, Ordering::SeqCst);
        let path = screenshots_dir().join(format!("{n:02}-{}-{name}.png", self.who));
        let png = self
            .client
            .screenshot()
            .await
            .unwrap_or_else(|e| panic!("a screenshot of {}: {e}", path.display()));
        std::fs::write(&path, png).expect("the screenshot is saved");
        path
    }

    /// Saves a screenshot at desktop width (as [`Self::shot`]) and another at a phone's size
    /// (390 x 844 CSS pixels), `<name>-phone`.
    pub async fn shots(&self, name: &str) {
        self.shot(name).await;
        self.resize(PHONE).await;
        self.shot(&format!("{name}-phone")).await;
        self.resize(DESKTOP).await;
    }

    async fn resize(&self, (width, height): (u32, u32)) {
        if let Err(e) = self.client.set_window_size(width, height).await {
            self.fail(format!("cannot resize the window to {width}x{height}: {e}"))
                .await
        }
    }

    /// Checks the page with axe-core (`tests/browser/node_modules`, from `npm ci` there), at
    /// desktop and phone sizes, and fails on any violation, naming the rule and the elements.
    pub async fn expect_accessible(&self, page: &str) {
        for size in [DESKTOP, PHONE] {
            self.resize(size).await;
            let script = format!(
                "{}\nconst done = arguments[arguments.length - 1];\n\
                 axe.run(document, {{ resultTypes: ['violations'] }})\n\
                   .then(r => done(r.violations.map(v => `${{v.id}} (${{v.impact}}): ${{v.help}} \
                     at ${{v.nodes.map(n => n.target.join(' ')).join(', ')}}`)))\n\
                   .catch(e => done(['axe failed: ' + e]));",
                axe_source()
            );
            let found = match self.client.execute_async(&script, vec![]).await {
                Ok(found) => found,
                Err(e) => self.fail(format!("axe did not run on {page}: {e}")).await,
            };
            let violations: Vec<String> = serde_json::from_value(found).unwrap_or_default();
            if !violations.is_empty() {
                self.fail::<()>(format!(
                    "axe finds {} accessibility violation(s) on {page} at {}x{}:\n  {}",
                    violations.len(),
                    size.0,
                    size.1,
                    violations.join("\n  ")
                ))
                .await;
            }
        }
        self.resize(DESKTOP).await;
    }

    /// Fails the test with `message`, after saving the page's picture and HTML beside the
    /// screenshots.
    pub async fn fail<T>(&self, message: String) -> T {
        let location = self.location().await;
        let picture = match self.client.screenshot().await {
            Ok(png) => {
                let n = self.shots.fetch_add(1, Ordering::SeqCst);
                let path = screenshots_dir().join(format!("{n:02}-{}-FAILED.png", self.who));
                let _ = std::fs::write(&path, png);
                if let Ok(html) = self.client.source().await {
                    let _ = std::fs::write(path.with_extension("html"), html);
                }
                path.display().to_string()
            }
            Err(e) => format!("(no screenshot: {e})"),
        };
        panic!(
            "[{} on {location}] {message}\n  page saved as {picture}",
            self.who
        )
    }

    /// Polls `probe` until it answers `Ok` or `within` passes; then fails with its last `Err`.
    pub async fn eventually<T>(
        &self,
        what: &str,
        within: Duration,
        mut probe: impl AsyncFnMut(&Self) -> Result<T, String>,
    ) -> T {
        let deadline = Instant::now() + within;
        loop {
            let last = match probe(self).await {
                Ok(value) => return value,
                Err(last) => last,
            };
            if Instant::now() >= deadline {
                return self
                    .fail(format!("{what}: not so after {within:?}; {last}"))
                    .await;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// The first element matching `css` now, or why not.
    pub async fn try_find(&self, css: &str) -> Result<Element, String> {
        self.client.find(Locator::Css(css)).await.map_err(|e| {
            if e.is_no_such_element() {
                format!("no element matches `{css}`")
            } else {
                format!("finding `{css}`: {e}")
            }
        })
    }

    /// All elements matching `css` now.
    pub async fn find_all(&self, css: &str) -> Vec<Element> {
        self.client
            .find_all(Locator::Css(css))
            .await
            .unwrap_or_default()
    }

    /// The first element matching `css`, waiting for it.
    pub async fn find(&self, css: &str) -> Element {
        self.eventually(&format!("`{css}` is on the page"), PATIENCE, async |b| {
            b.try_find(css).await
        })
        .await
    }

    /// Fails unless `css` matches something now (the page is already loaded).
    pub async fn expect_present(&self, css: &str) {
        if let Err(e) = self.try_find(css).await {
            self.fail(e).await
        }
    }

    /// Fails if `css` matches anything now.
    pub async fn expect_absent(&self, css: &str) {
        let found = self.find_all(css).await;
        if !found.is_empty() {
            self.fail(format!(
                "expected no `{css}`, found {} such element(s)",
                found.len()
            ))
            .await
        }
    }

    /// The text of `css` now, or why not.
    pub async fn try_text(&self, css: &str) -> Result<String, String> {
        let element = self.try_find(css).await?;
        element
            .text()
            .await
            .map(|t| t.trim().to_owned())
            .map_err(|e| format!("the text of `{css}`: {e}"))
    }

    /// The text of `css`, waiting for the element.
    pub async fn text(&self, css: &str) -> String {
        self.eventually(&format!("`{css}` has a text"), PATIENCE, async |b| {
            b.try_text(css).await
        })
        .await
    }

    /// The attribute `name` of `css` now, or why not.
    pub async fn try_attr(&self, css: &str, name: &str) -> Result<Option<String>, String> {
        let element = self.try_find(css).await?;
        element
            .attr(name)
            .await
            .map_err(|e| format!("the {name} of `{css}`: {e}"))
    }

    /// Waits until the attribute `name` of `css` is `expected`.
    pub async fn expect_attr(&self, css: &str, name: &str, expected: &str, within: Duration) {
        self.eventually(
            &format!("`{css}` has {name}=\"{expected}\""),
            within,
            async |b| match b.try_attr(css, name).await? {
                Some(value) if value == expected => Ok(()),
                other => Err(format!("its {name} is {other:?}")),
            },
        )
        .await
    }

    /// Waits until the text of `css` contains `expected`.
    pub async fn expect_text(&self, css: &str, expected: &str, within: Duration) -> String {
        self.eventually(&format!("`{css}` says \"{expected}\""), within, async |b| {
            let text = b.try_text(css).await?;
            if text.contains(expected) {
                Ok(text)
            } else {
                Err(format!("its text is {text:?}"))
            }
        })
        .await
    }

    /// Types `value` into the field `css` (emptied first).
    pub async fn fill(&self, css: &str, value: &str) {
        let field = self.find(css).await;
        if let Err(e) = field.clear().await {
            self.fail(format!("cannot clear `{css}`: {e}")).await
        }
        if let Err(e) = field.send_keys(value).await {
            self.fail(format!("cannot type into `{css}`: {e}")).await
        }
    }

    /// Clicks `css`.
    pub async fn click(&self, css: &str) {
        let element = self.find(css).await;
        if let Err(e) = element.click().await {
            self.fail(format!("cannot click `{css}`: {e}")).await
        }
    }

    /// Waits until the page's path (and query) passes `test`, and returns it.
    pub async fn wait_location(&self, what: &str, test: impl Fn(&str) -> bool) -> String {
        self.eventually(what, PATIENCE, async |b| {
            let location = b.location().await;
            if test(&location) {
                Ok(location)
            } else {
                Err(format!("the browser is on {location}"))
            }
        })
        .await
    }

    /// Waits until the page's path is exactly `path` (any query).
    pub async fn wait_path(&self, path: &str) {
        self.wait_location(&format!("the browser is on {path}"), |l| {
            l.split('?').next() == Some(path)
        })
        .await;
    }

    /// Runs `script` in the page.
    pub async fn script(&self, script: &str) -> Value {
        match self.client.execute(script, vec![]).await {
            Ok(value) => value,
            Err(e) => {
                self.fail(format!("the script {script:?} failed: {e}"))
                    .await
            }
        }
    }
}

/// The window sizes of the screenshots: the desktop one each session starts with, and a phone.
const DESKTOP: (u32, u32) = (1200, 900);
const PHONE: (u32, u32) = (390, 844);

/// axe-core's script, read once; missing fails the test with what to run.
fn axe_source() -> &'static str {
    static SOURCE: OnceLock<String> = OnceLock::new();
    SOURCE.get_or_init(|| {
        let path =
            Path::new(env!("CARGO_MANIFEST_DIR")).join("browser/node_modules/axe-core/axe.min.js");
        std::fs::read_to_string(&path).unwrap_or_else(|e| {
            panic!(
                "the accessibility check needs axe-core at {}: run `npm ci` in tests/browser \
                 ({e})",
                path.display()
            )
        })
    })
}

/// Fails the test if `step` takes longer than `limit`.
pub async fn bounded<T>(limit: Duration, step: impl Future<Output = T>) -> T {
    tokio::time::timeout(limit, step)
        .await
        .unwrap_or_else(|_| panic!("the test did not finish within {limit:?}"))
}

/// The seconds left in a countdown's text: `m:ss` as minutes and seconds if there is one, else
/// the first integer.
pub fn seconds_left(text: &str) -> Option<u64> {
    let tokens: Vec<&str> = text
        .split(|c: char| !(c.is_ascii_digit() || c == ':'))
        .filter(|t| !t.is_empty())
        .collect();
    let clock = tokens.iter().find_map(|t| {
        let (minutes, seconds) = t.split_once(':')?;
        let seconds = seconds.split(':').next()?;
        if minutes.is_empty() || seconds.len() != 2 {
            return None;
        }
        Some(minutes.parse::<u64>().ok()? * 60 + seconds.parse::<u64>().ok()?)
    });
    clock.or_else(|| {
        tokens.iter().find_map(|t| {
            t.split(':')
                .find(|p| !p.is_empty())
                .and_then(|p| p.parse().ok())
        })
    })
}

#[test]
fn countdown_texts_parse() {
    assert_eq!(seconds_left("14:52 left"), Some(892));
    assert_eq!(seconds_left("892 seconds left"), Some(892));
    assert_eq!(seconds_left("0:03"), Some(3));
    assert_eq!(seconds_left("Expires in 1:05 (mm:ss)"), Some(65));
    assert_eq!(seconds_left("Order expired"), None);
}
