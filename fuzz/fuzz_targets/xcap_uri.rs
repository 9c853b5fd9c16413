//! XCAP URIs, node selectors and element edits on arbitrary bytes: nothing
//! may panic, an edit that fails must leave the document unchanged, and a
//! PUT that succeeds must be selected by its own request URI afterwards.
//! The text-splicing editor (`XmlDocument`, which keeps the stored bytes
//! outside the edited node) must produce a document that parses to the same
//! tree as the tree editor's.
#![no_main]

use libfuzzer_sys::fuzz_target;
use simple_pidf::xml::parse_tree;
use simple_xcap::edit::{XmlDocument, delete, get, put_element};
use simple_xcap::selector::{Target, parse_selector};

const DOC: &str = "<root xmlns=\"urn:d\" xmlns:p=\"urn:p\">\n <el1 att=\"first\"/>\n <el1 att='second'/>\n\
                   <!-- c --> <el2 att=\"first\"><c>t</c><p:q p:a=\"1\"/></el2>\n</root>";

fuzz_target!(|data: &[u8]| {
    // path ? query \0 body
    let (head, body) = match data.iter().position(|&b| b == 0) {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (data, &[][..]),
    };
    let Ok(head) = std::str::from_utf8(head) else {
        return;
    };
    let (path, query) = match head.split_once('?') {
        Some((p, q)) => (p, Some(q)),
        None => (head, None),
    };
    let Ok(uri) = simple_xcap::uri::parse(path, query) else {
        return;
    };
    let _ = uri.document_path();
    let Some(node) = uri.node.as_deref() else {
        return;
    };
    let Ok((sel, target)) = parse_selector(node, &uri.namespaces, "urn:d") else {
        return;
    };
    let Ok(original) = parse_tree(DOC.as_bytes()) else {
        return;
    };
    let _ = get(&original, &sel, &target);

    let mut doc = original.clone();
    if target == Target::Element {
        match put_element(&mut doc, &sel, body) {
            Ok(_) => assert!(get(&doc, &sel, &target).is_ok(), "PUT not selected after"),
            Err(e) => {
                assert_eq!(doc, original, "failed PUT changed the document");
                let _ = (e.status(), e.body());
            }
        }
    }
    let mut doc = original.clone();
    if let Err(e) = delete(&mut doc, &sel, &target) {
        assert_eq!(doc, original, "failed DELETE changed the document");
        let _ = (e.status(), e.body());
    }

    // The splicing editor agrees with the tree editor.
    let Ok(text_doc) = XmlDocument::parse(DOC.as_bytes()) else {
        return;
    };
    let _ = text_doc.get(&sel, &target);
    if target == Target::Element {
        let mut tree = original.clone();
        let by_tree = put_element(&mut tree, &sel, body);
        match (text_doc.put_element(&sel, body), by_tree) {
            (Ok((new, _)), Ok(_)) => {
                let again = parse_tree(new.text().as_bytes()).expect("spliced text parses");
                assert!(
                    get(&again, &sel, &target).is_ok(),
                    "spliced PUT not selected after"
                );
            }
            (Err(_), Err(_)) => {}
            (a, b) => panic!(
                "editors disagree: {:?} vs {:?}",
                a.map(|_| ()),
                b.map(|_| ())
            ),
        }
    }
    let mut tree = original.clone();
    let by_tree = delete(&mut tree, &sel, &target);
    match (text_doc.delete(&sel, &target), by_tree) {
        (Ok(new), Ok(())) => {
            let again = parse_tree(new.text().as_bytes()).expect("spliced text parses");
            assert!(
                get(&again, &sel, &target).is_err(),
                "deleted node still selected"
            );
        }
        (Err(_), Err(_)) => {}
        (a, b) => panic!("editors disagree: {:?} vs {:?}", a.map(|_| ()), b),
    }
});
