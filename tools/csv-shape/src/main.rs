#![forbid(unsafe_code)]

fn main() {
    common::cli::main(csv_shape::command(), csv_shape::run)
}
