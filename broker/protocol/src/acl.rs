//! Apache RocketMQ's request signature (4.x "plain ACL"): a client signs a request with its
//! account's secret, the broker recomputes the signature to authenticate it.
//!
//! ```text
//! content   = value of every ext field but Signature and _UNIQUE_KEY_QUERY, ordered by key
//!             (Java's String order: UTF-16 code units), concatenated, UTF-8, then the body
//! Signature = Base64(HMAC-SHA1(secretKey, content))
//! ```
//!
//! A client adds `AccessKey` (and `SecurityToken` when it has one) before signing, so both are
//! covered; the broker reads `AccessKey` to find the secret. `_UNIQUE_KEY_QUERY` is left out
//! because Apache's tools add it after signing (`AclUtils.combineRequestContent`,
//! `PlainAccessValidator.parse`, `AclClientRPCHook`, `AclSigner`).

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use sha1::Sha1;

use crate::RemotingCommand;

/// Ext field naming the account.
pub const ACCESS_KEY: &str = "AccessKey";
/// Ext field carrying the signature.
pub const SIGNATURE: &str = "Signature";
/// Ext field of a temporary credential's token (signed like the others).
pub const SECURITY_TOKEN: &str = "SecurityToken";
/// Ext field a tool adds after signing (`MixAll.UNIQUE_MSG_QUERY_FLAG`): never signed.
pub const UNIQUE_KEY_QUERY: &str = "_UNIQUE_KEY_QUERY";

type HmacSha1 = Hmac<Sha1>;

/// An account's keys, for a client that signs its requests. `Debug` does not show the secret.
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    pub access_key: String,
    pub secret_key: String,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("access_key", &self.access_key)
            .field("secret_key", &"<hidden>")
            .finish()
    }
}

/// Java's `String.compareTo` order (UTF-16 code units), read off the UTF-8 bytes. UTF-8 bytes
/// sort as code points, and UTF-16 only differs from that where a supplementary character
/// (lead byte F0–F4, a surrogate pair in UTF-16) meets one of U+E000–U+FFFF (lead byte EE or
/// EF): the surrogate sorts first. Two strings equal up to their first different byte are at
/// the same character boundary there, so only the two bytes at that point decide.
fn java_order(a: &str, b: &str) -> std::cmp::Ordering {
    use std::cmp::Ordering::{Greater, Less};
    let (a, b) = (a.as_bytes(), b.as_bytes());
    let Some(at) = a.iter().zip(b).position(|(x, y)| x != y) else {
        return a.len().cmp(&b.len());
    };
    let supplementary = |byte: u8| byte >= 0xF0;
    let high_bmp = |byte: u8| (0xEE..=0xEF).contains(&byte);
    match (a[at], b[at]) {
        (x, y) if supplementary(x) && high_bmp(y) => Less,
        (x, y) if high_bmp(x) && supplementary(y) => Greater,
        (x, y) => x.cmp(&y),
    }
}

/// Whether a field's value is signed.
fn is_signed((key, _): &(&str, &str)) -> bool {
    *key != SIGNATURE && *key != UNIQUE_KEY_QUERY
}

/// The ext fields a signature covers, in the order their values are signed.
fn signed_fields<'a>(
    ext_fields: impl IntoIterator<Item = (&'a str, &'a str)>,
) -> Vec<(&'a str, &'a str)> {
    let mut fields: Vec<(&str, &str)> = ext_fields.into_iter().filter(is_signed).collect();
    fields.sort_unstable_by(|a, b| java_order(a.0, b.0));
    fields
}

/// The bytes a request's signature covers (see the module documentation).
pub fn signed_content<'a>(
    ext_fields: impl IntoIterator<Item = (&'a str, &'a str)>,
    body: &[u8],
) -> Vec<u8> {
    let fields = signed_fields(ext_fields);
    let mut content =
        Vec::with_capacity(fields.iter().map(|(_, v)| v.len()).sum::<usize>() + body.len());
    for (_, value) in fields {
        content.extend_from_slice(value.as_bytes());
    }
    content.extend_from_slice(body);
    content
}

fn mac(secret_key: &str, content: &[u8]) -> HmacSha1 {
    // HMAC takes a key of any length: `new_from_slice` cannot fail for it.
    let mut mac = HmacSha1::new_from_slice(secret_key.as_bytes())
        .unwrap_or_else(|_| unreachable!("HMAC accepts keys of every length"));
    mac.update(content);
    mac
}

/// `Base64(HMAC-SHA1(secret_key, content))`, as Apache's `AclSigner.calSignature`.
pub fn signature(secret_key: &str, content: &[u8]) -> String {
    STANDARD.encode(mac(secret_key, content).finalize().into_bytes())
}

/// Whether `signature` is the signature of `content` with `secret_key`, compared in constant
/// time (a signature that is not valid Base64 of 20 bytes is simply wrong).
pub fn verify(secret_key: &str, content: &[u8], signature: &str) -> bool {
    let Ok(given) = STANDARD.decode(signature.trim()) else {
        return false;
    };
    mac(secret_key, content).verify_slice(&given).is_ok()
}

/// An account's secret made ready to check signatures: the HMAC key schedule is computed once,
/// not per request. `Debug` does not show it.
#[derive(Clone)]
pub struct SigningKey {
    prepared: HmacSha1,
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SigningKey(<hidden>)")
    }
}

impl SigningKey {
    pub fn new(secret_key: &str) -> SigningKey {
        SigningKey {
            prepared: mac(secret_key, b""),
        }
    }

    /// The HMAC of a request's ext fields and body, fed in signing order without building the
    /// content (no copy of the body).
    fn request_mac<'a, I>(&self, ext_fields: I, body: &[u8]) -> HmacSha1
    where
        I: IntoIterator<Item = (&'a str, &'a str)>,
        I::IntoIter: Clone,
    {
        let mut mac = self.prepared.clone();
        // Ext fields arrive sorted by bytes, Java's order but for supplementary characters: a
        // check that they are in order spares collecting and sorting them on every request.
        let fields = ext_fields.into_iter().filter(is_signed);
        if fields
            .clone()
            .is_sorted_by(|a, b| java_order(a.0, b.0).is_le())
        {
            fields.for_each(|(_, value)| mac.update(value.as_bytes()));
        } else {
            signed_fields(fields)
                .iter()
                .for_each(|(_, value)| mac.update(value.as_bytes()));
        }
        mac.update(body);
        mac
    }

    /// [`verify`] of a request's ext fields and body.
    pub fn verify_request<'a, I>(&self, ext_fields: I, body: &[u8], signature: &str) -> bool
    where
        I: IntoIterator<Item = (&'a str, &'a str)>,
        I::IntoIter: Clone,
    {
        // A SHA-1 HMAC is 20 bytes: 28 characters of Base64.
        let mut given = [0u8; 32];
        let Ok(len) = STANDARD.decode_slice(signature.trim(), &mut given) else {
            return false;
        };
        self.request_mac(ext_fields, body)
            .verify_slice(&given[..len])
            .is_ok()
    }

    /// [`sign`] with this key.
    pub fn sign_request(&self, request: &mut RemotingCommand, access_key: &str) {
        request.ext_fields.insert(ACCESS_KEY, access_key);
        let mac = self.request_mac(request.ext_fields.iter(), &request.body);
        let signed = STANDARD.encode(mac.finalize().into_bytes());
        request.ext_fields.insert(SIGNATURE, signed);
    }
}

/// [`SigningKey::verify_request`] with a secret given as text.
pub fn verify_request<'a, I>(secret_key: &str, ext_fields: I, body: &[u8], signature: &str) -> bool
where
    I: IntoIterator<Item = (&'a str, &'a str)>,
    I::IntoIter: Clone,
{
    SigningKey::new(secret_key).verify_request(ext_fields, body, signature)
}

/// Signs `request` as Apache's `AclClientRPCHook` does: adds `AccessKey`, then `Signature` over
/// every ext field and the body. Call it once the header is in the ext fields.
pub fn sign(request: &mut RemotingCommand, access_key: &str, secret_key: &str) {
    SigningKey::new(secret_key).sign_request(request, access_key);
}

#[cfg(test)]
mod tests {
    use super::*;

    // Expected signatures computed outside this code, with Python's hmac, hashlib and base64
    // over the content Apache's rule gives.
    #[test]
    fn a_send_signature_covers_the_sorted_field_values_then_the_body() {
        let fields = [
            ("topic", "TopicTest"),
            ("b", "TopicTest"),
            ("AccessKey", "RocketMQ"),
            ("a", "pg"),
        ];
        let content = signed_content(fields, b"Hello");
        assert_eq!(content, b"RocketMQpgTopicTestTopicTestHello");
        assert_eq!(
            signature("12345678", &content),
            "mAJ6YRLhUSUy4b1QMoBL/hBMrmk="
        );
    }

    #[test]
    fn the_signature_itself_and_the_unique_key_query_flag_are_not_signed() {
        let fields = [
            ("AccessKey", "rocketmq2"),
            ("consumerGroup", "cg"),
            ("topic", "T"),
            ("queueId", "0"),
            ("Signature", "x"),
            ("_UNIQUE_KEY_QUERY", "true"),
        ];
        let content = signed_content(fields, b"");
        assert_eq!(content, b"rocketmq2cg0T");
        assert_eq!(
            signature("rocketmq2", &content),
            "M+1PiTiMaM12uxYnnjkQZD9lM3s="
        );
        assert_eq!(signature("12345678", b""), "beQgVA0KNM4WtCe68fj2DEn3WWU=");
    }

    #[test]
    fn verification_accepts_the_right_signature_only() {
        let content = b"RocketMQpgTopicTestTopicTestHello";
        assert!(verify("12345678", content, "mAJ6YRLhUSUy4b1QMoBL/hBMrmk="));
        assert!(!verify("12345679", content, "mAJ6YRLhUSUy4b1QMoBL/hBMrmk="));
        assert!(!verify(
            "12345678",
            b"RocketMQpgTopicTestTopicTestHellp",
            "mAJ6YRLhUSUy4b1QMoBL/hBMrmk="
        ));
        assert!(!verify("12345678", content, "not base64!"));
        assert!(!verify("12345678", content, ""));
    }

    #[test]
    fn keys_sort_in_javas_order_ascii_or_not() {
        use std::cmp::Ordering::*;
        assert_eq!(java_order("AccessKey", "a"), Less);
        assert_eq!(java_order("b", "a"), Greater);
        // Beyond the BMP Java compares surrogates: U+FF21 (0xFF21) sorts after U+1F600
        // (0xD83D 0xDE00), though before it by code point; the same for U+E000 and U+10000.
        assert_eq!(java_order("\u{ff21}", "\u{1f600}"), Greater);
        assert_eq!("\u{ff21}".cmp("\u{1f600}"), Less);
        assert_eq!(java_order("\u{e000}", "\u{10000}"), Greater);
        assert_eq!(java_order("ab", "abc"), Less);
        assert_eq!(java_order("x\u{1f600}", "x\u{ff21}"), Less);
    }

    /// Strings of characters around the point where byte and UTF-16 orders part.
    const WHERE_ORDERS_DIFFER: &str =
        "[a\u{7f}\u{80}\u{d7ff}\u{e000}\u{ff21}\u{ffff}\u{10000}\u{1f600}]{0,4}";

    proptest::proptest! {
        #[test]
        fn any_text_sorts_in_utf16_order(a in "\\PC{0,6}", b in "\\PC{0,6}") {
            proptest::prop_assert_eq!(java_order(&a, &b), a.encode_utf16().cmp(b.encode_utf16()));
        }

        #[test]
        fn the_order_read_off_utf8_is_javas_utf16_order(a in WHERE_ORDERS_DIFFER, b in WHERE_ORDERS_DIFFER) {
            proptest::prop_assert_eq!(java_order(&a, &b), a.encode_utf16().cmp(b.encode_utf16()));
        }
    }

    #[test]
    fn fields_sorted_by_bytes_but_not_in_javas_order_are_signed_in_javas_order() {
        // By bytes U+FF21 comes before U+1F600; Java signs the U+1F600 field's value first.
        let fields = [
            ("AccessKey", "ak"),
            ("\u{ff21}", "second"),
            ("\u{1f600}", "first"),
        ];
        let content = signed_content(fields, b"");
        assert_eq!(content, b"akfirstsecond");
        let signed = signature("12345678", &content);
        assert!(verify_request("12345678", fields, b"", &signed));
        let unsorted = signature("12345678", b"aksecondfirst");
        assert!(!verify_request("12345678", fields, b"", &unsorted));
    }

    #[test]
    fn a_prepared_key_verifies_as_the_plain_secret_does() {
        let key = SigningKey::new("12345678");
        let fields = [
            ("AccessKey", "RocketMQ"),
            ("a", "pg"),
            ("b", "TopicTest"),
            ("topic", "TopicTest"),
        ];
        assert!(key.verify_request(fields, b"Hello", "mAJ6YRLhUSUy4b1QMoBL/hBMrmk="));
        assert!(
            key.verify_request(fields, b"Hello", "mAJ6YRLhUSUy4b1QMoBL/hBMrmk="),
            "reusable"
        );
        assert!(!key.verify_request(fields, b"Hellp", "mAJ6YRLhUSUy4b1QMoBL/hBMrmk="));
        assert!(!key.verify_request(
            fields,
            b"Hello",
            "bm90IGEgc2lnbmF0dXJlIGF0IGFsbCwgZmFyIHRvbyBsb25n"
        ));
        assert!(!format!("{key:?}").contains("12345678"));
    }

    #[test]
    fn credentials_never_print_their_secret() {
        let keys = Credentials {
            access_key: "ak".into(),
            secret_key: "very-secret".into(),
        };
        let shown = format!("{keys:?}");
        assert!(
            shown.contains("ak") && !shown.contains("very-secret"),
            "{shown}"
        );
    }

    #[test]
    fn a_request_signed_here_verifies_with_the_brokers_rule() {
        let mut request = RemotingCommand::request(105_i32).with_body("body");
        request.ext_fields.insert("topic", "T");
        sign(&mut request, "ak", "secret-key");
        assert_eq!(request.ext_fields.get(ACCESS_KEY), Some("ak"));
        let signed = request.ext_fields.get(SIGNATURE).unwrap().to_owned();
        let content = signed_content(request.ext_fields.iter(), &request.body);
        assert_eq!(content, b"akTbody");
        assert!(verify("secret-key", &content, &signed));
        assert!(verify_request(
            "secret-key",
            request.ext_fields.iter(),
            &request.body,
            &signed
        ));
        assert!(!verify_request(
            "secret-key",
            request.ext_fields.iter(),
            b"other",
            &signed
        ));
    }
}
