//! `cargo xtask doc-examples [-p CRATE]...`: fails when a public item has no example.
//!
//! rustdoc's own lint for this (`missing_doc_code_examples`) is unstable and skips items
//! that are public only through a `pub use`, which is how most of our API is exported. So
//! this walks what rustdoc's JSON output says a user can reach from the crate root —
//! modules, re-exports, types, traits and their methods, the inherent methods of public
//! types — and lists every item whose documentation has no code block. A `See [x]` pointer
//! does not count: an example belongs where the reader is.
//!
//! The JSON output is unstable too, hence `RUSTC_BOOTSTRAP=1`, in a target directory of its
//! own so that the normal builds keep their fingerprints.

use std::collections::HashSet;
use std::ffi::OsString;
use std::path::Path;
use std::process::{Command, ExitCode};

use crate::json::{self, Value};
use crate::{host_cargo, usage_error, wants_help, workspace_root, Result};

const HELP: &str = "\
usage: cargo xtask doc-examples [-p CRATE]...

Builds rustdoc's JSON for each crate (default: proactor, proactor-driver, proactor-macros;
all features on) and lists every public item whose documentation has no code example.
Exit status 1 when any is missing.
";

const DEFAULT_CRATES: [&str; 3] = ["proactor", "proactor-driver", "proactor-macros"];

pub fn main(args: &[OsString]) -> Result<ExitCode> {
    if wants_help(args) {
        print!("{HELP}");
        return Ok(ExitCode::SUCCESS);
    }
    let mut crates = Vec::new();
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        match (
            arg.to_str(),
            args.clone().next().and_then(|next| next.to_str()),
        ) {
            (Some("-p" | "--package"), Some(name)) => {
                crates.push(name.to_owned());
                args.next();
            }
            _ => return Ok(usage_error("doc-examples", "expected -p CRATE")),
        }
    }
    if crates.is_empty() {
        crates = DEFAULT_CRATES.map(String::from).to_vec();
    }

    let root = workspace_root()?;
    let target_dir = root.join("target").join("doc-json");
    let mut missing_total = 0;
    for name in &crates {
        let document = build_json(name, &target_dir)?;
        let (checked, missing) = missing_examples(&document)?;
        for item in &missing {
            println!("{name}: no example: {item}");
        }
        println!(
            "{name}: {checked} public items, {} without an example",
            missing.len()
        );
        missing_total += missing.len();
    }
    Ok(if missing_total == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

fn build_json(name: &str, target_dir: &Path) -> Result<Value> {
    let cargo = host_cargo();
    let status = Command::new(&cargo)
        .args(["rustdoc", "--quiet", "--all-features", "-p", name])
        .args(["--", "-Z", "unstable-options", "--output-format", "json"])
        .env("RUSTC_BOOTSTRAP", "1")
        .env("CARGO_TARGET_DIR", target_dir)
        .status()
        .map_err(|e| format!("cannot run {}: {e}", cargo.to_string_lossy()))?;
    if !status.success() {
        return Err(format!("rustdoc's JSON for {name} failed ({status})"));
    }
    let path = target_dir
        .join("doc")
        .join(format!("{}.json", name.replace('-', "_")));
    let text = std::fs::read_to_string(&path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    json::parse(&text).map_err(|e| format!("{}: {e}", path.display()))
}

/// How many reachable public items there are, and the paths of those without a code
/// block in their docs.
fn missing_examples(document: &Value) -> Result<(usize, Vec<String>)> {
    let index = document
        .get("index")
        .and_then(Value::as_object)
        .ok_or("rustdoc JSON without an index")?;
    let root = document
        .get("root")
        .and_then(Value::as_key)
        .ok_or("rustdoc JSON without a root")?;
    let mut walk = Walk {
        index,
        seen: HashSet::new(),
        checked: 0,
        missing: Vec::new(),
    };
    walk.item(root, "");
    walk.missing.sort();
    walk.missing.dedup();
    Ok((walk.checked, walk.missing))
}

struct Walk<'a> {
    index: &'a std::collections::HashMap<String, Value>,
    seen: HashSet<&'a str>,
    checked: usize,
    missing: Vec<String>,
}

impl<'a> Walk<'a> {
    fn item(&mut self, id: &'a str, parent: &str) {
        if !self.seen.insert(id) {
            return;
        }
        // Not in the index: an item of another crate, checked in its own crate.
        let Some(item) = self.index.get(id) else {
            return;
        };
        if item.get("crate_id").and_then(Value::as_key) != Some("0") {
            return;
        }
        let Some((kind, inner)) = item
            .get("inner")
            .and_then(Value::as_object)
            .and_then(|inner| inner.iter().next())
        else {
            return;
        };
        let name = item.get("name").and_then(Value::as_str);
        let path = match name {
            Some(name) if !parent.is_empty() => format!("{parent}::{name}"),
            Some(name) => name.to_owned(),
            None => parent.to_owned(),
        };
        let public = item.get("visibility").and_then(Value::as_str) == Some("public");
        match kind.as_str() {
            "module" => {
                for child in ids(inner.get("items")) {
                    self.item(child, &path);
                }
            }
            "use" if public => {
                if let Some(target) = inner.get("id").and_then(Value::as_key) {
                    self.item(target, parent);
                }
            }
            "struct" | "enum" | "union" => {
                self.check(item, public, &path);
                for implementation in ids(inner.get("impls")) {
                    self.inherent_methods(implementation, &path);
                }
            }
            "trait" => {
                self.check(item, public, &path);
                for member in ids(inner.get("items")) {
                    if let Some(member) = self.index.get(member) {
                        if kind_of(member) == Some("function") {
                            self.check(member, true, &format!("{path}::{}", name_of(member)));
                        }
                    }
                }
            }
            "function" | "macro" | "proc_macro" | "constant" | "static" => {
                self.check(item, public, &path);
            }
            // Type aliases, fields, variants and associated items are described by their
            // parent's example.
            _ => {}
        }
    }

    /// The public methods of an inherent `impl` (trait impls are the trait's to document).
    fn inherent_methods(&mut self, implementation: &str, path: &str) {
        let Some(block) = self
            .index
            .get(implementation)
            .and_then(|item| item.get("inner"))
            .and_then(|inner| inner.get("impl"))
        else {
            return;
        };
        if !block.get("trait").is_none_or(Value::is_null) {
            return;
        }
        for member in ids(block.get("items")) {
            let Some(member) = self.index.get(member) else {
                continue;
            };
            let public = member.get("visibility").and_then(Value::as_str) == Some("public");
            if kind_of(member) == Some("function") {
                self.check(member, public, &format!("{path}::{}", name_of(member)));
            }
        }
    }

    fn check(&mut self, item: &Value, public: bool, path: &str) {
        let documented = item
            .get("docs")
            .and_then(Value::as_str)
            .is_some_and(|docs| docs.contains("```"));
        if public {
            self.checked += 1;
        }
        // Items hidden from the docs are not in rustdoc's output at all.
        if public && !documented {
            let place = item
                .get("span")
                .and_then(|span| {
                    let file = span.get("filename")?.as_str()?;
                    let line = span.get("begin")?.as_array().first()?.as_key()?;
                    Some(format!(" ({file}:{line})"))
                })
                .unwrap_or_default();
            self.missing.push(format!("{path}{place}"));
        }
    }
}

fn ids(list: Option<&Value>) -> impl Iterator<Item = &str> {
    list.map(Value::as_array)
        .unwrap_or_default()
        .iter()
        .filter_map(Value::as_key)
}

fn kind_of(item: &Value) -> Option<&str> {
    item.get("inner")
        .and_then(Value::as_object)
        .and_then(|inner| inner.keys().next())
        .map(String::as_str)
}

fn name_of(item: &Value) -> &str {
    item.get("name").and_then(Value::as_str).unwrap_or("?")
}
