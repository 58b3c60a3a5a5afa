//! The `gatepost` command (docs/reference/configuration.md#commands).

/// mimalloc instead of the system allocator: gatepost allocates many small, short-lived
/// values on several threads at once, where glibc's malloc spent a tenth of the CPU.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    gatepost::cli::main()
}
