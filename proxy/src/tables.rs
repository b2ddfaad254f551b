//! The generated route tables of every version the proxy is built with: method, path
//! template and operation id of each operation, read from the generated server code; and
//! each version's generated `roundtrip::response` for `--typed`.

use moby_api_runtime::server::ApiVersion;

use crate::classify::OperationRoute;

/// A service implementing every tag trait with the generated defaults: only its route
/// table (`vX_Y::server::routes`) is used, never a handler.
struct TableOnly;

macro_rules! tables {
    ($($version:ident: [$($tag:ident),*];)*) => {
        $($(impl moby_api::$version::server::$tag for TableOnly {})*)*

        /// Every version's operations.
        pub fn all() -> Vec<(ApiVersion, Vec<OperationRoute>)> {
            vec![$({
                let routes = moby_api::$version::server::routes::<TableOnly>().into_iter();
                let routes = routes.map(|r| OperationRoute { method: r.method, path: r.path, operation: r.operation });
                (moby_api::$version::API_VERSION, routes.collect())
            }),*]
        }

        /// Every version's `roundtrip::response`, for `--typed`.
        pub fn roundtrips() -> Vec<(ApiVersion, crate::typed::Roundtrip)> {
            vec![$((moby_api::$version::API_VERSION, moby_api::$version::roundtrip::response as crate::typed::Roundtrip)),*]
        }
    };
}

tables! {
    v1_41: [ConfigApi, ContainerApi, DistributionApi, ExecApi, ImageApi, NetworkApi, NodeApi, PluginApi, SecretApi, ServiceApi, SessionApi, SwarmApi, SystemApi, TaskApi, VolumeApi];
    v1_49: [ConfigApi, ContainerApi, DistributionApi, ExecApi, ImageApi, NetworkApi, NodeApi, PluginApi, SecretApi, ServiceApi, SessionApi, SwarmApi, SystemApi, TaskApi, VolumeApi];
}
