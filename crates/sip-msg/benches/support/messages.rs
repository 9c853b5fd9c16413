//! The benchmark messages of issue 2, shared by the criterion bench and the
//! callgrind profiling example.

pub(crate) fn subscribe() -> String {
    let m = "SUBSCRIBE sip:bob@example.test SIP/2.0\r\n\
Via: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK776asdhds7b9;rport\r\n\
Max-Forwards: 70\r\n\
From: \"Alice Liddell\" <sip:alice@example.test>;tag=1928301774\r\n\
To: <sip:bob@example.test>\r\n\
Call-ID: a84b4c76e66710@pc33.example.test\r\n\
CSeq: 314159 SUBSCRIBE\r\n\
Contact: <sip:alice@127.0.0.1:5070;transport=udp>;+sip.instance=\"<urn:uuid:f81d4fae-7dec-11d0-a765-00a0c91e6bf6>\"\r\n\
Event: presence\r\n\
Accept: application/pidf+xml, application/rlmi+xml, multipart/related\r\n\
Supported: eventlist\r\n\
Expires: 3600\r\n\
User-Agent: Herald-bench/1.0\r\n\
Content-Length: 0\r\n\r\n";
    m.to_string()
}

pub(crate) fn publish() -> String {
    let mut pidf = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<presence xmlns=\"urn:ietf:params:xml:ns:pidf\" \
xmlns:dm=\"urn:ietf:params:xml:ns:pidf:data-model\" xmlns:rpid=\"urn:ietf:params:xml:ns:pidf:rpid\" \
entity=\"pres:alice@example.test\">\n",
    );
    while pidf.len() < 900 {
        let n = pidf.len();
        pidf.push_str(&format!(
            "<tuple id=\"t{n}\"><status><basic>open</basic></status><contact priority=\"0.8\">sip:alice@127.0.0.1</contact><note xml:lang=\"en\">at desk</note></tuple>\n"
        ));
    }
    pidf.push_str("<dm:person id=\"p1\"><rpid:activities><rpid:busy/></rpid:activities></dm:person>\n</presence>\n");
    format!(
        "PUBLISH sip:alice@example.test SIP/2.0\r\n\
Via: SIP/2.0/TCP 127.0.0.1:5070;branch=z9hG4bKnashds8;rport\r\n\
Max-Forwards: 70\r\n\
From: <sip:alice@example.test>;tag=1234wxyz\r\n\
To: <sip:alice@example.test>\r\n\
Call-ID: 81818181@127.0.0.1\r\n\
CSeq: 1 PUBLISH\r\n\
Contact: <sip:alice@127.0.0.1:5070;transport=tcp>\r\n\
Event: presence\r\n\
Expires: 3600\r\n\
Content-Type: application/pidf+xml\r\n\
Content-Length: {}\r\n\r\n{pidf}",
        pidf.len()
    )
}

pub(crate) fn invite() -> String {
    let mut m = String::from(
        "INVITE sip:bob@example.test;transport=tcp SIP/2.0\r\n\
Via: SIP/2.0/TCP 127.0.0.1:5070;branch=z9hG4bKnashds8;rport;received=127.0.0.1\r\n\
Via: SIP/2.0/UDP 127.0.0.2:5060;branch=z9hG4bK77ef4c2312983.1;received=127.0.0.2\r\n\
Via: SIP/2.0/UDP 127.0.0.3:5060;branch=z9hG4bK776asdhds\r\n\
Max-Forwards: 68\r\n\
Record-Route: <sip:127.0.0.1:5070;transport=tcp;lr>, <sip:127.0.0.2;lr>\r\n\
From: \"Alice Liddell\" <sip:alice@example.test>;tag=1928301774\r\n\
To: \"Bob\" <sip:bob@example.test>\r\n\
Call-ID: a84b4c76e66710@pc33.example.test\r\n\
CSeq: 314159 INVITE\r\n\
Contact: \"Alice\" <sip:alice@127.0.0.3:5060;transport=udp;ob>;+sip.instance=\"<urn:uuid:f81d4fae-7dec-11d0-a765-00a0c91e6bf6>\";reg-id=1;expires=3600\r\n\
Allow: INVITE, ACK, CANCEL, OPTIONS, BYE, REFER, NOTIFY, MESSAGE, SUBSCRIBE, INFO, UPDATE, PRACK\r\n\
Supported: replaces, 100rel, timer, norefersub, outbound, path, gruu\r\n\
Session-Expires: 1800;refresher=uac\r\n\
Min-SE: 90\r\n\
Accept: application/sdp, application/dtmf-relay, text/plain\r\n\
User-Agent: Herald-bench/1.0 (x86_64; Linux) libsip/2.0\r\n\
Event: presence\r\n\
P-Asserted-Identity: \"Alice Liddell\" <sip:alice@example.test>\r\n\
Proxy-Authorization: Digest username=\"alice\", realm=\"example.test\", nonce=\"ea9c8e88df84f1cec4341ae6cbe5a359\", uri=\"sip:bob@example.test\", response=\"dfe56131d1958046689d83306477ecc0\", algorithm=MD5, cnonce=\"0a4f113b\", qop=auth, nc=00000001\r\n",
    );
    let mut i = 0;
    while m.len() < 2300 {
        m.push_str(&format!("X-Padding-{i}: {}\r\n", "abcdefghij".repeat(6)));
        i += 1;
    }
    let mut sdp = String::from(
        "v=0\r\no=alice 2890844526 2890844526 IN IP4 127.0.0.3\r\ns=-\r\nc=IN IP4 127.0.0.3\r\nt=0 0\r\n",
    );
    while sdp.len() < 1150 {
        let n = sdp.len();
        sdp.push_str(&format!(
            "m=audio {} RTP/AVP 0 8 97 101\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:8 PCMA/8000\r\na=rtpmap:97 iLBC/8000\r\na=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-15\r\n",
            49170 + n
        ));
    }
    m.push_str(&format!(
        "Content-Type: application/sdp\r\nContent-Length: {}\r\n\r\n{sdp}",
        sdp.len()
    ));
    m
}
