//! Defines `cfg(kqueue)` once for this crate (the list proactor-driver uses too), instead of
//! repeating the list of kqueue systems, and `cfg(compat)` when any poll-based adapter feature
//! (`futures-io`, `tokio`, `hyper`) is on.

fn main() {
    println!("cargo::rustc-check-cfg=cfg(compat)");
    if ["FUTURES_IO", "TOKIO", "HYPER"]
        .iter()
        .any(|feature| std::env::var_os(format!("CARGO_FEATURE_{feature}")).is_some())
    {
        println!("cargo::rustc-cfg=compat");
    }
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
