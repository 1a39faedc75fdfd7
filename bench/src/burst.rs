//! Bursts: many orders released at the same instant (how they are answered, how fast the shed
//! ones hear it, and that no order exists that its buyer was told failed), and many sign-ins at
//! once (what password hashing does to the server's memory).

use std::{
    collections::HashSet,
    time::{Duration, Instant},
};

use anyhow::bail;
use serde_json::{Value, json};

use crate::{
    calls::{json_call, post_order},
    target::memory_mib,
};

/// How a burst of orders was answered.
#[derive(Debug, serde::Serialize)]
pub(crate) struct OrderBurst {
    pub(crate) orders: usize,
    pub(crate) tickets: usize,
    /// 201: the ticket is reserved for this buyer.
    pub(crate) created: usize,
    /// 400: another buyer holds the ticket.
    pub(crate) taken: usize,
    /// 503 with `Retry-After`: shed (too many reservations in hand), or no answer in time.
    pub(crate) shed: usize,
    /// Anything else (an error of the benchmark's).
    pub(crate) other: usize,
    pub(crate) first_answer_ms: f64,
    pub(crate) first_shed_ms: Option<f64>,
    pub(crate) last_answer_ms: f64,
    /// Orders on the burst's tickets whose buyer was not told 201 (checked at once and 3 s
    /// later): must be 0.
    pub(crate) ghosts: usize,
    /// Orders told 201 and not found afterwards: must be 0.
    pub(crate) missing: usize,
}

/// Every buyer orders every one of `ticket_count` fresh tickets (listed by `seller`), all at the
/// same instant, each request on its own connection.
pub(crate) async fn orders(
    base: &str,
    seller: &str,
    buyers: &[String],
    ticket_count: usize,
) -> anyhow::Result<OrderBurst> {
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(120))
        .build()?;
    let mut tickets = Vec::new();
    for i in 0..ticket_count {
        let body = json!({"title": format!("Burst ticket {i}"), "price": "40.00"});
        let (status, ticket) = json_call(
            &http,
            reqwest::Method::POST,
            format!("{base}/api/tickets"),
            Some(seller),
            Some(body),
        )
        .await?;
        if status != 201 {
            bail!("POST /api/tickets answered {status}: {ticket}");
        }
        tickets.push(ticket["id"].as_str().unwrap_or_default().to_owned());
    }
    let orders = buyers.len() * tickets.len();
    eprintln!(
        "releasing {orders} orders at once ({} buyers x {ticket_count} tickets)…",
        buyers.len()
    );
    let released = Instant::now();
    let (http, tickets) = (&http, &tickets);
    let answers: Vec<(u16, Value, Duration)> =
        futures_util::future::join_all(buyers.iter().flat_map(|buyer| {
            tickets.iter().map(move |ticket| async move {
                let answer = post_order(http, base, buyer, ticket).await;
                let at = released.elapsed();
                match answer {
                    Ok((status, body)) => (status, body, at),
                    Err(e) => (0, Value::String(e.to_string()), at),
                }
            })
        }))
        .await;
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let with = |code: u16| answers.iter().filter(|a| a.0 == code).count();
    let told_created: HashSet<String> = answers
        .iter()
        .filter(|a| a.0 == 201)
        .filter_map(|a| a.1["id"].as_str().map(str::to_owned))
        .collect();
    if let Some((status, body, _)) = answers.iter().find(|a| ![201, 400, 503].contains(&a.0)) {
        tracing::warn!("an undocumented answer to a burst order: {status} {body}");
    }

    // The orders on the burst's tickets are exactly those told 201, now and once any late
    // workflow could have run.
    let burst_tickets: HashSet<&str> = tickets.iter().map(String::as_str).collect();
    let (mut ghosts, mut missing) = (0, 0);
    for round in 0..2 {
        if round > 0 {
            tokio::time::sleep(Duration::from_secs(3)).await;
        }
        let mut found = HashSet::new();
        for buyer in buyers {
            for order in all_orders(http, base, buyer).await? {
                if burst_tickets.contains(order["ticket"]["id"].as_str().unwrap_or_default()) {
                    found.insert(order["id"].as_str().unwrap_or_default().to_owned());
                }
            }
        }
        ghosts = ghosts.max(found.difference(&told_created).count());
        missing = missing.max(told_created.difference(&found).count());
    }
    Ok(OrderBurst {
        orders,
        tickets: ticket_count,
        created: with(201),
        taken: with(400),
        shed: with(503),
        other: answers
            .iter()
            .filter(|a| ![201, 400, 503].contains(&a.0))
            .count(),
        first_answer_ms: answers.iter().map(|a| ms(a.2)).fold(f64::MAX, f64::min),
        first_shed_ms: answers
            .iter()
            .filter(|a| a.0 == 503)
            .map(|a| ms(a.2))
            .reduce(f64::min),
        last_answer_ms: answers.iter().map(|a| ms(a.2)).fold(0.0, f64::max),
        ghosts,
        missing,
    })
}

/// Every order of the buyer, page by page.
async fn all_orders(http: &reqwest::Client, base: &str, buyer: &str) -> anyhow::Result<Vec<Value>> {
    let mut orders = Vec::new();
    loop {
        let (status, page) = json_call(
            http,
            reqwest::Method::GET,
            format!("{base}/api/orders?limit=500&offset={}", orders.len()),
            Some(buyer),
            None,
        )
        .await?;
        let Some(page) = page.as_array().filter(|_| status == 200) else {
            bail!("GET /api/orders answered {status}: {page}");
        };
        orders.extend(page.iter().cloned());
        if page.len() < 500 {
            return Ok(orders);
        }
    }
}

/// The server's memory through a burst of sign-ins.
#[derive(Debug, serde::Serialize)]
pub(crate) struct SignIns {
    pub(crate) sign_ins: usize,
    /// Answered with a token.
    pub(crate) signed_in: usize,
    /// Answered 503 (shed: too many password checks waiting).
    pub(crate) shed: usize,
    pub(crate) seconds: f64,
    /// The server's peak resident memory (`VmHWM`) after the burst, and its resident memory
    /// (`VmRSS`) right after and five seconds after.
    pub(crate) peak_mib: Option<f64>,
    pub(crate) right_after_mib: Option<f64>,
    pub(crate) five_seconds_after_mib: Option<f64>,
}

/// `n` sign-ins at once, with the `credentials` in turn; the memory of `server_pid`.
pub(crate) async fn sign_ins(
    base: &str,
    credentials: &[Value],
    n: usize,
    server_pid: Option<u32>,
) -> anyhow::Result<SignIns> {
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(60))
        .build()?;
    eprintln!("signing in {n} times at once…");
    let started = Instant::now();
    let statuses: Vec<u16> = futures_util::future::join_all((0..n).map(|i| {
        let (http, body) = (&http, credentials[i % credentials.len()].clone());
        async move {
            json_call(
                http,
                reqwest::Method::POST,
                format!("{base}/api/users/token"),
                None,
                Some(body),
            )
            .await
            .map_or(0, |(status, _)| status)
        }
    }))
    .await;
    let seconds = started.elapsed().as_secs_f64();
    let memory = |field| server_pid.and_then(|pid| memory_mib(pid, field));
    let (peak_mib, right_after_mib) = (memory("VmHWM"), memory("VmRSS"));
    tokio::time::sleep(Duration::from_secs(5)).await;
    Ok(SignIns {
        sign_ins: n,
        signed_in: statuses.iter().filter(|s| **s == 200 || **s == 201).count(),
        shed: statuses.iter().filter(|s| **s == 503).count(),
        seconds,
        peak_mib,
        right_after_mib,
        five_seconds_after_mib: memory("VmRSS"),
    })
}
