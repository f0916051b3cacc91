//! Whole-run figures a2 and b next to the criterion benches: 10,000 sequential Get User calls
//! (SDK by name vs bare reqwest) and calls/s at concurrency 64 through one client. Variants take
//! turns in slices of each round, so background load hits them alike; medians of the rounds are
//! printed, as wall time and as the client thread's CPU time per call (robust to other
//! processes). Client and server threads are kept on a core each.
//! To attribute the gap: `bare_timeouts` is bare reqwest with the SDK's per-request timeouts,
//! `sdk_request` the SDK's transport alone (`Client::execute` of a request prepared once).
//! `bare_again` is a second, identical bare reqwest client: its ratio to `bare` (`*_aa_ratio`)
//! is what the harness reports for two equal variants, the noise and bias any ratio carries.
//!
//! `call_figures [--calls 10000] [--concurrent-calls 20000] [--rounds 7] [--no-pin] [--only VARIANT]`
//! (`--only sdk|bare|bare_timeouts` runs just that variant's concurrent calls, for `perf`;
//! `--only-sequential VARIANT` its sequential calls).

use std::future::Future;
use std::time::Duration;

use serde_json::Value;
use threecx_benches::server::{spawn_thread_on, Fixture};
use threecx_benches::{
    client_runtime, concurrent, pin_current_thread, sdk_client, sdk_execute, sdk_get_user,
    sdk_get_user_request, sequential, thread_cpu_time, Bare, CONCURRENCY,
};

const VARIANTS: [&str; 5] = ["sdk", "bare", "bare_timeouts", "sdk_request", "bare_again"];
/// Turns per round (see the measuring loop).
const SLICES: u64 = 10;

#[derive(Default)]
struct Samples {
    wall: Vec<Duration>,
    cpu: Vec<Duration>,
}

impl Samples {
    fn median(v: &[Duration]) -> Duration {
        let mut v = v.to_vec();
        v.sort();
        v[v.len() / 2]
    }
    fn wall(&self) -> Duration {
        Self::median(&self.wall)
    }
    fn cpu(&self) -> Duration {
        Self::median(&self.cpu)
    }
}

/// Runs `work` and adds its wall time (as it reports it) and the thread's CPU time to the
/// round's totals.
async fn record(totals: &mut (Duration, Duration), work: impl Future<Output = Duration>) {
    let cpu = thread_cpu_time();
    let wall = work.await;
    totals.0 += wall;
    totals.1 += thread_cpu_time() - cpu;
}

/// The command line.
struct Args {
    calls: u64,
    concurrent_calls: u64,
    rounds: usize,
    /// Just this variant's calls (concurrent, or sequential with `only_sequential`).
    only: Option<String>,
    only_sequential: bool,
    /// Client and server on a core each (the default), or wherever the scheduler puts them.
    pin: bool,
}

fn parse_args() -> Args {
    let mut a = Args {
        calls: 10_000,
        concurrent_calls: 20_000,
        rounds: 7,
        only: None,
        only_sequential: false,
        pin: true,
    };
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        if flag == "--no-pin" {
            a.pin = false;
            continue;
        }
        let value = args.next().unwrap_or_default();
        let bad = || -> ! {
            eprintln!(
                "usage: call_figures [--calls N] [--concurrent-calls N] [--rounds R] [--no-pin] \
                 [--only|--only-sequential sdk|bare|bare_timeouts|sdk_request|bare_again]"
            );
            std::process::exit(2)
        };
        match flag.as_str() {
            "--calls" => a.calls = value.parse().unwrap_or_else(|_| bad()),
            "--concurrent-calls" => a.concurrent_calls = value.parse().unwrap_or_else(|_| bad()),
            "--rounds" => a.rounds = value.parse().unwrap_or_else(|_| bad()),
            "--only" if VARIANTS.contains(&value.as_str()) => a.only = Some(value),
            "--only-sequential" if VARIANTS.contains(&value.as_str()) => {
                a.only = Some(value);
                a.only_sequential = true;
            }
            _ => bad(),
        }
    }
    // Whole slices only.
    a.calls -= a.calls % SLICES;
    a.concurrent_calls -= a.concurrent_calls % SLICES;
    a
}

fn main() {
    let Args {
        calls,
        concurrent_calls,
        rounds,
        only,
        only_sequential,
        pin,
    } = parse_args();

    let fixture = Fixture::new(0);
    let user_bytes = fixture.user_len();
    // Client (this thread) on CPU 0, server on CPU 1, when the machine has two.
    let pinned = pin && pin_current_thread(0);
    let addr = spawn_thread_on(fixture, pinned.then_some(1));
    let registry = threecx_ops::registry();
    let client = sdk_client(addr);
    let bare = Bare::new(addr);
    let bare_timeouts = Bare::with_sdk_timeouts(addr);
    let bare_again = Bare::new(addr);
    let rt = client_runtime();
    // One call of a variant.
    let get_user = sdk_get_user_request(registry);
    let call = |variant: &str| -> std::pin::Pin<Box<dyn Future<Output = Value> + '_>> {
        match variant {
            "sdk" => Box::pin(sdk_get_user(registry, &client)),
            "bare" => Box::pin(bare.get_user()),
            "bare_timeouts" => Box::pin(bare_timeouts.get_user()),
            "bare_again" => Box::pin(bare_again.get_user()),
            _ => Box::pin(sdk_execute(&client, &get_user)),
        }
    };

    // Token, validator compilation and connection pools warmed before any timing.
    rt.block_on(async {
        for v in VARIANTS {
            sequential(200, || call(v)).await;
            concurrent(1_000, || call(v)).await;
        }
    });

    if let Some(only) = only {
        if only_sequential {
            let took = rt.block_on(sequential(calls, || call(&only)));
            let us = took.as_secs_f64() * 1e6 / calls as f64;
            println!("{only}_us_per_sequential_call={us:.2}");
            return;
        }
        let took = rt.block_on(concurrent(concurrent_calls, || call(&only)));
        let per_s = concurrent_calls as f64 / took.as_secs_f64();
        println!("{only}_calls_per_s={per_s:.0}");
        return;
    }

    let mut seq: [Samples; VARIANTS.len()] = Default::default();
    let mut con: [Samples; VARIANTS.len()] = Default::default();
    // Each round's calls go in SLICES slices, the variants taking turns slice by slice: the
    // speed of this shared machine drifts over seconds, and turns of a few tens of
    // milliseconds let every variant see the same drift.
    for _ in 0..rounds {
        let mut seq_round = [(Duration::ZERO, Duration::ZERO); VARIANTS.len()];
        let mut con_round = seq_round;
        rt.block_on(async {
            for _ in 0..SLICES {
                for (i, v) in VARIANTS.iter().enumerate() {
                    record(&mut seq_round[i], sequential(calls / SLICES, || call(v))).await;
                }
            }
            for _ in 0..SLICES {
                for (i, v) in VARIANTS.iter().enumerate() {
                    let n = concurrent_calls / SLICES;
                    record(&mut con_round[i], concurrent(n, || call(v))).await;
                }
            }
        });
        for i in 0..VARIANTS.len() {
            seq[i].wall.push(seq_round[i].0);
            seq[i].cpu.push(seq_round[i].1);
            con[i].wall.push(con_round[i].0);
            con[i].cpu.push(con_round[i].1);
        }
    }
    assert_eq!(client.token_fetches(), 1, "one token for the whole run");

    println!("user_bytes={user_bytes}");
    println!("rounds={rounds}");
    println!("pinned={}", u8::from(pinned));
    print_figures(&seq, &con, calls, concurrent_calls);
}

/// Medians per variant and the SDK-to-bare ratios, as `key=value` lines.
fn print_figures(seq: &[Samples], con: &[Samples], calls: u64, concurrent_calls: u64) {
    let us_per_call = |d: Duration, n: u64| d.as_secs_f64() * 1e6 / n as f64;
    println!("seq_calls={calls}");
    println!("concurrency={CONCURRENCY}");
    println!("con_calls={concurrent_calls}");
    for (i, v) in VARIANTS.iter().enumerate() {
        let (s, c) = (&seq[i], &con[i]);
        println!("seq_{v}_total_ms={:.1}", s.wall().as_secs_f64() * 1e3);
        println!("seq_{v}_cpu_us_per_call={:.2}", us_per_call(s.cpu(), calls));
        println!(
            "con_{v}_calls_per_s={:.0}",
            concurrent_calls as f64 / c.wall().as_secs_f64()
        );
        println!(
            "con_{v}_cpu_us_per_call={:.2}",
            us_per_call(c.cpu(), concurrent_calls)
        );
    }
    let ratio = |a: Duration, b: Duration| a.as_secs_f64() / b.as_secs_f64();
    println!("seq_ratio={:.3}", ratio(seq[0].wall(), seq[1].wall()));
    println!("seq_cpu_ratio={:.3}", ratio(seq[0].cpu(), seq[1].cpu()));
    // Throughput ratio: SDK calls/s over bare calls/s = bare time over SDK time.
    println!("con_ratio={:.3}", ratio(con[1].wall(), con[0].wall()));
    println!("con_cpu_ratio={:.3}", ratio(con[1].cpu(), con[0].cpu()));
    // The same ratios for two identical bare clients: what "no difference" measures as.
    let again = VARIANTS.len() - 1;
    println!(
        "seq_aa_ratio={:.3}",
        ratio(seq[again].wall(), seq[1].wall())
    );
    println!(
        "con_aa_ratio={:.3}",
        ratio(con[1].wall(), con[again].wall())
    );
}
