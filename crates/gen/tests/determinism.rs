//! Same seed ⇒ byte-identical files; different seed ⇒ different files; gzip output is the
//! plain output compressed, and itself deterministic.

mod common;

use common::{gen, read, ALL};

fn file_bytes(report: &kcm_gen::GenReport) -> Vec<(String, Vec<u8>)> {
    report
        .files
        .iter()
        .map(|f| {
            let name = f.path.file_name().unwrap().to_string_lossy().into_owned();
            (name, std::fs::read(&f.path).unwrap())
        })
        .collect()
}

#[test]
fn same_seed_gives_identical_bytes() {
    for provider in ALL {
        for gzip in [false, true] {
            let (_a, ra) = gen(provider, 700, 42, gzip);
            let (_b, rb) = gen(provider, 700, 42, gzip);
            let (fa, fb) = (file_bytes(&ra), file_bytes(&rb));
            assert!(!fa.is_empty());
            assert_eq!(fa.len(), fb.len());
            for ((na, ba), (nb, bb)) in fa.iter().zip(&fb) {
                assert_eq!(na, nb);
                assert!(
                    ba == bb,
                    "{provider:?} gzip={gzip}: {na} differs between runs"
                );
            }
        }
    }
}

#[test]
fn different_seed_gives_different_files() {
    for provider in ALL {
        let (_a, ra) = gen(provider, 300, 1, false);
        let (_b, rb) = gen(provider, 300, 2, false);
        for ((na, ba), (_, bb)) in file_bytes(&ra).iter().zip(&file_bytes(&rb)) {
            assert!(ba != bb, "{provider:?}: {na} is the same for seeds 1 and 2");
        }
    }
}

#[test]
fn gzip_output_is_the_plain_output_compressed() {
    for provider in ALL {
        let (_p, plain) = gen(provider, 400, 9, false);
        let (_g, gz) = gen(provider, 400, 9, true);
        let main_plain = &plain.files[0].path;
        let main_gz = &gz.files[0].path;
        assert_eq!(main_gz.extension().unwrap(), "gz", "{provider:?}");
        let raw = std::fs::read(main_gz).unwrap();
        assert_eq!(&raw[..2], &[0x1f, 0x8b], "{provider:?}: gzip magic");
        assert!(raw.len() < std::fs::read(main_plain).unwrap().len() / 2);
        assert_eq!(read(main_gz), read(main_plain), "{provider:?}");
        // Side files are never compressed.
        for (p, g) in plain.files.iter().zip(&gz.files).skip(1) {
            assert_eq!(p.path.file_name(), g.path.file_name());
            assert_eq!(read(&p.path), read(&g.path));
        }
    }
}

#[test]
fn a_prefix_of_users_does_not_depend_on_the_total() {
    // Users are generated one after another, never as a batch: the first 100 users of a
    // 100-user run are the first 100 of a 1000-user run.
    let (_a, small) = gen(kcm_gen::Provider::Auth0, 100, 5, false);
    let (_b, large) = gen(kcm_gen::Provider::Auth0, 1000, 5, false);
    let small = read(&small.files[0].path);
    let large = read(&large.files[0].path);
    assert!(large.starts_with(&small));
}
