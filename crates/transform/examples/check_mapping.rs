//! Load mapping files and print the result: `cargo run -p kcm-transform --example check_mapping -- FILE...`.

fn main() {
    for path in std::env::args().skip(1) {
        match kcm_transform::Mapping::from_path(&path) {
            Ok(m) => {
                println!("{path}: ok ({} → realm {})", m.source(), m.realm());
                for w in m.warnings() {
                    println!("  warning: {w}");
                }
            }
            Err(e) => println!("{e}"),
        }
    }
}
