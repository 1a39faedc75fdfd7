//! Generates the client from the committed `openapi.json` (the document `ticketing openapi`
//! prints; a test keeps them equal) with progenitor, at every build where the document changed.

use std::path::Path;

fn main() {
    let document = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../openapi.json");
    println!("cargo:rerun-if-changed={}", document.display());
    let text = std::fs::read_to_string(&document)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", document.display()));
    let spec: openapiv3::OpenAPI = serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("{} is not an OpenAPI 3.0 document: {e}", document.display()));
    let mut generator = progenitor::Generator::default();
    let tokens = generator
        .generate_tokens(&spec)
        .unwrap_or_else(|e| panic!("progenitor cannot generate a client: {e}"));
    let file = syn::parse2(tokens).expect("progenitor's output is Rust");
    let out = Path::new(&std::env::var("OUT_DIR").expect("cargo sets OUT_DIR")).join("codegen.rs");
    std::fs::write(out, prettyplease::unparse(&file)).expect("the generated client is written");
}
