//! Base64 as Keycloak needs it written (standard alphabet, padded) and as sources write it
//! (standard alphabet, padding optional).

use base64::alphabet;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig, STANDARD};
use base64::engine::DecodePaddingMode;
use base64::Engine as _;

/// Sources are not consistent about padding (PHC strings never pad, Firebase always does),
/// and a non-zero trailing bit only makes the encoding non-canonical, not the bytes wrong:
/// accept both and always re-encode canonically.
const LENIENT: GeneralPurpose = GeneralPurpose::new(
    &alphabet::STANDARD,
    GeneralPurposeConfig::new()
        .with_decode_padding_mode(DecodePaddingMode::Indifferent)
        .with_decode_allow_trailing_bits(true),
);

/// Decode standard-alphabet base64, padded or not, ignoring surrounding whitespace.
pub(crate) fn decode(text: &str) -> Option<Vec<u8>> {
    LENIENT.decode(text.trim()).ok()
}

/// Standard alphabet, padded, no line breaks: Keycloak's decoder drops an unpadded final
/// group and compares `value` as text, so anything else never verifies.
pub(crate) fn encode(bytes: &[u8]) -> String {
    STANDARD.encode(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_unpadded_and_padded_and_encodes_padded() {
        assert_eq!(decode("c29tZXNhbHQ").as_deref(), Some(&b"somesalt"[..]));
        assert_eq!(decode("c29tZXNhbHQ=").as_deref(), Some(&b"somesalt"[..]));
        assert_eq!(decode(" Bw== ").as_deref(), Some(&[7u8][..]));
        assert_eq!(encode(b"somesalt"), "c29tZXNhbHQ=");
        assert_eq!(
            decode("c29t-XNhbHQ"),
            None,
            "URL-safe alphabet is not standard"
        );
        assert_eq!(decode("!!!"), None);
    }
}
