//! `sdbc lsp`: the language server on stdin/stdout (see `sdbc::lsp`).

use super::common::ExitStatus;

pub fn run() -> ExitStatus {
    match crate::lsp::run_stdio() {
        Ok(()) => ExitStatus::Ok,
        Err(err) => {
            let _ = std::io::Write::write_all(
                &mut std::io::stderr(),
                format!("sdbc lsp: {err}\n").as_bytes(),
            );
            ExitStatus::Errors
        }
    }
}
