use std::process::ExitCode;

fn main() -> ExitCode {
    crossdock_server::cli::main()
}
