//! A user-space UDP impairment relay for tests and benchmarks.

fn main() -> std::process::ExitCode {
    rmosh::cli::not_implemented("rmosh-relay")
}
