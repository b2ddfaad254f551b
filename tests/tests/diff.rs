//! Version diffs: snapshots of a few, and the algebra (self-diff empty, B→A inverts A→B).

use moby_api_codegen::diff::diff;
use moby_api_codegen::ApiVersion;
use moby_api_tests::history;

fn spec(minor: u8) -> &'static moby_api_codegen::ir::ApiSpec {
    history().spec(ApiVersion::new(minor)).unwrap()
}

macro_rules! diff_snapshot {
    ($($name:ident: $a:literal -> $b:literal),* $(,)?) => {$(
        #[test]
        fn $name() {
            insta::assert_snapshot!(diff(spec($a), spec($b)).to_markdown());
        }
    )*};
}

diff_snapshot!(v1_24_to_v1_25: 24 -> 25, v1_40_to_v1_41: 40 -> 41, v1_43_to_v1_44: 43 -> 44, v1_48_to_v1_49: 48 -> 49, v1_49_to_v1_50: 49 -> 50, v1_51_to_v1_52: 51 -> 52);

#[test]
fn a_version_against_itself_is_empty() {
    for v in history().versions() {
        let s = history().spec(v).unwrap();
        assert!(diff(s, s).is_empty(), "{v}");
    }
}

#[test]
fn reverse_diff_is_the_inverse() {
    let versions: Vec<ApiVersion> = history().versions().collect();
    let pairs = versions
        .windows(2)
        .map(|pair| (pair[0], pair[1]))
        .chain([(ApiVersion::new(24), ApiVersion::new(55)), (ApiVersion::new(30), ApiVersion::new(41))]);
    for (a, b) in pairs {
        let (sa, sb) = (history().spec(a).unwrap(), history().spec(b).unwrap());
        let forward = diff(sa, sb);
        let mut inverted: Vec<_> = diff(sb, sa).changes.iter().map(|c| c.inverse()).collect();
        inverted.sort();
        assert_eq!(forward.changes, inverted, "{a} ↔ {b}");
    }
}
