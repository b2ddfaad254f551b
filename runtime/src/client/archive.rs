//! The path information of `HEAD /containers/{id}/archive` (and of `GET`, which sends it
//! too): the `X-Docker-Container-Path-Stat` header, base64 of JSON.

use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD};
use base64::Engine as _;
use reqwest::header::HeaderMap;
use serde::{Deserialize, Serialize};

use super::{Call, Error, IntoRequest, Transport};

/// The header the daemon describes an archive's path in.
pub const PATH_STAT_HEADER: &str = "X-Docker-Container-Path-Stat";

/// A path in a container, as `HEAD /containers/{id}/archive` describes it (moby
/// `api/types/container.PathStat`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
pub struct PathStat {
    /// The base name (`/` for the root).
    pub name: String,
    pub size: i64,
    /// Go's `os.FileMode`: permission bits plus type bits (`1 << 31` directory, `1 << 27`
    /// symlink …), not a Unix `st_mode`.
    pub mode: u32,
    /// RFC 3339 with nanoseconds, as Go formats a `time.Time`.
    pub mtime: String,
    /// The target when the path is a symlink, else empty.
    #[serde(rename = "linkTarget", default)]
    pub link_target: String,
}

impl PathStat {
    /// Decodes the `X-Docker-Container-Path-Stat` header of an archive response; its
    /// absence or a malformed value is an [`Error::InvalidHeader`].
    pub fn from_headers(headers: &HeaderMap) -> Result<PathStat, Error> {
        let invalid = |message: String| Error::InvalidHeader { name: PATH_STAT_HEADER.to_owned(), message };
        let value = headers.get(PATH_STAT_HEADER).ok_or_else(|| invalid("missing".to_owned()))?;
        let text = value.to_str().map_err(|_| invalid("not ASCII".to_owned()))?.trim();
        let json = STANDARD
            .decode(text)
            .or_else(|_| STANDARD_NO_PAD.decode(text.trim_end_matches('=')))
            .map_err(|e| invalid(format!("not base64: {e}")))?;
        serde_json::from_slice(&json).map_err(|e| invalid(format!("not the expected JSON: {e}")))
    }
}

impl Transport {
    /// [`send`](Transport::send) for `HEAD /containers/{id}/archive`: the path its header
    /// describes.
    pub fn send_path_stat(&self, request: impl IntoRequest) -> Call<'_, PathStat> {
        let request = request.into_request();
        Box::pin(async move { PathStat::from_headers(self.send_request(request?).await?.headers()) })
    }
}

#[cfg(test)]
mod tests {
    use base64::engine::general_purpose::STANDARD;
    use base64::Engine as _;
    use reqwest::header::{HeaderMap, HeaderValue};

    use super::PathStat;
    use crate::client::Error;

    fn headers(value: &str) -> HeaderMap {
        let mut map = HeaderMap::new();
        map.insert("x-docker-container-path-stat", HeaderValue::from_str(value).unwrap_or(HeaderValue::from_static("")));
        map
    }

    #[test]
    fn decodes_what_the_engine_sends() {
        let json = r#"{"name":"etc","size":4096,"mode":2147484141,"mtime":"2024-01-02T03:04:05.123456789Z","linkTarget":""}"#;
        let stat = PathStat::from_headers(&headers(&STANDARD.encode(json))).ok();
        assert_eq!(
            stat,
            Some(PathStat {
                name: "etc".into(),
                size: 4096,
                mode: 0x8000_01ed,
                mtime: "2024-01-02T03:04:05.123456789Z".into(),
                link_target: String::new()
            })
        );
    }

    #[test]
    fn missing_or_malformed_is_an_error() {
        for map in [HeaderMap::new(), headers("%%%"), headers(&STANDARD.encode("[1]"))] {
            let err = PathStat::from_headers(&map).err();
            assert!(matches!(&err, Some(Error::InvalidHeader { name, .. }) if name == super::PATH_STAT_HEADER), "{err:?}");
        }
    }
}
