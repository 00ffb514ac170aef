//! Name resolution, on every backend this machine has (`epoll::localhost_resolves`). No
//! test needs the network: only `localhost` (from the hosts file) and numeric addresses.

#![cfg(any(target_os = "linux", windows))]

mod common;

use std::future::Future;
use std::io::{self, ErrorKind};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;

use common::per_backend;
use proactor::dns::{
    lookup_addr, lookup_host, lookup_host_with, Family, LookupOptions, SocketType,
};
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
    family_v4_gives_only_ipv4,
    family_v6_gives_only_ipv6,
    numeric_host_refuses_a_name_and_takes_a_literal,
    passive_without_a_host_gives_the_wildcards,
    socket_types_and_addrconfig_give_each_address_once,
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

fn with(family: Family) -> LookupOptions {
    let mut options = LookupOptions::new();
    options.family(family);
    options
}

fn family_v4_gives_only_ipv4(runtime: Runtime) {
    run(runtime, async {
        let addresses: Vec<SocketAddr> = lookup_host_with(Some("localhost"), 80, &with(Family::V4))
            .await?
            .collect();
        assert!(
            !addresses.is_empty(),
            "every hosts file names 127.0.0.1 localhost"
        );
        assert!(
            addresses.iter().all(|address| address.is_ipv4()
                && address.ip().is_loopback()
                && address.port() == 80),
            "{addresses:?}"
        );
        // A literal of the other family is refused, not converted.
        assert!(lookup_host_with(Some("::1"), 80, &with(Family::V4))
            .await
            .is_err());
        Ok(())
    });
}

/// Whether `localhost` has an IPv6 address depends on the hosts file (many containers list
/// only 127.0.0.1): without one the lookup is `NotFound`, and only the literal is checked.
fn family_v6_gives_only_ipv6(runtime: Runtime) {
    run(runtime, async {
        match lookup_host_with(Some("localhost"), 443, &with(Family::V6)).await {
            Ok(addresses) => {
                let addresses: Vec<SocketAddr> = addresses.collect();
                assert!(
                    addresses
                        .iter()
                        .all(|address| address.is_ipv6() && address.port() == 443),
                    "{addresses:?}"
                );
            }
            Err(error) => {
                assert_eq!(error.kind(), ErrorKind::NotFound, "{error}");
                eprintln!("no IPv6 address for localhost here: {error}");
            }
        }
        let literal: Vec<SocketAddr> = lookup_host_with(Some("::1"), 443, &with(Family::V6))
            .await?
            .collect();
        assert_eq!(literal, [SocketAddr::from((Ipv6Addr::LOCALHOST, 443))]);
        assert!(lookup_host_with(Some("127.0.0.1"), 443, &with(Family::V6))
            .await
            .is_err());
        Ok(())
    });
}

fn numeric_host_refuses_a_name_and_takes_a_literal(runtime: Runtime) {
    run(runtime, async {
        let mut numeric = LookupOptions::new();
        numeric.numeric_host(true);
        let error = lookup_host_with(Some("localhost"), 80, &numeric)
            .await
            .unwrap_err();
        assert_eq!(error.kind(), ErrorKind::InvalidInput, "{error}");
        assert!(error.to_string().contains("localhost"), "{error}");
        assert!(error.to_string().contains("numeric_host"), "{error}");

        let v4: Vec<SocketAddr> = lookup_host_with(Some("192.0.2.7"), 80, &numeric)
            .await?
            .collect();
        assert_eq!(v4, [SocketAddr::from(([192, 0, 2, 7], 80))]);
        let v6: Vec<SocketAddr> = lookup_host_with(Some("2001:db8::7"), 80, &numeric)
            .await?
            .collect();
        assert_eq!(v6, ["[2001:db8::7]:80".parse().unwrap()]);
        Ok(())
    });
}

fn passive_without_a_host_gives_the_wildcards(runtime: Runtime) {
    run(runtime, async {
        let mut passive = LookupOptions::new();
        passive.passive(true).socket_type(SocketType::Stream);
        let addresses: Vec<SocketAddr> = lookup_host_with(None, 8080, &passive).await?.collect();
        assert!(!addresses.is_empty());
        assert!(
            addresses
                .iter()
                .all(|address| address.ip().is_unspecified() && address.port() == 8080),
            "{addresses:?}"
        );
        passive.family(Family::V4);
        let v4: Vec<SocketAddr> = lookup_host_with(None, 8080, &passive).await?.collect();
        assert_eq!(v4, [SocketAddr::from((Ipv4Addr::UNSPECIFIED, 8080))]);
        // Without AI_PASSIVE, no host means loopback.
        let mut active = with(Family::V4);
        active.socket_type(SocketType::Stream);
        let loopback: Vec<SocketAddr> = lookup_host_with(None, 80, &active).await?.collect();
        assert_eq!(loopback, [SocketAddr::from((Ipv4Addr::LOCALHOST, 80))]);
        Ok(())
    });
}

fn socket_types_and_addrconfig_give_each_address_once(runtime: Runtime) {
    run(runtime, async {
        for socket_type in [SocketType::Any, SocketType::Stream, SocketType::Datagram] {
            let mut options = with(Family::V4);
            options.socket_type(socket_type).numeric_host(true);
            let addresses: Vec<SocketAddr> = lookup_host_with(Some("127.0.0.1"), 53, &options)
                .await?
                .collect();
            // getaddrinfo answers once per socket type; the lookup gives each address once.
            assert_eq!(
                addresses,
                [SocketAddr::from((Ipv4Addr::LOCALHOST, 53))],
                "{socket_type:?}"
            );
        }
        // AI_ADDRCONFIG drops families the host has no address of; every result is still
        // one of localhost's.
        let mut options = LookupOptions::new();
        options.addrconfig(true);
        if let Ok(addresses) = lookup_host_with(Some("localhost"), 80, &options).await {
            let addresses: Vec<SocketAddr> = addresses.collect();
            assert!(
                addresses.iter().all(|address| address.ip().is_loopback()),
                "{addresses:?}"
            );
        }
        Ok(())
    });
}
