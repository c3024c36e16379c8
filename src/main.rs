//! The `surgesim` binary: parse flags, call the library, print, map errors
//! to exit codes (0 ok, 1 SLO violated, 2 bad input or usage).

mod cli;

use std::process::ExitCode;

fn main() -> ExitCode {
    match cli::main() {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e}");
            for cause in e.chain().skip(1) {
                eprintln!("  caused by: {cause}");
            }
            ExitCode::from(2)
        }
    }
}
