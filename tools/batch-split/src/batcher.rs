//! Cutting records into batches by count and size, and the sinks that
//! batches go to.

use common::error::Location;
use common::{Error, Result, cli};
use serde_json::Value;
use sha2::{Digest, Sha256};

/// How batches are sized.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    pub size: u64,
    pub max_bytes: Option<u64>,
}

/// A finished batch: what a receipt says about it.
#[derive(Clone, Debug)]
pub struct BatchInfo {
    /// 1-based.
    pub index: u64,
    pub records: u64,
    pub bytes: u64,
    pub sha256: String,
}

/// Where the bytes of batches go.
pub trait BatchSink {
    fn begin(&mut self, index: u64) -> Result<()>;
    fn write(&mut self, bytes: &[u8]) -> Result<()>;
    /// The record just written is the one at `key` in the input (its line
    /// or row number).
    fn record(&mut self, _key: u64) -> Result<()> {
        Ok(())
    }
    fn end(&mut self, info: BatchInfo) -> Result<()>;

    /// Offer the sink to check that each NDJSON line of `file` is a JSON
    /// object itself (off the reading thread); `true` if it will.
    fn check_lines(&mut self, _file: &str) -> bool {
        false
    }

    /// The run stops on `err`: the sink finishes what it must and returns
    /// the error to report (one found earlier in the input, if any).
    fn abort(&mut self, err: Error) -> Error {
        err
    }
}

/// What surrounds and separates the records of a batch.
#[derive(Clone, Debug)]
pub struct Framing {
    head: Vec<u8>,
    separator: &'static [u8],
    tail: Vec<u8>,
}

impl Framing {
    /// Records one after another, after a header (the CSV header, or nothing).
    pub fn lines(header: Vec<u8>) -> Framing {
        Framing {
            head: header,
            separator: b"",
            tail: Vec::new(),
        }
    }

    /// One JSON array on one line; with `wrap`, the array is the value of
    /// that key in an object: `{"KEY":[...]}`.
    pub fn array(wrap: Option<&str>) -> Framing {
        let (head, tail) = match wrap {
            None => (b"[".to_vec(), b"]\n".to_vec()),
            Some(key) => {
                let mut head = b"{".to_vec();
                head.extend_from_slice(Value::from(key).to_string().as_bytes());
                head.extend_from_slice(b":[");
                (head, b"]}\n".to_vec())
            }
        };
        Framing {
            head,
            separator: b",",
            tail,
        }
    }
}

/// Feeds records to a sink, starting a new batch whenever the next record
/// would break `--size` or `--max-bytes`.
pub struct Batcher<S: BatchSink> {
    sink: S,
    framing: Framing,
    limits: Limits,
    /// The number of the open batch, or of the last one closed.
    index: u64,
    open: bool,
    records: u64,
    bytes: u64,
    hasher: Sha256,
}

impl<S: BatchSink> Batcher<S> {
    pub fn new(sink: S, framing: Framing, limits: Limits) -> Self {
        Batcher {
            sink,
            framing,
            limits,
            index: 0,
            open: false,
            records: 0,
            bytes: 0,
            hasher: Sha256::new(),
        }
    }

    /// The number of the open batch (0 before the first record).
    pub fn index(&self) -> u64 {
        self.index
    }

    /// Whether a record of `len` bytes would start a new batch.
    pub fn would_start_batch(&self, len: u64) -> bool {
        if !self.open {
            return true;
        }
        let added = len + self.framing.separator.len() as u64;
        self.records >= self.limits.size
            || self
                .limits
                .max_bytes
                .is_some_and(|max| self.bytes + added > max)
    }

    /// Add one record, made of `parts` (a line and its newline, say), found
    /// at `key` in the input (line or row number). `at` names the record
    /// for the warning about an oversized one.
    pub fn push(&mut self, parts: &[&[u8]], key: u64, at: impl FnOnce() -> Location) -> Result<()> {
        let len: u64 = parts.iter().map(|p| p.len() as u64).sum();
        if self.would_start_batch(len) {
            self.close()?;
            self.index += 1;
            self.open = true;
            self.sink.begin(self.index)?;
            self.bytes = (self.framing.head.len() + self.framing.tail.len()) as u64;
            let head = std::mem::take(&mut self.framing.head);
            let written = self.emit(&head);
            self.framing.head = head;
            written?;
            if let Some(max) = self.limits.max_bytes
                && self.bytes + len > max
            {
                cli::warn(
                    crate::TOOL,
                    format!(
                        "{}: the record makes a batch of {} bytes on its own, over --max-bytes {max}; it goes in batch {} alone",
                        at(),
                        self.bytes + len,
                        self.index
                    ),
                );
            }
        } else {
            self.emit(self.framing.separator)?;
            self.bytes += self.framing.separator.len() as u64;
        }
        for part in parts {
            self.emit(part)?;
        }
        self.sink.record(key)?;
        self.bytes += len;
        self.records += 1;
        // A full batch is done now, not when the next record arrives: if
        // that record turns out bad, this batch is still delivered whole.
        if self.records >= self.limits.size {
            self.close()?;
        }
        Ok(())
    }

    fn emit(&mut self, bytes: &[u8]) -> Result<()> {
        if bytes.is_empty() {
            return Ok(());
        }
        self.hasher.update(bytes);
        self.sink.write(bytes)
    }

    fn close(&mut self) -> Result<()> {
        if !self.open {
            return Ok(());
        }
        let tail = std::mem::take(&mut self.framing.tail);
        let written = self.emit(&tail);
        self.framing.tail = tail;
        written?;
        let sha256 = common::hash::hex(&std::mem::take(&mut self.hasher).finalize());
        self.open = false;
        let info = BatchInfo {
            index: self.index,
            records: std::mem::take(&mut self.records),
            bytes: std::mem::take(&mut self.bytes),
            sha256,
        };
        self.sink.end(info)
    }

    /// The run stops on `err`: see [`BatchSink::abort`].
    pub fn abort(&mut self, err: Error) -> Error {
        self.sink.abort(err)
    }

    /// Close the last batch and give the sink back.
    pub fn finish(mut self) -> Result<S> {
        self.close()?;
        Ok(self.sink)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Default)]
    struct Collect {
        batches: Vec<(Vec<u8>, BatchInfo)>,
        current: Vec<u8>,
    }

    impl BatchSink for Collect {
        fn begin(&mut self, _: u64) -> Result<()> {
            self.current.clear();
            Ok(())
        }
        fn write(&mut self, bytes: &[u8]) -> Result<()> {
            self.current.extend_from_slice(bytes);
            Ok(())
        }
        fn end(&mut self, info: BatchInfo) -> Result<()> {
            self.batches.push((std::mem::take(&mut self.current), info));
            Ok(())
        }
    }

    fn cut(framing: Framing, size: u64, max: Option<u64>, records: &[&str]) -> Vec<String> {
        let limits = Limits {
            size,
            max_bytes: max,
        };
        let mut b = Batcher::new(Collect::default(), framing, limits);
        for r in records {
            assert!(b.push(&[r.as_bytes()], 0, || Location::file("t")).is_ok());
        }
        let sink = b.finish().unwrap_or_default();
        for (bytes, info) in &sink.batches {
            assert_eq!(info.bytes, bytes.len() as u64);
            assert_eq!(info.sha256.len(), 64);
        }
        sink.batches
            .into_iter()
            .map(|(b, _)| String::from_utf8_lossy(&b).into_owned())
            .collect()
    }

    #[test]
    fn by_count_and_by_bytes() {
        let recs = ["a\n", "b\n", "c\n"];
        assert_eq!(
            cut(Framing::lines(b"h\n".to_vec()), 2, None, &recs),
            ["h\na\nb\n", "h\nc\n"]
        );
        // Header 2 + two records 4 = 6 fits exactly; a third would be 8.
        assert_eq!(
            cut(Framing::lines(b"h\n".to_vec()), 10, Some(6), &recs),
            ["h\na\nb\n", "h\nc\n"]
        );
        // "[1,2]\n" is 6 bytes.
        assert_eq!(
            cut(Framing::array(None), 10, Some(6), &["1", "2", "3"]),
            ["[1,2]\n", "[3]\n"]
        );
        // Too big alone: its own batch.
        assert_eq!(
            cut(Framing::array(None), 10, Some(6), &["1", "12345", "2"]),
            ["[1]\n", "[12345]\n", "[2]\n"]
        );
        assert!(cut(Framing::array(None), 10, None, &[]).is_empty());
        // {"k":[1,2]}\n is 12 bytes.
        assert_eq!(
            cut(Framing::array(Some("k")), 10, Some(12), &["1", "2", "3"]),
            ["{\"k\":[1,2]}\n", "{\"k\":[3]}\n"]
        );
    }
}
