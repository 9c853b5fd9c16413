//! Digest auth on arbitrary text: as credentials, parsing and verification
//! (with a fixed HA1), the nonce check and the nonce-count window must never
//! panic; as a challenge, whatever `authorize` answers must parse back as
//! credentials that `verify` accepts with the right HA1.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sip_auth::{
    Algorithm, ClientCredentials, NonceCounts, NonceKey, authentication_info, authorize,
    check_realm, ha1, verify,
};
use sip_msg::auth::{Challenge, Credentials};

const USER: &str = "alice";
const PASSWORD: &str = "secret";
const REALM: &str = "example.test";
const URI: &str = "sip:example.test";

fn stored(alg: Algorithm, realm: &str) -> String {
    ha1(alg, USER, realm, PASSWORD)
}

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else {
        return;
    };

    if let Ok(c) = Credentials::parse(s) {
        let _ = check_realm(&c, REALM);
        let alg = c
            .algorithm()
            .and_then(Algorithm::from_msg)
            .unwrap_or(Algorithm::Md5);
        let ha1_hex = stored(alg, REALM);
        let uri = c.uri().map(|u| u.into_owned()).unwrap_or_default();
        for request_uri in [URI, uri.as_str()] {
            for key in [ha1_hex.as_str(), "", "00"] {
                if let Ok(v) = verify(&c, "REGISTER", request_uri, data, key) {
                    let _ = authentication_info(&v, key, &v.nonce, &v.uri, data, Some("n"));
                }
            }
        }
        if let Some(nonce) = c.nonce() {
            let k = NonceKey::new([3; 32]);
            let _ = k.check(REALM, &nonce, 1_750_000_000, 300);
            let mut counts = NonceCounts::new(2);
            let nc = c.nc().unwrap_or(1);
            let first = counts.accept(&nonce, nc);
            assert!(!(first && counts.accept(&nonce, nc)), "replay accepted");
        }
    }

    if let Ok(ch) = Challenge::parse(s) {
        let creds = ClientCredentials {
            username: USER,
            password: PASSWORD,
        };
        let Ok(value) = authorize(&ch, &creds, "INVITE", URI, data, "cn\"x", 1) else {
            return;
        };
        let c = match Credentials::parse(&value) {
            Ok(c) => c,
            Err(e) => panic!("authorize wrote unparsable credentials {value:?}: {e}"),
        };
        let alg = c
            .algorithm()
            .and_then(Algorithm::from_msg)
            .unwrap_or(Algorithm::Md5);
        let realm = c.realm().map(|r| r.into_owned()).unwrap_or_default();
        if let Err(e) = verify(&c, "INVITE", URI, data, &stored(alg, &realm)) {
            panic!("own credentials refused: {e}\n{s:?}\n{value:?}");
        }
    }
});
