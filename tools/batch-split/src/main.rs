#![forbid(unsafe_code)]

fn main() {
    common::cli::main(batch_split::command(), batch_split::run)
}
