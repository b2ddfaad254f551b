//! One structured line per decision, on standard error: when, who (the peer's credentials
//! from `SO_PEERCRED` on a unix socket, its address on TCP), what (method, version,
//! operation), and the decision with the rule that made it. Never the query or the body,
//! which may carry credentials.

use std::io::Write;
use std::time::SystemTime;

use moby_api_runtime::server::{ApiVersion, Method, Peer};
use serde::Serialize;

/// What the proxy did with a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Decision {
    /// Forwarded.
    Allow,
    /// Refused by a rule of the policy (403).
    Deny,
    /// Not classified: answered as the engine would, never forwarded.
    Refuse,
}

/// One audit line.
#[derive(Debug, Serialize)]
pub struct Entry<'a> {
    pub time: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pid: Option<i32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub uid: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gid: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub addr: Option<String>,
    pub method: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub operation: Option<&'a str>,
    pub decision: Decision,
    /// Whether the operation changes anything (every method but GET and HEAD).
    pub sensitive: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rule: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<&'a str>,
}

impl<'a> Entry<'a> {
    pub fn new(peer: Option<Peer>, method: &'a Method, decision: Decision) -> Entry<'a> {
        let (mut pid, mut uid, mut gid, mut addr) = (None, None, None, None);
        match peer {
            Some(Peer::Unix { pid: p, uid: u, gid: g }) => (pid, uid, gid) = (p, Some(u), Some(g)),
            Some(Peer::Tcp(a)) => addr = Some(a.to_string()),
            None => {}
        }
        Entry {
            time: humantime::format_rfc3339_millis(SystemTime::now()).to_string(),
            pid,
            uid,
            gid,
            addr,
            method: method.as_str(),
            version: None,
            operation: None,
            decision,
            sensitive: method != Method::GET && method != Method::HEAD,
            rule: None,
            reason: None,
        }
    }

    pub fn operation(mut self, version: ApiVersion, operation: &'a str) -> Entry<'a> {
        self.version = Some(version.to_string());
        self.operation = Some(operation);
        self
    }

    pub fn rule(mut self, rule: &'a str, reason: &'a str) -> Entry<'a> {
        self.rule = Some(rule);
        self.reason = Some(reason);
        self
    }

    /// Writes the line (one `write` of the whole line, so lines of concurrent requests
    /// never interleave).
    pub fn log(&self) {
        if let Ok(mut line) = serde_json::to_vec(self) {
            line.push(b'\n');
            let _ = std::io::stderr().lock().write_all(&line);
        }
    }
}
