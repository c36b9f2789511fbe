//! The `kc-migrate` binary: everything lives in the library; `main` only maps the outcome to
//! an exit code.

/// mimalloc: planning makes a few hundred small allocations per user, on several threads;
/// mimalloc does them about a fifth faster than glibc's allocator (BENCHMARKS.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    kcm_cli::main()
}
