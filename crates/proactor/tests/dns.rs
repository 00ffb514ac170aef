//! Name resolution, on every backend this machine has (`epoll::localhost_resolves`). No
//! test needs the network: only `localhost` (from the hosts file) and numeric addresses.

#![cfg(any(target_os = "linux", windows))]

mod common;

use std::future::Future;
use std::io::{self, ErrorKind};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;

use common::per_backend;
use proactor::dns::{lookup_addr, lookup_host};
use proactor::time::timeout;
use proactor::Runtime;

const LIMIT: Duration = Duration::from_secs(20);

fn run(runtime: Runtime, test: impl Future<Output = io::Result<()>>) {
    runtime
        .block_on(timeout(LIMIT, test))
        .expect("the test timed out")
        .expect("the test failed");
}

per_backend! {
    localhost_resolves,
    numeric_addresses_parse,
    malformed_input_is_an_error,
    reverse_lookup_of_loopback,
}

fn localhost_resolves(runtime: Runtime) {
    run(runtime, async {
        let addresses: Vec<SocketAddr> = lookup_host("localhost:80").await?.collect();
        assert!(!addresses.is_empty());
        assert!(addresses
            .iter()
            .all(|address| address.ip().is_loopback() && address.port() == 80));
        let owned: Vec<SocketAddr> = lookup_host(("localhost".to_string(), 8080))
            .await?
            .collect();
        assert!(owned.iter().all(|address| address.port() == 8080));
        let host = String::from("localhost:1");
        assert!(lookup_host(&host).await?.count() > 0);
        Ok(())
    });
}

fn numeric_addresses_parse(runtime: Runtime) {
    run(runtime, async {
        let v4 = SocketAddr::from((Ipv4Addr::LOCALHOST, 80));
        let v6 = SocketAddr::from((Ipv6Addr::LOCALHOST, 443));
        assert_eq!(lookup_host("127.0.0.1:80").await?.collect::<Vec<_>>(), [v4]);
        assert_eq!(lookup_host("[::1]:443").await?.collect::<Vec<_>>(), [v6]);
        assert_eq!(lookup_host(("::1", 443)).await?.collect::<Vec<_>>(), [v6]);
        assert_eq!(
            lookup_host((Ipv4Addr::LOCALHOST, 80))
                .await?
                .collect::<Vec<_>>(),
            [v4]
        );
        assert_eq!(
            lookup_host((IpAddr::V6(Ipv6Addr::LOCALHOST), 443))
                .await?
                .collect::<Vec<_>>(),
            [v6]
        );
        assert_eq!(lookup_host(v4).await?.collect::<Vec<_>>(), [v4]);
        assert_eq!(
            lookup_host(&[v4, v6][..]).await?.collect::<Vec<_>>(),
            [v4, v6]
        );
        Ok(())
    });
}

fn malformed_input_is_an_error(runtime: Runtime) {
    run(runtime, async {
        // No port.
        let error = lookup_host("localhost").await.unwrap_err();
        assert_eq!(error.kind(), ErrorKind::InvalidInput);
        // A port out of range.
        assert!(lookup_host("127.0.0.1:99999").await.is_err());
        Ok(())
    });
}

fn reverse_lookup_of_loopback(runtime: Runtime) {
    run(runtime, async {
        let name = lookup_addr(IpAddr::V4(Ipv4Addr::LOCALHOST)).await?;
        assert!(!name.is_empty());
        assert!(
            name.parse::<IpAddr>().is_err(),
            "a name, not a number: {name}"
        );
        Ok(())
    });
}
