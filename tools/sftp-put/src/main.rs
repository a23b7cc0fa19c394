#![forbid(unsafe_code)]

fn main() {
    common::cli::main(sftp_put::command(), sftp_put::run)
}
