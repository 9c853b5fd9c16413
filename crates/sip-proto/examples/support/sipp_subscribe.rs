//! The SUBSCRIBE the shared harness's `subscribe.xml` (sipp) sends, as call
//! `i` to presentity `p{presentity}`: shared by the memory examples of
//! sip-proto (`txn_memory`) and simple-presence (`sub_memory`, through
//! `#[path]`).

use bytes::Bytes;
use sip_msg::SipMessage;

/// Watcher `w{i}` subscribes to `p{presentity}@example.test`.
pub(crate) fn subscribe(i: usize, presentity: usize) -> SipMessage {
    let text = format!(
        "SUBSCRIBE sip:p{presentity}@example.test SIP/2.0\r\n\
Via: SIP/2.0/UDP 127.0.0.1:5061;branch=z9hG4bK-{i}-1-0\r\n\
Max-Forwards: 70\r\n\
From: <sip:w{i}@example.test>;tag=4242s{i}\r\n\
To: <sip:p{presentity}@example.test>\r\n\
Call-ID: {i}-4242@127.0.0.1\r\n\
CSeq: 1 SUBSCRIBE\r\n\
Contact: <sip:w{i}@127.0.0.1:5061;transport=UDP>\r\n\
Event: presence\r\n\
Accept: application/pidf+xml\r\n\
Expires: 3600\r\n\
Content-Length: 0\r\n\r\n"
    );
    SipMessage::parse(Bytes::from(text)).expect("the harness's SUBSCRIBE parses")
}
