//! Hex digests: sha256 of bytes or of a stream, and lower-case hex of any
//! digest (receipts, index-diff's content hashes, Box's sha1 checks).

use sha2::{Digest, Sha256};
use std::io::{self, Read};

/// Lower-case hex of a digest.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The sha256 of `bytes`, in lower-case hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

/// The sha256 (lower-case hex) and length of a stream.
pub fn sha256_reader<R: Read>(mut reader: R) -> io::Result<(String, u64)> {
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 64 * 1024];
    let mut total = 0u64;
    loop {
        let n = reader.read(&mut buf)?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
        total += n as u64;
    }
    Ok((hex(&hasher.finalize()), total))
}

#[cfg(test)]
mod tests {
    use super::*;

    const ABC: &str = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";

    #[test]
    fn hex_is_two_lower_case_digits_a_byte() {
        assert_eq!(hex(&[]), "");
        assert_eq!(hex(&[0, 9, 10, 255]), "00090aff");
    }

    #[test]
    fn sha256_of_bytes_and_of_a_stream_agree() -> io::Result<()> {
        assert_eq!(sha256_hex(b"abc"), ABC);
        assert_eq!(sha256_reader(&b"abc"[..])?, (ABC.to_string(), 3));
        let big = vec![7u8; 200 * 1024];
        assert_eq!(
            sha256_reader(&big[..])?,
            (sha256_hex(&big), big.len() as u64)
        );
        Ok(())
    }
}
