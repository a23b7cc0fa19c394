//! Verifies the sender's RS256 client assertion (a JWT) against its public key.

use base64::Engine as _;
use ring::signature::{RSA_PKCS1_2048_8192_SHA256, UnparsedPublicKey};
use rustls_pki_types::SubjectPublicKeyInfoDer;
use rustls_pki_types::pem::PemObject;
use serde_json::Value;

/// The test sender's public key, from tests/fixtures/sandbox.
const SENDER_PUBLIC_KEY: &str =
    include_str!("../../../../fixtures/sandbox/reportstream-sender.pub.pem");

/// The PKCS#1 RSAPublicKey inside the sender's SubjectPublicKeyInfo, as ring wants it.
pub(super) fn sender_key() -> Vec<u8> {
    let spki = SubjectPublicKeyInfoDer::from_pem_slice(SENDER_PUBLIC_KEY.as_bytes())
        .expect("the fixture holds a PEM public key");
    spki_to_pkcs1(spki.as_ref())
        .expect("the fixture holds an RSA public key")
        .to_vec()
}

/// SubjectPublicKeyInfo ::= SEQUENCE { algorithm SEQUENCE, subjectPublicKey BIT STRING }
pub(crate) fn spki_to_pkcs1(spki: &[u8]) -> Option<&[u8]> {
    let (0x30, outer, _) = der_item(spki)? else {
        return None;
    };
    let (0x30, _algorithm, rest) = der_item(outer)? else {
        return None;
    };
    let (0x03, bits, _) = der_item(rest)? else {
        return None;
    };
    // The first byte of a BIT STRING counts the unused bits: 0 for a key.
    bits.strip_prefix(&[0])
}

/// One DER element: tag, content, and what follows it.
fn der_item(input: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let tag = *input.first()?;
    let first = *input.get(1)? as usize;
    let (len, header) = if first < 0x80 {
        (first, 2)
    } else {
        let count = first & 0x7f;
        if count == 0 || count > 4 {
            return None;
        }
        let len = input
            .get(2..2 + count)?
            .iter()
            .fold(0usize, |acc, b| (acc << 8) | *b as usize);
        (len, 2 + count)
    };
    let end = header.checked_add(len)?;
    Some((tag, input.get(header..end)?, &input[end..]))
}

/// The JWT's header and claims, once its RS256 signature checks out.
pub(super) fn verify(token: &str, key: &[u8]) -> Result<(Value, Value), &'static str> {
    let mut parts = token.split('.');
    let (Some(header), Some(claims), Some(signature), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err("the client assertion is not a JWT");
    };
    let decode = |part: &str| {
        base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(part.trim_end_matches('='))
            .map_err(|_| "the client assertion is not base64url")
    };
    let header_json: Value =
        serde_json::from_slice(&decode(header)?).map_err(|_| "the JWT header is not JSON")?;
    let claims_json: Value =
        serde_json::from_slice(&decode(claims)?).map_err(|_| "the JWT claims are not JSON")?;
    if header_json["alg"] != "RS256" {
        return Err("the JWT is not signed RS256");
    }
    let signing_input = &token[..header.len() + 1 + claims.len()];
    UnparsedPublicKey::new(&RSA_PKCS1_2048_8192_SHA256, key)
        .verify(signing_input.as_bytes(), &decode(signature)?)
        .map_err(|_| "the JWT signature does not verify with the sender's key")?;
    Ok((header_json, claims_json))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fixture_key_parses() {
        let key = sender_key();
        // RSAPublicKey ::= SEQUENCE { modulus INTEGER, publicExponent INTEGER }
        assert_eq!(key[0], 0x30);
    }

    #[test]
    fn bad_tokens_are_refused_without_panics() {
        let key = sender_key();
        for token in ["", "a.b", "a.b.c.d", "!!.!!.!!", "e30.e30.AAAA"] {
            assert!(verify(token, &key).is_err(), "{token}");
        }
    }
}
