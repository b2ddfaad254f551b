//! Path parameters in request paths, as the daemon's router expects them.
//!
//! The daemon matches names greedily (`/images/{name:.*}/json`), so an image such as
//! `registry:5000/team/app:1.2` travels with its `/` and `:` as they are, exactly as the Go
//! client sends it. Only what would end or corrupt the path (`?`, `#`, `%`, spaces,
//! control and non-ASCII bytes) is percent-encoded; the daemon decodes those.

use std::borrow::Cow;

/// `value` ready to be placed in a request path.
pub fn encode_path_param(value: &str) -> Cow<'_, str> {
    if value.bytes().all(is_kept) {
        return Cow::Borrowed(value);
    }
    let mut out = String::with_capacity(value.len() + 8);
    for b in value.bytes() {
        if is_kept(b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    Cow::Owned(out)
}

fn is_kept(b: u8) -> bool {
    b.is_ascii_graphic() && !matches!(b, b'?' | b'#' | b'%' | b'"' | b'<' | b'>' | b'\\' | b'^' | b'`' | b'{' | b'|' | b'}')
}

#[cfg(test)]
mod tests {
    use super::encode_path_param;

    #[test]
    fn keeps_slashes_and_colons_escapes_what_ends_a_path() {
        assert_eq!(encode_path_param("registry:5000/team/app:1.2"), "registry:5000/team/app:1.2");
        assert_eq!(encode_path_param("sha256:abc@x"), "sha256:abc@x");
        assert_eq!(encode_path_param("a b?c#d%e"), "a%20b%3Fc%23d%25e");
        assert_eq!(encode_path_param("é"), "%C3%A9");
    }
}
