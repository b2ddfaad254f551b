//! `--typed` against Engine 28.5.2: answers decoded and encoded again with the version's
//! models reach the client with every member the engine sent (the models keep what they
//! do not define) and every `null` it sent where it sent it, one JSON document and
//! JSON-lines streams alike.

mod common;

use common::{docker, engine, unique, Proxy};
use serde_json::Value;

#[test]
fn typed_answers_keep_every_member() {
    let Some(engine) = engine() else { return };
    let typed = Proxy::start_with(&engine, None, &["--typed"]);
    let dir = typed.dir.path();
    let name = unique("typed");
    assert!(docker(&engine, dir, &["run", "-d", "--name", &name, "--network", "none", "--label", "a=b", "busybox:test", "sleep", "30"]).ok);

    let json = |out: common::Out| -> Value { serde_json::from_str(&out.stdout).unwrap_or_else(|e| panic!("{e}: {out:?}")) };
    let direct = json(docker(&engine, dir, &["container", "inspect", &name]));
    let through = json(typed.docker(&["container", "inspect", &name]));
    assert!(direct[0]["HostConfig"]["Binds"].is_null(), "the engine sends null members: {direct}");
    assert_eq!(direct, through, "a member was lost or changed on the way");
    let direct = json(docker(&engine, dir, &["system", "info", "--format", "{{json .}}"]));
    let through = json(typed.docker(&["system", "info", "--format", "{{json .}}"]));
    assert_eq!(direct["ID"], through["ID"]);
    assert_eq!(direct.as_object().map(|o| o.len()), through.as_object().map(|o| o.len()));

    let stats = typed.docker(&["stats", "--no-stream", "--format", "{{.Name}}", &name]);
    assert!(stats.ok && stats.stdout.trim() == name, "{stats:?}");
    assert!(!typed.log().contains("decode failed"), "{}", typed.log());
    let _ = docker(&engine, dir, &["rm", "-f", &name]);
}
