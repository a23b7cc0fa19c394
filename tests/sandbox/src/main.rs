//! `sandbox --port N --dir DIR [--http]`: serves the stand-in APIs until killed.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;

/// Serve the stand-in SaaS APIs (ReqCheck, ReportStream, dhis2, Primero, OSCaR, Box) on 127.0.0.1.
#[derive(Debug, Parser)]
#[command(name = "sandbox", version)]
struct Args {
    /// Loopback port (0 picks a free one).
    #[arg(long, default_value_t = 0)]
    port: u16,
    /// Directory for ca.pem, the CA that signed the server certificate.
    #[arg(long)]
    dir: PathBuf,
    /// Serve plain http:// instead of HTTPS.
    #[arg(long)]
    http: bool,
}

fn main() -> ExitCode {
    let args = Args::parse();
    let options = sandbox::Options {
        plain_http: args.http,
        port: args.port,
    };
    let sb = match sandbox::Sandbox::start_with(options) {
        Ok(sb) => sb,
        Err(e) => {
            eprintln!("sandbox: error: cannot start on port {}: {e}", args.port);
            return ExitCode::from(75);
        }
    };
    let ca = args.dir.join("ca.pem");
    if let Err(e) =
        std::fs::create_dir_all(&args.dir).and_then(|()| std::fs::write(&ca, sb.ca_pem()))
    {
        eprintln!("sandbox: error: cannot write {}: {e}", ca.display());
        return ExitCode::from(73);
    }
    eprintln!("sandbox: listening on {}", sb.url());
    let mut stdout = std::io::stdout();
    if writeln!(stdout, "{}", sb.url())
        .and_then(|()| stdout.flush())
        .is_err()
    {
        return ExitCode::from(74);
    }
    // Runs until killed; SIGTERM and SIGINT end the process the default way.
    loop {
        std::thread::park();
    }
}
