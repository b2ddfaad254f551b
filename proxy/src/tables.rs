//! The generated route tables of every API version: method, path template and operation id
//! of each operation (`vX_Y::server::OPERATIONS`), and each version's generated
//! `roundtrip::response` and `roundtrip::request` for `--typed`.

use moby_api_runtime::server::{ApiVersion, OperationRoute};

use crate::typed::{RequestDecoders, Roundtrip, Typed};

macro_rules! versions {
    ($($version:ident),*) => {
        /// Every version's operations.
        pub fn all() -> Vec<(ApiVersion, Vec<OperationRoute>)> {
            vec![$((moby_api::$version::API_VERSION, moby_api::$version::server::OPERATIONS.to_vec())),*]
        }

        /// Every version's `roundtrip::response` and `roundtrip::request`.
        pub fn roundtrips() -> Vec<(ApiVersion, Typed)> {
            vec![$((
                moby_api::$version::API_VERSION,
                Typed {
                    answers: moby_api::$version::roundtrip::response as Roundtrip,
                    requests: moby_api::$version::roundtrip::request as RequestDecoders,
                },
            )),*]
        }
    };
}

versions!(
    v1_24, v1_25, v1_26, v1_27, v1_28, v1_29, v1_30, v1_31, v1_32, v1_33, v1_34, v1_35, v1_36, v1_37, v1_38, v1_39, v1_40, v1_41, v1_42,
    v1_43, v1_44, v1_45, v1_46, v1_47, v1_48, v1_49, v1_50, v1_51, v1_52, v1_53, v1_54, v1_55
);
