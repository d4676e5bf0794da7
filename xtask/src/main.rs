//! `cargo xtask tidy`: checks the rules of Hearth's layout that the compiler does not (see
//! [`tidy`]); `cargo test` runs the same checks as a test.

mod tidy;

use std::process::ExitCode;

fn main() -> ExitCode {
    match std::env::args().nth(1).as_deref() {
        Some("tidy") => {
            let problems = tidy::check(&tidy::repository_root());
            for p in &problems {
                eprintln!("{p}");
            }
            if problems.is_empty() {
                eprintln!("tidy: all rules hold");
                ExitCode::SUCCESS
            } else {
                eprintln!("tidy: {} problems", problems.len());
                ExitCode::FAILURE
            }
        }
        _ => {
            eprintln!("usage: cargo xtask tidy");
            ExitCode::FAILURE
        }
    }
}
