//! The generated clients of every version the real engine accepts (1.24–1.41) read its
//! answers into their typed models. The engine comes from `cargo xtask test`
//! (MOBY_API_TEST_DOCKER_HOST); without one the test is skipped, except under CI.

use moby_api_runtime::client::{ApiVersion, Endpoint, Host, Transport};

fn engine() -> Option<Endpoint> {
    match std::env::var("MOBY_API_TEST_DOCKER_HOST") {
        Ok(host) if !host.is_empty() => Some(Endpoint::new(Host::parse(&host).expect("MOBY_API_TEST_DOCKER_HOST"))),
        _ if std::env::var_os("CI").is_some_and(|v| !v.is_empty()) => {
            panic!("MOBY_API_TEST_DOCKER_HOST is not set; under CI the engine tests must run (cargo xtask test starts the engine)")
        }
        _ => {
            println!("skipped: no engine (set MOBY_API_TEST_DOCKER_HOST=unix:///…/docker.sock)");
            None
        }
    }
}

macro_rules! read_everything_with {
    ($endpoint:expr, $read:ident, $($v:ident),*) => {$({
        use moby_api::$v::client::{self, Client};
        let transport = Transport::new($endpoint.clone(), client::API_VERSION).unwrap();
        let c = Client::new(transport);
        let label = stringify!($v);
        assert_eq!(c.system_ping().await.unwrap(), "OK", "{label}");
        let version = c.system_version().await.unwrap_or_else(|e| panic!("{label} version: {e}"));
        assert_eq!(version.api_version.as_deref(), Some("1.41"), "{label}");
        // The client asked for its own version, not the engine's.
        assert_eq!(c.transport().known_api_version(), Some(client::API_VERSION), "{label}");
        c.system_info().await.unwrap_or_else(|e| panic!("{label} info: {e}"));
        let containers = c.container_list(&client::ContainerListParams { all: Some(true), ..Default::default() }).await
            .unwrap_or_else(|e| panic!("{label} containers: {e}"));
        let images = c.image_list(&Default::default()).await.unwrap_or_else(|e| panic!("{label} images: {e}"));
        assert!(!images.is_empty(), "{label}: the test engine has busybox:test");
        c.volume_list(&Default::default()).await.unwrap_or_else(|e| panic!("{label} volumes: {e}"));
        c.network_list(&Default::default()).await.unwrap_or_else(|e| panic!("{label} networks: {e}"));
        let missing = c.container_inspect("no-such-container", &Default::default()).await.unwrap_err();
        assert_eq!(missing.status(), Some(404), "{label}: {missing}");
        $read += 1 + containers.len().min(1);
    })*};
}

#[tokio::test]
async fn every_accepted_version_reads_the_engine() {
    let Some(endpoint) = engine() else { return };
    let mut read = 0;
    read_everything_with!(
        endpoint, read, v1_24, v1_25, v1_26, v1_27, v1_28, v1_29, v1_30, v1_31, v1_32, v1_33, v1_34, v1_35, v1_36, v1_37, v1_38, v1_39,
        v1_40, v1_41
    );
    assert!(read >= 18);
    // A newer client negotiates down to what the engine speaks.
    let transport = Transport::new(endpoint, ApiVersion::new(1, 49)).unwrap();
    let newest = moby_api::v1_49::client::Client::new(transport);
    newest.system_version().await.unwrap();
    assert_eq!(newest.transport().known_api_version(), Some(ApiVersion::new(1, 41)));
}
