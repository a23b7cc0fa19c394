//! Shared code for the workspace's filter tools.
//!
//! Every tool is a thin binary over this crate: it hands its clap `Command`
//! and its `run` function to [`cli::main`], which takes care of exit codes,
//! broken pipes and the `tool: error: ...` message format.
#![forbid(unsafe_code)]

pub mod cli;
pub mod doc;
pub mod error;
pub mod io;
pub mod json;
pub mod lock;
pub mod ndjson;
pub mod progress;
pub mod records;
pub mod retry;
pub mod secret;
pub mod text;

#[cfg(feature = "box")]
pub mod boxapi;
#[cfg(feature = "csv")]
pub mod csv;
#[cfg(feature = "db")]
pub mod db;
#[cfg(feature = "hash")]
pub mod hash;
#[cfg(feature = "http")]
pub mod http;
#[cfg(feature = "jq")]
pub mod jq;
#[cfg(feature = "receipt")]
pub mod receipt;
#[cfg(feature = "result")]
pub mod result;
#[cfg(feature = "testing")]
pub mod testing;
#[cfg(feature = "time")]
pub mod time;

pub use error::{Error, Exit, Result};
