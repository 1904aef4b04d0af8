//! The `nosey` binary: everything lives in the library's `cli` module.

// mimalloc instead of glibc's malloc: nosey allocates many short-lived buffers across
// threads (bodies, rows, requests); measured with nosey-bench, delivery is about 10% faster
// for somewhat more resident memory (docs/performance.md).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    nosey::cli::main()
}
