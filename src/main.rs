//! The `nosey` binary: everything lives in the library's `cli` module.

fn main() -> std::process::ExitCode {
    nosey::cli::main()
}
