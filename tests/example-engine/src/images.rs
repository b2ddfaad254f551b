//! The `Image` operations: list, inspect, history, tag, remove, prune, and pull
//! (`POST /images/create`), emulated: any name "pulls" at once with a realistic progress
//! stream and becomes a busybox-like image.

use std::collections::HashMap;

use futures_util::stream;
use moby_api::v1_41::models::{
    CreateImageInfo, EventMessageType, GraphDriverData, ImageConfig, ImageDeleteResponseItem, ImageHistoryResponseItem, ImageInspect,
    ImageInspectMetadata, ImageInspectRootFs, ImagePruneResponse, ImageSummary, ProgressDetail,
};
use moby_api::v1_41::server::*;
use moby_api_runtime::server::{ApiError, Context, StreamBody};

use crate::clock::{now_nanos, rfc3339_nanos};
use crate::engine::{attrs, digest, Engine, Image, State};

/// The size of busybox:latest (amd64), so that `docker images` looks familiar.
pub(crate) const BUSYBOX_SIZE: i64 = 4_261_550;

/// A reference as the daemon stores it: `busybox` → `busybox:latest`, and the default
/// registry and `library/` dropped (`docker.io/library/busybox:1` → `busybox:1`).
pub fn normalize(reference: &str) -> String {
    let mut name = reference.trim();
    for prefix in ["docker.io/", "index.docker.io/", "registry-1.docker.io/"] {
        if let Some(rest) = name.strip_prefix(prefix) {
            name = rest;
        }
    }
    let name = name.strip_prefix("library/").unwrap_or(name);
    let last = name.rsplit('/').next().unwrap_or(name);
    if name.contains('@') || last.contains(':') {
        name.to_owned()
    } else {
        format!("{name}:latest")
    }
}

/// The image a reference names: a tag, a full id (with or without `sha256:`) or a unique
/// id prefix.
pub(crate) fn resolve(state: &State, reference: &str) -> Option<String> {
    let tag = normalize(reference);
    if let Some(image) = state.images.values().find(|i| i.tags.contains(&tag) || i.repo_digest_matches(reference)) {
        return Some(image.id.clone());
    }
    let hex = reference.strip_prefix("sha256:").unwrap_or(reference);
    if hex.is_empty() || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let full = format!("sha256:{hex}");
    crate::engine::unique_prefix(state.images.keys(), &full)
}

impl Image {
    fn repo(tag: &str) -> &str {
        match tag.rsplit_once(':') {
            Some((repo, t)) if !t.contains('/') => repo,
            _ => tag,
        }
    }

    fn repo_digests(&self) -> Vec<String> {
        let mut repos: Vec<&str> = self.tags.iter().map(|t| Image::repo(t)).collect();
        repos.dedup();
        repos.into_iter().map(|r| format!("{r}@{}", self.digest)).collect()
    }

    fn repo_digest_matches(&self, reference: &str) -> bool {
        reference.contains('@') && self.repo_digests().iter().any(|d| d == reference || normalize(reference) == *d)
    }
}

impl State {
    /// Adds (or re-tags) the image a pull of `tag` produces; its id follows from the name, so
    /// that pulling twice gives the same image. Returns its id and whether it is new.
    pub(crate) fn add_image(&mut self, tag: &str, size: i64, now: i64) -> (String, bool) {
        let tag = normalize(tag);
        let id = digest(format!("image {}", Image::repo(&tag)).as_bytes());
        if let Some(image) = self.images.get_mut(&id) {
            let new = !image.tags.contains(&tag);
            if new {
                image.tags.push(tag);
                image.last_tag = now;
            }
            return (id, new);
        }
        let config = ImageConfig {
            env: Some(vec!["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin".to_owned()]),
            cmd: Some(vec!["sh".to_owned()]),
            ..ImageConfig::default()
        };
        let image = Image {
            id: id.clone(),
            tags: vec![tag],
            digest: digest(format!("manifest {id}").as_bytes()),
            // Images are built some time before they are pulled.
            created: now - 30 * 86_400 * 1_000_000_000,
            last_tag: now,
            size,
            config,
        };
        self.images.insert(id.clone(), image);
        (id, true)
    }
}

fn short(id: &str) -> &str {
    let hex = id.strip_prefix("sha256:").unwrap_or(id);
    &hex[..12.min(hex.len())]
}

fn summary(image: &Image) -> ImageSummary {
    ImageSummary {
        id: image.id.clone(),
        parent_id: String::new(),
        repo_tags: image.tags.clone(),
        repo_digests: image.repo_digests(),
        created: image.created.div_euclid(1_000_000_000),
        size: image.size,
        shared_size: -1,
        virtual_size: image.size,
        labels: image.config.labels.clone().unwrap_or_default(),
        // The daemon leaves this uncomputed (-1) in lists; `system df` fills it in.
        containers: -1,
        ..Default::default()
    }
}

/// The summary with the number of containers using the image (what `system df` shows).
pub(crate) fn summary_with_usage(state: &State, image: &Image) -> ImageSummary {
    let mut s = summary(image);
    s.containers = i64::try_from(state.containers.values().filter(|c| c.image_id == image.id).count()).unwrap_or(0);
    s.shared_size = 0;
    s
}

fn inspect(image: &Image) -> ImageInspect {
    ImageInspect {
        id: Some(image.id.clone()),
        repo_tags: Some(image.tags.clone()),
        repo_digests: Some(image.repo_digests()),
        parent: Some(String::new()),
        comment: Some(String::new()),
        created: Some(rfc3339_nanos(image.created)),
        container: Some(String::new()),
        container_config: Some(moby_api::v1_41::models::ContainerConfig::default()),
        docker_version: Some("20.10.24".to_owned()),
        author: Some(String::new()),
        config: Some(image.config.clone()),
        architecture: Some("amd64".to_owned()),
        variant: None,
        os: Some("linux".to_owned()),
        os_version: None,
        size: Some(image.size),
        virtual_size: Some(image.size),
        graph_driver: Some(GraphDriverData { name: "overlay2".to_owned(), data: HashMap::new(), ..Default::default() }),
        root_fs: Some(ImageInspectRootFs {
            r#type: "layers".to_owned(),
            layers: Some(vec![digest(format!("layer {}", image.id).as_bytes())]),
            ..Default::default()
        }),
        metadata: Some(ImageInspectMetadata { last_tag_time: Some(rfc3339_nanos(image.last_tag)), ..Default::default() }),
        ..Default::default()
    }
}

fn not_found(reference: &str) -> ApiError {
    ApiError::not_found(format!("No such image: {reference}"))
}

fn message(status: &str, id: Option<&str>, progress: Option<(i64, i64)>) -> CreateImageInfo {
    CreateImageInfo {
        id: id.map(str::to_owned),
        error: None,
        error_detail: None,
        status: Some(status.to_owned()),
        progress: None,
        progress_detail: progress.map(|(current, total)| ProgressDetail {
            current: Some(current),
            total: Some(total),
            ..Default::default()
        }),
        ..Default::default()
    }
}

impl ImageApi for Engine {
    async fn image_list(&self, _context: &Context, request: ImageListRequest) -> Result<ImageListReply, ApiError> {
        let filters = crate::checked_filters(request.params.filters, &["dangling", "label", "before", "since", "reference"])?;
        let mut list: Vec<(i64, ImageSummary)> = self.read(|state| {
            let created_than = |reference: &str| resolve(state, reference).and_then(|id| state.images.get(&id)).map(|i| i.created);
            state
                .images
                .values()
                .filter(|image| {
                    filters.matches_labels(crate::labels(image.config.labels.as_ref()))
                        && filters.matches_any("dangling", |value| (value == "true" || value == "1") == image.tags.is_empty())
                        && filters.matches_any("reference", |value| image.tags.iter().any(|t| reference_matches(t, value)))
                        && filters.matches_any("before", |value| created_than(value).is_some_and(|t| image.created < t))
                        && filters.matches_any("since", |value| created_than(value).is_some_and(|t| image.created > t))
                })
                .map(|image| (image.created, summary(image)))
                .collect()
        });
        list.sort_by_key(|entry| std::cmp::Reverse(entry.0));
        Ok(ImageListReply::Ok(list.into_iter().map(|(_, s)| s).collect()))
    }

    async fn image_create(&self, _context: &Context, request: ImageCreateRequest) -> Result<ImageCreateReply, ApiError> {
        let params = request.params;
        if params.from_src.is_some() {
            return Err(ApiError::invalid_argument("importing images is not supported by this engine"));
        }
        let from =
            params.from_image.filter(|f| !f.is_empty()).ok_or_else(|| ApiError::invalid_argument("fromImage or fromSrc is required"))?;
        let reference = match params.tag.filter(|t| !t.is_empty()) {
            Some(tag) if tag.starts_with("sha256:") => format!("{from}@{tag}"),
            Some(tag) => format!("{from}:{tag}"),
            None => from.clone(),
        };
        let tag = normalize(&reference);
        let repo = Image::repo(&tag).to_owned();
        let shown_tag = tag.rsplit_once(':').map_or("latest", |(_, t)| t).to_owned();
        let now = now_nanos();
        let (id, new, image_digest) = self.update(|state| {
            let (id, new) = state.add_image(&tag, BUSYBOX_SIZE, now);
            let image_digest = state.images[&id].digest.clone();
            state.event(EventMessageType::Image, "pull", &tag, attrs([("name", repo.clone())]));
            (id, new, image_digest)
        });
        // The messages `docker pull` shows, as a registry pull produces them.
        let official = !repo.contains('/');
        let mut messages = vec![message(
            &format!("Pulling from {}", if official { format!("library/{repo}") } else { repo.clone() }),
            Some(&shown_tag),
            None,
        )];
        if new {
            let layer = short(&id).to_owned();
            let total = BUSYBOX_SIZE / 2;
            messages.push(message("Pulling fs layer", Some(&layer), None));
            for current in [total / 4, total / 2, total] {
                messages.push(message("Downloading", Some(&layer), Some((current, total))));
            }
            messages.push(message("Download complete", Some(&layer), None));
            messages.push(message("Extracting", Some(&layer), Some((total, total))));
            messages.push(message("Pull complete", Some(&layer), None));
        }
        messages.push(message(&format!("Digest: {image_digest}"), None, None));
        let status = if new { "Downloaded newer image for" } else { "Image is up to date for" };
        messages.push(message(&format!("Status: {status} {tag}"), None, None));
        Ok(ImageCreateReply::Ok(StreamBody::progress(stream::iter(messages))))
    }

    async fn image_inspect(&self, _context: &Context, request: ImageInspectRequest) -> Result<ImageInspectReply, ApiError> {
        self.read(|state| {
            let id = resolve(state, &request.name).ok_or_else(|| not_found(&request.name))?;
            Ok(ImageInspectReply::Ok(inspect(&state.images[&id])))
        })
    }

    async fn image_history(&self, _context: &Context, request: ImageHistoryRequest) -> Result<ImageHistoryReply, ApiError> {
        self.read(|state| {
            let id = resolve(state, &request.name).ok_or_else(|| not_found(&request.name))?;
            let image = &state.images[&id];
            let created = image.created.div_euclid(1_000_000_000);
            Ok(ImageHistoryReply::Ok(vec![
                ImageHistoryResponseItem {
                    id: image.id.clone(),
                    created,
                    created_by: "/bin/sh -c #(nop)  CMD [\"sh\"]".to_owned(),
                    tags: image.tags.clone(),
                    size: 0,
                    comment: String::new(),
                    ..Default::default()
                },
                ImageHistoryResponseItem {
                    id: "<missing>".to_owned(),
                    created,
                    created_by: "/bin/sh -c #(nop) ADD file:busybox in / ".to_owned(),
                    tags: Vec::new(),
                    size: image.size,
                    comment: String::new(),
                    ..Default::default()
                },
            ]))
        })
    }

    async fn image_tag(&self, _context: &Context, request: ImageTagRequest) -> Result<ImageTagReply, ApiError> {
        let repo =
            request.params.repo.filter(|r| !r.is_empty()).ok_or_else(|| ApiError::invalid_argument("repository name must be given"))?;
        let tag = request.params.tag.filter(|t| !t.is_empty()).unwrap_or_else(|| "latest".to_owned());
        if repo.chars().any(|c| c.is_ascii_uppercase()) {
            return Err(ApiError::invalid_argument(format!("invalid reference format: repository name ({repo}) must be lowercase")));
        }
        let target = normalize(&format!("{repo}:{tag}"));
        self.update(|state| {
            let id = resolve(state, &request.name).ok_or_else(|| not_found(&request.name))?;
            // A tag names one image: moving it takes it from the image that had it.
            for image in state.images.values_mut() {
                image.tags.retain(|t| *t != target);
            }
            let image = state.images.get_mut(&id).expect("resolved above");
            image.tags.push(target.clone());
            image.last_tag = now_nanos();
            state.event(EventMessageType::Image, "tag", &id, attrs([("name", target)]));
            Ok(ImageTagReply::Created)
        })
    }

    async fn image_delete(&self, _context: &Context, request: ImageDeleteRequest) -> Result<ImageDeleteReply, ApiError> {
        let force = request.params.force.unwrap_or(false);
        self.update(|state| delete(state, &request.name, force).map(ImageDeleteReply::Ok))
    }

    async fn build_prune(&self, _context: &Context, _request: BuildPruneRequest) -> Result<BuildPruneReply, ApiError> {
        // Nothing is ever built, so there is no cache; `docker system prune` asks anyway.
        Ok(BuildPruneReply::Ok(moby_api::v1_41::models::BuildPruneResponse {
            caches_deleted: Some(Vec::new()),
            space_reclaimed: Some(0),
            ..Default::default()
        }))
    }

    async fn image_prune(&self, _context: &Context, request: ImagePruneRequest) -> Result<ImagePruneReply, ApiError> {
        let filters = crate::checked_filters(request.params.filters, &["dangling", "label", "label!", "until"])?;
        let until = crate::clock::prune_until(&filters)?;
        // Only untagged images, unless `dangling=false` asks for every unused one.
        let all = filters.get("dangling").iter().any(|v| v == "false" || v == "0");
        let deleted = self.update(|state| {
            let unused: Vec<String> = state
                .images
                .values()
                .filter(|i| all || i.tags.is_empty())
                .filter(|i| filters.matches_labels(crate::labels(i.config.labels.as_ref())))
                .filter(|i| until.is_none_or(|until| i.created < until))
                .filter(|i| !state.containers.values().any(|c| c.image_id == i.id))
                .map(|i| i.id.clone())
                .collect();
            let mut deleted = Vec::new();
            for id in unused {
                if let Ok(items) = delete(state, &id, true) {
                    deleted.extend(items);
                }
            }
            deleted
        });
        Ok(ImagePruneReply::Ok(ImagePruneResponse { images_deleted: Some(deleted), space_reclaimed: Some(0), ..Default::default() }))
    }
}

/// `docker images busybox` / `reference=busy*`: a repository, optionally with a tag, where
/// `*` matches anything.
fn reference_matches(tag: &str, pattern: &str) -> bool {
    let (repo, t) = tag.rsplit_once(':').unwrap_or((tag, ""));
    let (pattern_repo, pattern_tag) = match pattern.rsplit_once(':') {
        Some((r, t)) if !t.contains('/') => (r, Some(t)),
        _ => (pattern, None),
    };
    glob(pattern_repo, repo) && pattern_tag.is_none_or(|pt| glob(pt, t))
}

fn glob(pattern: &str, text: &str) -> bool {
    match pattern.split_once('*') {
        None => pattern == text,
        Some((head, rest)) => {
            text.starts_with(head)
                && (0..=text.len() - head.len()).any(|i| text.is_char_boundary(head.len() + i) && glob(rest, &text[head.len() + i..]))
        }
    }
}

/// The daemon's image removal: a tag is untagged (and the image deleted with its last tag);
/// an id deletes the image, which needs `force` when several repositories name it or a
/// stopped container uses it, and is refused while a running container uses it.
fn delete(state: &mut State, reference: &str, force: bool) -> Result<Vec<ImageDeleteResponseItem>, ApiError> {
    let id = resolve(state, reference).ok_or_else(|| not_found(reference))?;
    let by_tag = {
        let tag = normalize(reference);
        state.images[&id].tags.contains(&tag).then_some(tag)
    };
    let users: Vec<(String, bool)> =
        state.containers.values().filter(|c| c.image_id == id).map(|c| (c.id.clone(), c.status.is_running())).collect();
    let image = &state.images[&id];
    let mut items = Vec::new();
    let untag = |state: &mut State, tag: String, items: &mut Vec<ImageDeleteResponseItem>| {
        if let Some(image) = state.images.get_mut(&id) {
            image.tags.retain(|t| *t != tag);
        }
        state.event(EventMessageType::Image, "untag", &id, attrs([("name", tag.clone())]));
        items.push(ImageDeleteResponseItem { untagged: Some(tag), deleted: None, ..Default::default() });
    };
    match by_tag {
        Some(tag) if image.tags.len() > 1 || (!users.is_empty() && force) => {
            untag(state, tag, &mut items);
            return Ok(items);
        }
        Some(tag) => {
            if let Some((user, running)) = users.first() {
                let how = if *running { "running" } else { "stopped" };
                return Err(ApiError::conflict(format!(
                    "conflict: unable to remove repository reference \"{reference}\" (must force) - container {} is using its referenced image {} ({how})",
                    &user[..12],
                    short(&id)
                )));
            }
            untag(state, tag, &mut items);
        }
        None => {
            if let Some((user, true)) = users.iter().find(|(_, running)| *running) {
                return Err(ApiError::conflict(format!(
                    "conflict: unable to delete {} (cannot be forced) - image is being used by running container {}",
                    short(&id),
                    &user[..12]
                )));
            }
            if !force {
                if image.tags.len() > 1 {
                    return Err(ApiError::conflict(format!(
                        "conflict: unable to delete {} (must be forced) - image is referenced in multiple repositories",
                        short(&id)
                    )));
                }
                if let Some((user, _)) = users.first() {
                    return Err(ApiError::conflict(format!(
                        "conflict: unable to delete {} (must be forced) - image is being used by stopped container {}",
                        short(&id),
                        &user[..12]
                    )));
                }
            }
            for tag in image.tags.clone() {
                untag(state, tag, &mut items);
            }
        }
    }
    state.images.remove(&id);
    state.event(EventMessageType::Image, "delete", &id, HashMap::new());
    items.push(ImageDeleteResponseItem { untagged: None, deleted: Some(id), ..Default::default() });
    Ok(items)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references() {
        assert_eq!(normalize("busybox"), "busybox:latest");
        assert_eq!(normalize("docker.io/library/busybox:1.36"), "busybox:1.36");
        assert_eq!(normalize("localhost:5000/app"), "localhost:5000/app:latest");
        assert_eq!(normalize("localhost:5000/app:v1"), "localhost:5000/app:v1");
        assert!(reference_matches("busybox:latest", "busybox"));
        assert!(reference_matches("busybox:latest", "busy*:lat*"));
        assert!(!reference_matches("busybox:latest", "alpine"));
    }

    #[test]
    fn tags_and_removal() {
        let mut state = State::default();
        let (id, new) = state.add_image("busybox", BUSYBOX_SIZE, 0);
        assert!(new);
        assert_eq!(resolve(&state, "busybox:latest").as_deref(), Some(id.as_str()));
        assert_eq!(resolve(&state, &id[7..19]).as_deref(), Some(id.as_str()));
        assert_eq!(state.add_image("busybox:latest", 1, 0), (id.clone(), false));
        state.images.get_mut(&id).unwrap().tags.push("mine:1".to_owned());
        assert!(delete(&mut state, &id, false).unwrap_err().message().contains("multiple repositories"));
        let items = delete(&mut state, "mine:1", false).unwrap();
        assert_eq!(items[0].untagged.as_deref(), Some("mine:1"));
        let items = delete(&mut state, "busybox", false).unwrap();
        assert_eq!(items.len(), 2);
        assert!(state.images.is_empty());
    }
}
