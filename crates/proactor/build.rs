//! Defines `cfg(kqueue)` once for this crate (the list proactor-driver uses too), instead of
//! repeating the list of kqueue systems.

fn main() {
    println!("cargo::rustc-check-cfg=cfg(kqueue)");
    let os = std::env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    if matches!(
        os.as_str(),
        "macos"
            | "ios"
            | "tvos"
            | "watchos"
            | "visionos"
            | "freebsd"
            | "netbsd"
            | "openbsd"
            | "dragonfly"
    ) {
        println!("cargo::rustc-cfg=kqueue");
    }
}
