//! The report: a Markdown table per scenario with pushwire's ratio to the
//! best peer, the machine and parameters, and an SVG of latency percentiles
//! against subscriber count.

use std::fmt::Write;

use crate::scenarios::{FanOut, Held, Latency, Storm};
use crate::target::Kind;

fn ratio(ours: f64, best_peer: Option<f64>, higher_is_better: bool) -> String {
    match best_peer {
        Some(peer) if peer > 0.0 && ours > 0.0 => {
            let r = if higher_is_better {
                ours / peer
            } else {
                peer / ours
            };
            format!("{r:.2}× {}", if r >= 1.0 { "(ahead)" } else { "(behind)" })
        }
        _ => "—".into(),
    }
}

fn best<T>(
    rows: &[T],
    kind: impl Fn(&T) -> Kind,
    value: impl Fn(&T) -> f64,
    higher_is_better: bool,
) -> (Option<f64>, Option<f64>) {
    let ours = rows.iter().find(|r| kind(r) == Kind::Pushwire).map(&value);
    let peers = rows
        .iter()
        .filter(|r| kind(r) != Kind::Pushwire)
        .map(&value);
    let best_peer = if higher_is_better {
        peers.fold(None, |b: Option<f64>, v| Some(b.map_or(v, |b| b.max(v))))
    } else {
        peers.fold(None, |b: Option<f64>, v| Some(b.map_or(v, |b| b.min(v))))
    };
    (ours, best_peer)
}

fn us(v: u64) -> String {
    if v >= 10_000 {
        format!("{:.1} ms", v as f64 / 1000.0)
    } else {
        format!("{v} µs")
    }
}

pub fn held_table(rows: &[Held]) -> String {
    let mut out = String::from("| server | asked | held | errors | accept rate (conn/s) | RSS idle | RSS per connection |\n|---|---|---|---|---|---|---|\n");
    for r in rows {
        let _ = writeln!(out, "| {} | {} |", r.kind.name(), held_cells(r));
    }
    let (o, p) = best(rows, |r| r.kind, |r| r.rss_per_connection, false);
    let (oa, pa) = best(rows, |r| r.kind, |r| r.accept_rate, true);
    let _ = writeln!(
        out,
        "\npushwire vs best peer: RSS per connection {}; accept rate {}.",
        ratio(o.unwrap_or(0.0), p, false),
        ratio(oa.unwrap_or(0.0), pa, true)
    );
    out
}

pub fn fan_out_table(rows: &[FanOut]) -> String {
    let mut out = String::from("| server | subscribers | events/s | deliveries expected | delivered | lost | deliveries/s | CPU s per 10⁶ deliveries | p50 | p99 | p99.9 | max |\n|---|---|---|---|---|---|---|---|---|---|---|---|\n");
    for r in rows {
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} | {:.0} | {:.2} | {} | {} | {} | {} |",
            r.kind.name(),
            r.subscribers,
            r.rate,
            r.expected,
            r.delivered,
            r.lost,
            r.deliveries_per_sec,
            r.cpu_per_million,
            us(r.p50),
            us(r.p99),
            us(r.p999),
            us(r.max)
        );
    }
    let mut groups: Vec<(usize, u64)> = rows.iter().map(|r| (r.subscribers, r.rate)).collect();
    groups.sort_unstable();
    groups.dedup();
    out.push('\n');
    for (subs, rate) in groups {
        let g: Vec<&FanOut> = rows
            .iter()
            .filter(|r| r.subscribers == subs && r.rate == rate)
            .collect();
        let (o, p) = best(&g, |r| r.kind, |r| r.p99 as f64, false);
        let (oc, pc) = best(&g, |r| r.kind, |r| r.cpu_per_million, false);
        let _ = writeln!(
            out,
            "- {subs} subscribers at {rate} events/s — pushwire vs best peer: p99 {}; CPU per delivery {}.",
            ratio(o.unwrap_or(0.0), p, false),
            ratio(oc.unwrap_or(0.0), pc, false)
        );
    }
    out
}

pub fn latency_table(rows: &[Latency]) -> String {
    let mut out = String::from(
        "| server | events | delivered | p50 | p99 | steal | every round: p99 (steal) |\n|---|---|---|---|---|---|---|\n",
    );
    for r in rows {
        let every: Vec<String> = r
            .rounds
            .iter()
            .map(|&(p99, steal)| format!("{} ({steal:.1}%)", us(p99)))
            .collect();
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {:.1}% | {} |",
            r.kind.name(),
            r.events,
            r.delivered,
            us(r.p50),
            us(r.p99),
            r.steal_percent,
            every.join(", ")
        );
    }
    let (o, p) = best(rows, |r| r.kind, |r| r.p50 as f64, false);
    let _ = writeln!(
        out,
        "\npushwire vs best peer: p50 {}.",
        ratio(o.unwrap_or(0.0), p, false)
    );
    out
}

pub fn storm_table(rows: &[Storm]) -> String {
    let mut out = String::from("| server | clients | all back after | back | events lost | duplicates |\n|---|---|---|---|---|---|\n");
    for r in rows {
        let _ = writeln!(
            out,
            "| {} | {} | {:.0} ms | {} | {} | {} |",
            r.kind.name(),
            r.clients,
            r.back_after.as_secs_f64() * 1000.0,
            r.back,
            r.lost,
            r.duplicates
        );
    }
    let (o, p) = best(rows, |r| r.kind, |r| r.back_after.as_secs_f64(), false);
    let (ol, pl) = best(rows, |r| r.kind, |r| r.lost as f64, false);
    let _ = writeln!(
        out,
        "\npushwire vs best peer: all back {}; events lost {} against {}.",
        ratio(o.unwrap_or(0.0), p, false),
        ol.unwrap_or(0.0),
        pl.map_or("—".to_owned(), |v| v.to_string())
    );
    out
}

/// The targets for pushwire on this machine, each checked against
/// this run's figures (a target a run did not measure says so).
pub fn targets_table(held: &[Held], fan: &[FanOut]) -> String {
    let mut out = String::from("| target | this run | met |\n|---|---|---|\n");
    let yes_no = |met: bool| if met { "yes" } else { "**no**" };
    let ours_held = held.iter().find(|r| r.kind == Kind::Pushwire);
    match ours_held {
        Some(h) => {
            let _ = writeln!(
                out,
                "| one process holds ≥ 19,900 connections without errors | {} of {} held, {} errors | {} |",
                h.held,
                h.asked,
                h.errors,
                if h.asked < 19_900 {
                    "not measured (run `--full`)"
                } else {
                    yes_no(h.held >= 19_900 && h.errors == 0)
                }
            );
            let _ = writeln!(
                out,
                "| ≤ 4 KiB RSS per idle connection | {:.0} B | {} |",
                h.rss_per_connection,
                yes_no(h.rss_per_connection <= 4096.0)
            );
        }
        None => out.push_str("| connections held | not measured | — |\n"),
    }
    match fan
        .iter()
        .find(|r| r.kind == Kind::Pushwire && r.subscribers >= 10_000 && r.rate >= 100)
    {
        Some(f) => {
            let _ = writeln!(
                out,
                "| 10,000 subscribers × 100 events/s: nothing lost | {} lost | {} |",
                f.lost,
                yes_no(f.lost == 0)
            );
            let _ = writeln!(
                out,
                "| … sustained 1,000,000 deliveries/s | {:.0} deliveries/s | {} |",
                f.deliveries_per_sec,
                yes_no(f.deliveries_per_sec >= 990_000.0)
            );
            let _ = writeln!(
                out,
                "| … p99 latency under 10 ms | {} | {} |",
                us(f.p99),
                yes_no(f.p99 < 10_000)
            );
        }
        None => out.push_str("| 10,000 × 100 events/s | not measured | — |\n"),
    }
    out
}

/// Latency percentiles (p50, p99) against subscriber count, at the highest rate.
pub fn latency_svg(rows: &[FanOut]) -> String {
    let (w, h, pad) = (640.0, 360.0, 50.0);
    let Some(rate) = rows.iter().map(|r| r.rate).max() else {
        return String::new();
    };
    let rows: Vec<&FanOut> = rows.iter().filter(|r| r.rate == rate).collect();
    let max_subs = rows.iter().map(|r| r.subscribers).max().unwrap_or(1).max(1) as f64;
    let max_us = rows.iter().map(|r| r.p99).max().unwrap_or(1).max(1) as f64 * 1.1;
    let x = |s: usize| pad + (s as f64 / max_subs) * (w - 2.0 * pad);
    let y = |v: u64| h - pad - (v as f64 / max_us) * (h - 2.0 * pad);
    let mut svg = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"{h}\" font-family=\"sans-serif\" font-size=\"12\">\n<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n<text x=\"{pad}\" y=\"24\" font-size=\"14\">Delivery latency at {rate} events/s (solid p50, dashed p99)</text>\n<line x1=\"{pad}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"black\"/>\n<line x1=\"{pad}\" y1=\"{pad}\" x2=\"{pad}\" y2=\"{}\" stroke=\"black\"/>\n<text x=\"{}\" y=\"{}\" text-anchor=\"end\">subscribers ({max_subs:.0})</text>\n<text x=\"8\" y=\"{}\">{:.1} ms</text>\n",
        h - pad,
        w - pad,
        h - pad,
        h - pad,
        w - pad,
        h - pad + 30.0,
        pad + 4.0,
        max_us / 1000.0
    );
    let colors = [
        (Kind::Pushwire, "#1f6feb"),
        (Kind::Axum, "#e4572e"),
        (Kind::Hyperlane, "#8338ec"),
        (Kind::Warp, "#2a9d8f"),
    ];
    for (i, (kind, color)) in colors.iter().enumerate() {
        let mut points: Vec<&&FanOut> = rows.iter().filter(|r| r.kind == *kind).collect();
        points.sort_by_key(|r| r.subscribers);
        if points.is_empty() {
            continue;
        }
        for (dash, pick) in [("", 0), ("6,4", 1)] {
            let path: Vec<String> = points
                .iter()
                .map(|r| {
                    format!(
                        "{:.1},{:.1}",
                        x(r.subscribers),
                        y(if pick == 0 { r.p50 } else { r.p99 })
                    )
                })
                .collect();
            let _ = writeln!(svg, "<polyline fill=\"none\" stroke=\"{color}\" stroke-width=\"2\" stroke-dasharray=\"{dash}\" points=\"{}\"/>", path.join(" "));
        }
        let _ = writeln!(
            svg,
            "<text x=\"{}\" y=\"{}\" fill=\"{color}\">{}</text>",
            w - pad - 150.0,
            pad + 16.0 * i as f64,
            kind.name()
        );
    }
    svg.push_str("</svg>\n");
    svg
}

/// A held-connections row's measured cells, shared by the plaintext and
/// the TLS tables: asked, held, errors, accept rate, idle RSS, RSS per
/// connection.
fn held_cells(h: &Held) -> String {
    format!(
        "{} | {} | {} | {:.0} | {} | {:.0} B",
        h.asked,
        h.held,
        h.errors,
        h.accept_rate,
        mib(h.rss_idle),
        h.rss_per_connection
    )
}

fn mib(bytes: u64) -> String {
    format!("{:.1} MiB", bytes as f64 / 1048576.0)
}

/// The heading of the cluster section, which [`splice_section`] looks for.
pub const CLUSTER_HEADING: &str = "## 5. Cluster (NATS JetStream)";

/// The cluster section of the report, with the command that produced it
/// (it is kept across runs of the other scenarios).
pub fn cluster_section(
    r: &crate::cluster::ClusterReport,
    command_line: &str,
    machine: &str,
    notes: &str,
) -> String {
    let p = &r.params;
    let yes_no = |met: bool| if met { "yes" } else { "**no**" };
    let mut out = format!(
        "{CLUSTER_HEADING}\n\nGenerated by `{command_line}` on {machine}. {} pushwire nodes (release build, each its own process, `--nats` on one local `nats-server -js` with a temporary store, `--max-connections` {}, 15 s heartbeats) on the same cores as NATS and the load generator.\n\n**Parameters:** {p:?}.\n\n",
        p.nodes,
        p.per_node + 100
    );

    let h = &r.held;
    let asked: usize = h.nodes.iter().map(|n| n.asked).sum();
    let held: usize = h.nodes.iter().map(|n| n.held).sum();
    let errors: usize = h.nodes.iter().map(|n| n.errors).sum();
    let rss_idle: u64 = h.nodes.iter().map(|n| n.rss_idle).sum();
    let rss_held: u64 = h.nodes.iter().map(|n| n.rss_held).sum();
    let per_conn =
        |idle: u64, held_rss: u64, n: usize| held_rss.saturating_sub(idle) as f64 / n.max(1) as f64;
    let _ = writeln!(
        out,
        "### Connections held over {} nodes\n\n`/sse/subscribe?topic=…` streams opened at once to every node from worker processes (`pushwire-bench hold`), held 2 s; RSS from `/proc` before the first and after the last connection.\n\n| node | asked | held | errors | RSS idle | RSS held | RSS per connection |\n|---|---|---|---|---|---|---|",
        p.nodes
    );
    for n in &h.nodes {
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} | {:.0} B |",
            n.name,
            n.asked,
            n.held,
            n.errors,
            mib(n.rss_idle),
            mib(n.rss_held),
            per_conn(n.rss_idle, n.rss_held, n.held)
        );
    }
    let _ = writeln!(
        out,
        "| **all** | {asked} | {held} | {errors} | {} | {} | {:.0} B |\n\nTime to establish all {held}: {:.1} s ({:.0} connections/s). nats-server RSS meanwhile: {}.\n",
        mib(rss_idle),
        mib(rss_held),
        per_conn(rss_idle, rss_held, held),
        h.establish.as_secs_f64(),
        held as f64 / h.establish.as_secs_f64().max(1e-9),
        mib(h.nats_rss)
    );

    let _ = writeln!(
        out,
        "### Cross-node latency\n\nLatency is from when an event was due to when a subscriber parsed it, on one clock (as in section 2), and on the cluster includes JetStream storing the event before the publish is answered and each node reading it from its consumer. Every subscriber is connected before a warm-up event (sequence 0, not in the latencies); lost counts, per subscriber, the events from 0 to the last that it did not receive, and duplicated the ones it received again (or out of order).\n\n| setup | subscribers | events/s | events | deliveries expected | delivered | lost | duplicated | resets | p50 | p99 | p99.9 | max |\n|---|---|---|---|---|---|---|---|---|---|---|---|---|"
    );
    for l in &r.latency {
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |",
            l.setup,
            l.subscribers,
            l.rate,
            l.events,
            l.expected,
            l.delivered,
            l.lost,
            l.duplicates,
            l.resets,
            us(l.p50),
            us(l.p99),
            us(l.p999),
            us(l.max)
        );
    }
    let clean = r
        .latency
        .iter()
        .all(|l| l.lost == 0 && l.duplicates == 0 && l.resets == 0);
    let _ = writeln!(
        out,
        "\n0 lost, 0 duplicated, 0 resets in both: {}.\n",
        yes_no(clean)
    );

    let s = &r.storm;
    let _ = writeln!(
        out,
        "### Reconnect storm: a node SIGKILLed\n\nThe last node holds the crowd (from worker processes); the first node takes {} publishes/s; the last node is SIGKILLed and each of its subscribers at once resumes on one of the {} others (spread evenly) with its Last-Event-ID. \"Receiving\": the subscriber got an event published after the node was gone (publishing pauses while the node is killed, so the first event after it is known beforehand). Times are taken by the workers as each subscriber gets its `200` or that event, from the moment the SIGKILL is sent. Publishing goes on {} s after the last is receiving, then one last event; every subscriber, connected before the first event, must have every event from the first to the last, once.\n\n| clients on the killed node | held before the kill | reconnected | all reconnected after | all receiving after | reconnects refused | events published | publish errors | lost | duplicated | resets |\n|---|---|---|---|---|---|---|---|---|---|---|",
        p.storm_rate,
        s.survivors,
        p.storm_tail_secs
    );
    let _ = writeln!(
        out,
        "| {} | {} | {} | {:.0} ms | {:.0} ms | {} | {} | {} | {} | {} | {} |",
        s.clients,
        s.connected,
        s.back,
        s.back_after.as_secs_f64() * 1000.0,
        s.receiving_after.as_secs_f64() * 1000.0,
        s.refused,
        s.published,
        s.publish_errors,
        s.lost,
        s.duplicates,
        s.resets
    );
    let _ = writeln!(
        out,
        "\nAll {} back and receiving, 0 lost, 0 duplicated, 0 resets: {}.\n",
        s.connected,
        yes_no(
            s.back >= s.connected
                && s.receiving >= s.connected
                && s.lost == 0
                && s.duplicates == 0
                && s.resets == 0
                && s.publish_errors == 0
        )
    );
    out.push_str(notes);
    out
}

/// The heading of the TLS section, which [`splice_section`] looks for.
pub const TLS_HEADING: &str = "## 6. TLS: HTTP/1.1 and HTTP/2 over rustls";

/// One row of the TLS section: a measurement and the transport it was taken over.
#[derive(Debug, Clone)]
pub struct Over<T> {
    pub transport: &'static str,
    pub row: T,
}

/// The TLS section of the report, with the command that produced it
/// (kept across runs of the other scenarios).
pub fn tls_section(
    held: &[Over<Held>],
    fan: &[Over<FanOut>],
    plain: &str,
    command_line: &str,
    machine: &str,
    params: &str,
    notes: &str,
) -> String {
    let mut out = format!(
        "{TLS_HEADING}\n\nGenerated by `{command_line}` on {machine}.\n\n**Parameters:** {params}.\n\n"
    );
    out.push_str("### Connections held over TLS\n\nAs in section 1 (sockets from worker processes, held 2 s, the server's RSS from `/proc` before the first and after the last connection), each transport against a fresh server. TLS cost: RSS per connection less the same server's plaintext figure from this run.\n\n| server | transport | asked | held | errors | accept rate (conn/s) | RSS idle | RSS per connection | TLS cost per connection |\n|---|---|---|---|---|---|---|---|---|\n");
    for r in held {
        let h = &r.row;
        let base = held
            .iter()
            .find(|b| b.transport == plain && b.row.kind == h.kind)
            .map(|b| b.row.rss_per_connection);
        let cost = match base {
            Some(b) if r.transport != plain => format!("{:+.0} B", h.rss_per_connection - b),
            _ => "—".to_owned(),
        };
        let _ = writeln!(
            out,
            "| {} | {} | {} | {cost} |",
            h.kind.name(),
            r.transport,
            held_cells(h)
        );
    }
    out.push_str("\n### Fan-out over TLS\n\nAs in section 2: every subscriber on its own connection (over HTTP/2, one stream per connection), the publisher on one keep-alive HTTP/1.1 connection over the same transport; latency is due-to-receive on one clock, as in section 2.\n\n| server | transport | subscribers | events/s | deliveries expected | delivered | lost | deliveries/s | CPU s per 10⁶ deliveries | p50 | p99 | p99.9 | max |\n|---|---|---|---|---|---|---|---|---|---|---|---|---|\n");
    for r in fan {
        let f = &r.row;
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} | {} | {:.0} | {:.2} | {} | {} | {} | {} |",
            f.kind.name(),
            r.transport,
            f.subscribers,
            f.rate,
            f.expected,
            f.delivered,
            f.lost,
            f.deliveries_per_sec,
            f.cpu_per_million,
            us(f.p50),
            us(f.p99),
            us(f.p999),
            us(f.max)
        );
    }
    let mut groups: Vec<(&str, usize, u64)> = fan
        .iter()
        .map(|r| (r.transport, r.row.subscribers, r.row.rate))
        .collect();
    groups.dedup();
    out.push('\n');
    for (transport, subs, rate) in groups {
        let g: Vec<&FanOut> = fan
            .iter()
            .filter(|r| (r.transport, r.row.subscribers, r.row.rate) == (transport, subs, rate))
            .map(|r| &r.row)
            .collect();
        let (o, p) = best(&g, |r| r.kind, |r| r.p99 as f64, false);
        let (od, pd) = best(&g, |r| r.kind, |r| r.deliveries_per_sec, true);
        let (oc, pc) = best(&g, |r| r.kind, |r| r.cpu_per_million, false);
        let _ = writeln!(
            out,
            "- {transport}, {subs} subscribers at {rate} events/s — pushwire vs axum: deliveries/s {}; p99 {}; CPU per delivery {}.",
            ratio(od.unwrap_or(0.0), pd, true),
            ratio(o.unwrap_or(0.0), p, false),
            ratio(oc.unwrap_or(0.0), pc, false)
        );
    }
    out.push('\n');
    out.push_str(notes);
    out
}

/// `report` with `section` in place of its section under `heading` (or,
/// without one, before "Where pushwire is behind", or at the end).
pub fn splice_section(report: &str, heading: &str, section: &str) -> String {
    let section = section.trim_end();
    if let Some(start) = report.find(heading) {
        let after = start + heading.len();
        let end = report[after..]
            .find("\n## ")
            .map_or(report.len(), |i| after + i + 1);
        let rest = &report[end..];
        let gap = if rest.is_empty() { "\n" } else { "\n\n" };
        return format!("{}{section}{gap}{rest}", &report[..start]);
    }
    match report.find("## Where pushwire is behind") {
        Some(i) => format!("{}{section}\n\n{}", &report[..i], &report[i..]),
        None if report.is_empty() => format!("# Benchmarks\n\n{section}\n"),
        None => format!("{}\n\n{section}\n", report.trim_end()),
    }
}

/// The section of `report` under `heading`, if it has one.
pub fn section_of<'a>(report: &'a str, heading: &str) -> Option<&'a str> {
    let start = report.find(heading)?;
    let after = start + heading.len();
    let end = report[after..]
        .find("\n## ")
        .map_or(report.len(), |i| after + i + 1);
    Some(&report[start..end])
}

/// Checks [`splice_section`] and [`section_of`] on `heading`, in a report
/// where `prior` is the section before it: a section is replaced with its
/// subsections, inserted before "Where pushwire is behind" when missing,
/// appended at the end of a report without that heading, and kept when
/// spliced again. Shared by every section's test.
#[cfg(test)]
pub(crate) fn assert_splices_section(heading: &str, prior: &str) {
    let splice = |r: &str, s: &str| splice_section(r, heading, s);
    let old = format!("# B\n\n{prior}\n\n{heading}\n\nold\n\n### sub\n\nold\n\n## Where pushwire is behind\n\ny\n");
    let new = format!("{heading}\n\nnew\n");
    let spliced = splice(&old, &new);
    assert_eq!(
        spliced,
        format!("# B\n\n{prior}\n\n{heading}\n\nnew\n\n## Where pushwire is behind\n\ny\n")
    );
    assert_eq!(
        section_of(&spliced, heading).map(str::trim_end),
        Some(new.trim_end())
    );
    let without = format!("# B\n\n{prior}\n\n## Where pushwire is behind\n\ny\n");
    assert_eq!(splice(&without, &new), spliced);
    let at_end = splice("# B\n\nx\n", &new);
    assert_eq!(at_end, format!("# B\n\nx\n\n{heading}\n\nnew\n"));
    assert_eq!(splice(&at_end, &new), at_end);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_single_client_row_shows_every_round_with_its_steal() {
        let row = Latency {
            kind: Kind::Pushwire,
            events: 10_000,
            delivered: 10_000,
            p50: 135,
            p99: 588,
            steal_percent: 0.94,
            rounds: vec![(4_379, 2.4), (588, 0.94), (13_300, 3.04)],
        };
        let table = latency_table(&[row]);
        assert!(
            table.contains(
                "| pushwire | 10000 | 10000 | 135 µs | 588 µs | 0.9% | 4379 µs (2.4%), 588 µs (0.9%), 13.3 ms (3.0%) |\n"
            ),
            "{table}"
        );
    }

    #[test]
    fn the_cluster_section_is_replaced_inserted_or_kept() {
        assert_splices_section(CLUSTER_HEADING, "## 4. Storm\n\nx");
    }

    #[test]
    fn the_tls_section_goes_after_the_cluster_section_and_both_are_kept() {
        let cluster = format!("{CLUSTER_HEADING}\n\nc\n");
        let tls = format!("{TLS_HEADING}\n\nt\n");
        let fresh = "# B\n\n## 4. Storm\n\nx\n\n## Where pushwire is behind\n\ny\n";
        let both = splice_section(
            &splice_section(fresh, CLUSTER_HEADING, &cluster),
            TLS_HEADING,
            &tls,
        );
        assert_eq!(
            both,
            format!("# B\n\n## 4. Storm\n\nx\n\n{CLUSTER_HEADING}\n\nc\n\n{TLS_HEADING}\n\nt\n\n## Where pushwire is behind\n\ny\n")
        );
        assert_eq!(
            section_of(&both, CLUSTER_HEADING),
            Some(&*format!("{cluster}\n"))
        );
        assert_eq!(section_of(&both, TLS_HEADING), Some(&*format!("{tls}\n")));
        let new_tls = format!("{TLS_HEADING}\n\nnew\n");
        let replaced = splice_section(&both, TLS_HEADING, &new_tls);
        assert_eq!(replaced, both.replace("\n\nt\n", "\n\nnew\n"));
    }
}
