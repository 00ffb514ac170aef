//! Claimed completions (`Driver::submit_claimed`, `claim`, `claim_with`, `unclaim`, `woken`):
//! what an executor relies on to keep no table of its own. A claimed completion never comes
//! out of `poll`; its token is reported once it came; exactly one claim returns it; giving up
//! the claim sends it back through `poll`; a cancelled claimed read returns its buffer.

use std::time::{Duration, Instant};

use proactor_driver::{is_cancelled, Buffer, Completion, Op, OpId};

use crate::harness::*;

/// Polls until `id`'s claim (for `token`) returns its completion; checks that nothing came out
/// of `poll` meanwhile.
fn claim_within(harness: &mut Harness, id: OpId, token: u64) -> Completion {
    let deadline = Instant::now() + LIMIT;
    loop {
        // Taken early (finished inside `submit`, on a readiness backend) or after its token
        // came: either way, once.
        if let Some(completion) = harness.driver.claim(id, token) {
            assert!(harness.driver.claim(id, token).is_none(), "claimed twice");
            return completion;
        }
        let now = Instant::now();
        assert!(
            now < deadline,
            "{:?}: no completion for {id:?}",
            harness.flavor
        );
        let mut out = Vec::new();
        harness
            .driver
            .poll(&mut out, Some(deadline - now))
            .expect("poll");
        assert!(
            out.iter().all(|completion| completion.id != id),
            "{:?}: a claimed completion came out of poll",
            harness.flavor
        );
        harness.driver.woken().retain(|&other| other != token);
    }
}

pub fn claimed_completions_stay_in_their_slots(mut harness: Harness) {
    let ids: Vec<(OpId, u64)> = (0..100u64)
        .map(|token| (harness.driver.submit_claimed(Op::Nop, token), token))
        .collect();
    // An unclaimed one comes out of poll as always, and nothing claimed with it.
    let unclaimed = harness.submit(Op::Nop);
    let completion = harness.wait(unclaimed);
    assert_eq!(completion.result.unwrap(), 0);
    assert_eq!(
        harness.stashed(),
        0,
        "a claimed completion came out of poll"
    );
    for &(id, token) in &ids {
        let completion = claim_within(&mut harness, id, token);
        assert_eq!(completion.id, id);
        assert_eq!(completion.result.unwrap(), 0);
    }
    assert_eq!(harness.driver.in_flight(), 0);
}

pub fn a_token_is_reported_when_the_completion_comes(mut harness: Harness) {
    let id = harness.driver.submit_claimed(
        Op::Timeout {
            duration: Duration::from_millis(20),
        },
        7,
    );
    assert!(harness.driver.claim(id, 42).is_none(), "not come yet");
    let deadline = Instant::now() + LIMIT;
    while !harness.driver.woken().contains(&42) {
        assert!(
            Instant::now() < deadline,
            "{:?}: token never reported",
            harness.flavor
        );
        let mut out = Vec::new();
        harness
            .driver
            .poll(&mut out, Some(Duration::from_millis(100)))
            .expect("poll");
        assert!(out.is_empty(), "a claimed completion came out of poll");
    }
    assert!(
        !harness.driver.woken().contains(&7),
        "the claim's later token replaced the first"
    );
    harness.driver.woken().clear();
    assert_eq!(harness.driver.claim(id, 42).unwrap().result.unwrap(), 0);
    assert_eq!(
        harness.driver.cancel(id).unwrap_err().kind(),
        std::io::ErrorKind::NotFound,
        "a taken completion's id is stale"
    );
}

pub fn unclaiming_sends_the_completion_through_poll(mut harness: Harness) {
    let (_left, right) = socket_pair();
    let id = harness.driver.submit_claimed(
        Op::Recv {
            fd: raw(&right),
            buf: room(16),
            flags: 0,
        },
        1,
    );
    assert!(harness.driver.claim(id, 1).is_none());
    assert!(harness.driver.unclaim(id).is_none(), "not come yet");
    harness.driver.cancel(id).unwrap();
    let completion = harness.wait(id);
    assert!(is_cancelled(completion.result.as_ref().unwrap_err()));
    assert!(
        harness.driver.woken().is_empty(),
        "no token for an unclaimed operation"
    );
    assert!(harness.driver.claim(id, 1).is_none());
}

pub fn a_cancelled_claimed_read_returns_its_buffer(mut harness: Harness) {
    let (_left, right) = socket_pair();
    let mut buffer = Vec::with_capacity(32);
    buffer.extend_from_slice(b"kept");
    let id = harness.driver.submit_claimed(
        Op::Recv {
            fd: raw(&right),
            buf: Buffer::from(buffer),
            flags: 0,
        },
        9,
    );
    harness.poll_now();
    assert!(
        harness.driver.claim(id, 9).is_none(),
        "nothing to receive yet"
    );
    harness.driver.cancel(id).unwrap();
    let deadline = Instant::now() + LIMIT;
    let (result, buffer) = loop {
        let taken = harness.driver.claim_with(id, 9, |result, op| {
            (result, op.take_buffer().expect("a receive has a buffer"))
        });
        if let Some(taken) = taken {
            break taken;
        }
        assert!(
            Instant::now() < deadline,
            "{:?}: cancel never completed",
            harness.flavor
        );
        harness.poll_now();
        std::thread::sleep(Duration::from_millis(1));
    };
    assert!(is_cancelled(&result.unwrap_err()));
    let buffer = buffer.into_vec().unwrap();
    assert_eq!(buffer, b"kept");
    assert_eq!(buffer.capacity(), 32, "the very same buffer comes back");
}

pub fn a_claimed_send_and_receive_round_trip(mut harness: Harness) {
    let (left, right) = socket_pair();
    let receive = harness.driver.submit_claimed(
        Op::Recv {
            fd: raw(&right),
            buf: room(64),
            flags: 0,
        },
        2,
    );
    let send = harness.driver.submit_claimed(
        Op::Send {
            fd: raw(&left),
            buf: Buffer::from(&b"claimed bytes"[..]),
            flags: 0,
        },
        1,
    );
    let sent = claim_within(&mut harness, send, 1);
    assert_eq!(sent.result.unwrap(), 13);
    let deadline = Instant::now() + LIMIT;
    let (count, bytes) = loop {
        let taken = harness.driver.claim_with(receive, 2, |result, op| {
            (result, op.take_buffer().expect("a receive has a buffer"))
        });
        if let Some((result, buffer)) = taken {
            break (result.unwrap(), buffer);
        }
        assert!(
            Instant::now() < deadline,
            "{:?}: receive never completed",
            harness.flavor
        );
        harness
            .driver
            .poll(&mut Vec::new(), Some(Duration::from_millis(100)))
            .expect("poll");
    };
    assert_eq!(&bytes.as_slice()[..count], b"claimed bytes");
    assert_eq!(harness.stashed(), 0);
}
