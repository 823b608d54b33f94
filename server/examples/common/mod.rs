//! What every example shares and that is not about pushwire: its command
//! line (`--addr HOST:PORT`, default `127.0.0.1:60000`, plus its own
//! numeric flags), serving warp routes while printing the bound address,
//! and the millisecond clock the protocol's timestamps use.
#![allow(dead_code, clippy::print_stdout)] // not every example uses all of it

use std::net::SocketAddr;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use warp::{Filter, Reply};

/// The default listen address of every example.
pub const DEFAULT_ADDR: &str = "127.0.0.1:60000";

/// An example's command line.
#[derive(Debug)]
pub struct Args {
    /// Where to listen.
    pub addr: SocketAddr,
    flags: Vec<(&'static str, u64)>,
}

impl Args {
    /// Reads `--addr` and the example's own `flags` (name, default), each
    /// taking a whole number.
    pub fn parse(example: &str, flags: &[(&'static str, u64)]) -> Result<Args, String> {
        let mut usage = format!("usage: {example} [--addr HOST:PORT]");
        for (name, default) in flags {
            usage.push_str(&format!(" [{name} N (default {default})]"));
        }
        let mut addr = DEFAULT_ADDR.to_owned();
        let mut values = flags.to_vec();
        let mut args = std::env::args().skip(1);
        while let Some(arg) = args.next() {
            if arg != "--addr" && !values.iter().any(|(name, _)| *name == arg) {
                return Err(format!("unknown argument {arg:?}; {usage}"));
            }
            let value = args.next().ok_or(format!("{arg} needs a value; {usage}"))?;
            if arg == "--addr" {
                addr = value;
            } else if let Some(slot) = values.iter_mut().find(|(name, _)| *name == arg) {
                slot.1 = value
                    .parse()
                    .map_err(|e| format!("{arg} {value}: {e}; {usage}"))?;
            }
        }
        Ok(Args {
            addr: addr.parse().map_err(|e| format!("--addr {addr}: {e}"))?,
            flags: values,
        })
    }

    /// The value of one of the example's own flags.
    pub fn get(&self, flag: &str) -> u64 {
        self.flags
            .iter()
            .find(|(name, _)| *name == flag)
            .map_or(0, |(_, value)| *value)
    }
}

/// The `?interval_ms=N` query of a paced stream: milliseconds between
/// events, one second when not given (a test asks for a few ms).
#[derive(Debug, serde::Deserialize)]
pub struct Pace {
    #[serde(default = "one_second_ms")]
    interval_ms: u64,
}

fn one_second_ms() -> u64 {
    1000
}

impl Pace {
    /// The interval between events.
    pub fn interval(&self) -> Duration {
        Duration::from_millis(self.interval_ms)
    }
}

/// Binds `addr`, prints `listening on http://ADDR` (the real address, so a
/// test can ask for port 0), and serves `routes` until the process ends.
pub async fn serve<F>(routes: F, addr: SocketAddr) -> Result<(), Box<dyn std::error::Error>>
where
    F: Filter + Clone + Send + Sync + 'static,
    F::Extract: Reply,
{
    let listener = tokio::net::TcpListener::bind(addr).await?;
    println!("listening on http://{}", listener.local_addr()?);
    warp::serve(routes).incoming(listener).run().await;
    Ok(())
}

/// Milliseconds since the Unix epoch, as the protocol's timestamps are.
pub fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}
