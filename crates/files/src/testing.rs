//! Test helpers: a real S3-compatible server (moto's server mode, started by
//! `scripts/s3-server` as a child of the test and stopped with it) and backends to test against.
//! Missing moto fails the test with the command that installs it: the S3 backend is never
//! considered tested against a fake.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Command, Stdio};

use crate::config::{BackendConfig, S3Config};

/// Credentials moto accepts (it checks none); the server signs requests as against AWS.
pub const ACCESS_KEY_ID: &str = "faro-test-key";
pub const SECRET_ACCESS_KEY: &str = "faro-test-secret";

/// A moto server on 127.0.0.1 with one bucket, for one test.
pub struct S3Server {
    child: Child,
    stdin: Option<ChildStdin>,
    pub endpoint: String,
    pub bucket: String,
}

fn script() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../scripts/s3-server")
}

impl S3Server {
    /// Starts the server and creates `bucket`; blocks until it answers (about half a second).
    pub fn start(bucket: &str) -> S3Server {
        let help = "install moto: python3 -m pip install -r scripts/test-requirements.txt";
        let mut child = Command::new("python3")
            .arg(script())
            .args(["--bucket", bucket])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run scripts/s3-server with python3 ({e}): {help}"));
        let stdin = child.stdin.take();
        let mut line = String::new();
        if let Some(out) = child.stdout.take() {
            let _ = BufReader::new(out).read_line(&mut line);
        }
        let endpoint = line.trim().to_string();
        if !endpoint.starts_with("http://127.0.0.1:") {
            let _ = child.kill();
            let _ = child.wait();
            panic!("scripts/s3-server did not start (printed {line:?}): {help}");
        }
        S3Server {
            child,
            stdin,
            endpoint,
            bucket: bucket.to_string(),
        }
    }

    /// The configuration values that point the files module at this server.
    pub fn settings(&self) -> Vec<(&'static str, String)> {
        vec![
            ("FILES_BACKEND", "s3".into()),
            ("S3_BUCKET", self.bucket.clone()),
            ("S3_ENDPOINT", self.endpoint.clone()),
            ("S3_ALLOW_HTTP", "true".into()),
            ("S3_ACCESS_KEY_ID", ACCESS_KEY_ID.into()),
            ("S3_SECRET_ACCESS_KEY", SECRET_ACCESS_KEY.into()),
        ]
    }

    pub fn backend(&self) -> BackendConfig {
        BackendConfig::S3(S3Config {
            bucket: self.bucket.clone(),
            region: "us-east-1".into(),
            endpoint: Some(self.endpoint.clone()),
            access_key_id: Some(ACCESS_KEY_ID.into()),
            secret_access_key: Some(SECRET_ACCESS_KEY.into()),
            allow_http: true,
        })
    }

    /// Every key in the bucket, straight from the server.
    pub async fn keys(&self) -> Vec<String> {
        self.list_xml("list-type=2")
            .await
            .split("<Key>")
            .skip(1)
            .filter_map(|s| s.split_once("</Key>").map(|(k, _)| k.to_string()))
            .collect()
    }

    /// Multipart uploads started and neither completed nor aborted.
    pub async fn pending_uploads(&self) -> usize {
        self.list_xml("uploads").await.matches("<Upload>").count()
    }

    /// A bucket listing, asked over a plain connection (moto answers unsigned requests), so
    /// what the tests see does not depend on the client under test.
    async fn list_xml(&self, query: &str) -> String {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let addr = self.endpoint.trim_start_matches("http://").to_string();
        let mut conn = tokio::net::TcpStream::connect(&addr)
            .await
            .unwrap_or_else(|e| panic!("connect to {addr}: {e}"));
        let request = format!(
            "GET /{}?{query} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n",
            self.bucket
        );
        conn.write_all(request.as_bytes()).await.expect("send");
        let mut response = String::new();
        conn.read_to_string(&mut response).await.expect("receive");
        assert!(
            response.starts_with("HTTP/1.1 200") || response.starts_with("HTTP/1.0 200"),
            "GET /{}?{query}: {response}",
            self.bucket
        );
        response
    }
}

impl Drop for S3Server {
    fn drop(&mut self) {
        // Closing its input stops the server; killing it covers a server that hangs.
        drop(self.stdin.take());
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A fresh directory name under the temp dir (not created: the store creates it).
pub fn temp_dir(name: &str) -> PathBuf {
    std::env::temp_dir().join(format!(
        "faro-files-{name}-{}-{}",
        std::process::id(),
        faro_store::new_id()
    ))
}
