//! `yuekang`: the server and the operator's command-line tool in one binary.

use std::process::ExitCode;

fn main() -> ExitCode {
    yuekang_api::cli::main()
}
