//! The `kc-migrate` binary: everything lives in the library; `main` only maps the outcome to
//! an exit code.

/// mimalloc: users are planned on worker threads and are often freed by another thread than
/// the one that built them, which the system allocator handles slowly.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    kcm_cli::main()
}
