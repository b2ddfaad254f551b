//! What sharing operation items across versions means for a user, on the crate the
//! generator emits for three versions of one small API (tests/ops-fixture, from
//! generator/tests/specs/operations/): what did not change between versions is one Rust
//! type and one trait, so moving between versions needs no conversion and one
//! implementation serves every version that has the same trait; what changed is not.

use std::any::TypeId;
use std::sync::{Arc, Mutex};

use moby_api_ops_fixture::{v1_40, v1_41, v1_42};
use moby_api_runtime::client::{Endpoint, Host, Transport};
use moby_api_runtime::server::{ApiError, Context};

fn same<A: 'static, B: 'static>() -> bool {
    TypeId::of::<A>() == TypeId::of::<B>()
}

#[test]
fn unchanged_items_are_one_type_and_changed_ones_are_not() {
    // Parameters, requests and traits that never changed.
    assert!(same::<v1_40::params::ContainerListParams, v1_42::params::ContainerListParams>());
    assert!(same::<v1_40::server::ContainerListRequest, v1_42::server::ContainerListRequest>());
    assert!(same::<v1_40::server::VolumeCreateReply, v1_42::server::VolumeCreateReply>());
    assert!(same::<v1_40::client::ContainerStartOutcome, v1_42::client::ContainerStartOutcome>());
    // A parameter added in 1.41: the 1.40 request differs, the reply does not.
    assert!(!same::<v1_40::server::ContainerStartRequest, v1_41::server::ContainerStartRequest>());
    assert!(same::<v1_41::params::ContainerStartParams, v1_42::params::ContainerStartParams>());
    assert!(same::<v1_40::server::ContainerStartReply, v1_42::server::ContainerStartReply>());
    // A field added to the listed type in 1.42: the reply differs, its request does not.
    assert!(same::<v1_41::server::ContainerListReply, v1_40::server::ContainerListReply>());
    assert!(!same::<v1_41::server::ContainerListReply, v1_42::server::ContainerListReply>());

    // No conversion: a value of one version is a value of the other.
    let params: v1_42::params::ContainerListParams = v1_40::params::ContainerListParams { all: Some(true), ..Default::default() };
    assert_eq!(params.all, Some(true));
}

/// One engine for all three versions: its volume and system traits are the same trait in
/// each, so they are implemented once; the container traits differ and get one impl each.
#[derive(Clone, Default)]
struct Engine {
    created: Arc<Mutex<Vec<String>>>,
}

impl v1_40::server::VolumeApi for Engine {
    async fn volume_create(
        &self,
        _: &Context,
        request: v1_40::server::VolumeCreateRequest,
    ) -> Result<v1_40::server::VolumeCreateReply, ApiError> {
        let name = request.body.name.unwrap_or_else(|| "anonymous".into());
        self.created.lock().unwrap().push(name.clone());
        Ok(v1_40::server::VolumeCreateReply::Created(v1_40::models::Volume { name, driver: "local".into(), ..Default::default() }))
    }
}

impl v1_40::server::SystemApi for Engine {}

impl v1_40::server::ContainerApi for Engine {}

impl v1_41::server::ContainerApi for Engine {
    async fn container_start(
        &self,
        _: &Context,
        request: v1_41::server::ContainerStartRequest,
    ) -> Result<v1_41::server::ContainerStartReply, ApiError> {
        // The parameter 1.41 added arrives.
        assert_eq!(request.params.detach_keys.as_deref(), Some("ctrl-x"));
        Ok(if request.id == "running" {
            v1_41::server::ContainerStartReply::NotModified
        } else {
            v1_41::server::ContainerStartReply::NoContent
        })
    }
}

impl v1_42::server::ContainerApi for Engine {
    async fn container_list(
        &self,
        _: &Context,
        request: v1_42::server::ContainerListRequest,
    ) -> Result<v1_42::server::ContainerListReply, ApiError> {
        let state = if request.params.all == Some(true) { "exited" } else { "running" };
        let summary = v1_42::models::ContainerSummary { id: Some("c1".into()), state: Some(state.into()), ..Default::default() };
        Ok(vec![summary].into())
    }
}

#[tokio::test]
async fn one_implementation_serves_every_version_that_shares_its_trait() {
    let dir = std::env::temp_dir().join(format!("moby-api-ops-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let engine = Engine::default();
    let mut clients = Vec::new();
    for (name, router) in [
        ("v1_40", v1_40::server::router(engine.clone())),
        ("v1_41", v1_41::server::router(engine.clone())),
        ("v1_42", v1_42::server::router(engine.clone())),
    ] {
        let socket = dir.join(format!("{name}.sock"));
        let listener = moby_api_runtime::server::bind_unix(&socket, 0o600).unwrap();
        tokio::spawn(moby_api_runtime::server::serve_unix_listener(router, listener, std::future::pending()));
        clients.push(Endpoint::new(Host::parse(&format!("unix://{}", socket.display())).unwrap()));
    }

    // The shared volume trait answers on every version's router.
    for (endpoint, version) in clients.iter().zip(["1.40", "1.41", "1.42"]) {
        let client = v1_40::client::Client::new(Transport::new(endpoint.clone(), v1_40::API_VERSION).unwrap());
        let body = v1_40::models::VolumeCreateOptions { name: Some(format!("data-{version}")), ..Default::default() };
        let volume = client.volume_create(&body).await.unwrap();
        assert_eq!(volume.name, format!("data-{version}"));
    }
    assert_eq!(*engine.created.lock().unwrap(), ["data-1.40", "data-1.41", "data-1.42"]);

    // 1.41's own trait: the shared outcome enum tells the two successes apart.
    let client = v1_41::client::Client::new(Transport::new(clients[1].clone(), v1_41::API_VERSION).unwrap());
    let params = v1_41::params::ContainerStartParams { detach_keys: Some("ctrl-x".into()) };
    assert_eq!(client.container_start("c1", &params).await.unwrap(), v1_41::client::ContainerStartOutcome::NoContent);
    assert_eq!(client.container_start("running", &params).await.unwrap(), v1_41::client::ContainerStartOutcome::NotModified);

    // 1.42's reply type is new, its parameters are 1.40's.
    let client = v1_42::client::Client::new(Transport::new(clients[2].clone(), v1_42::API_VERSION).unwrap());
    let all = v1_40::params::ContainerListParams { all: Some(true), ..Default::default() };
    let listed = client.container_list(&all).await.unwrap();
    assert_eq!(listed[0].state.as_deref(), Some("exited"));
    // Not implemented by this engine in 1.40: the trait's default.
    let client = v1_40::client::Client::new(Transport::new(clients[0].clone(), v1_40::API_VERSION).unwrap());
    let error = client.container_list(&all).await.unwrap_err();
    assert!(error.to_string().contains("ContainerList is not implemented"), "{error}");
    let _ = std::fs::remove_dir_all(&dir);
}
