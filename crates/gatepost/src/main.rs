//! The `gatepost` command (SPEC §1).

fn main() -> std::process::ExitCode {
    gatepost::cli::main()
}
