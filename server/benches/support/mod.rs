//! What the benchmarks share: a fixed generator and a latency line.

use std::time::Duration;

use crossdock_server::auth::{CurrentUser, Operator};
use crossdock_server::services::{NewUser, Services};

/// A small, fixed generator so every run fills the same data.
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        self.0 >> 33
    }

    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// Prints p50, p95 and the maximum of some timings.
pub fn report(name: &str, mut samples: Vec<Duration>) {
    samples.sort();
    let pct = |p: f64| samples[((samples.len() as f64 - 1.0) * p) as usize].as_secs_f64() * 1000.0;
    println!("{name:<58} p50 {:>7.2} ms   p95 {:>7.2} ms   max {:>7.2} ms", pct(0.5), pct(0.95), pct(1.0));
}

/// A person of `role` (working in `queues`), created and signed in.
#[allow(dead_code, reason = "not every benchmark signs people in")]
pub async fn user(services: &Services, name: &str, role: &str, queues: &[&str]) -> CurrentUser {
    let new = NewUser {
        username: name.into(),
        display_name: name.into(),
        role: role.into(),
        password: PASSWORD.into(),
        queues: queues.iter().map(|q| (*q).to_owned()).collect(),
    };
    services.create_user(&Operator::command_line(), &new).await.expect("user created");
    sign_in(services, name).await
}

/// Every bench person's password.
const PASSWORD: &str = "forklift-orbit-tangerine-42";

/// A person made by [`user`] in an earlier run, signed in again.
#[allow(dead_code, reason = "not every benchmark keeps its file")]
pub async fn sign_in(services: &Services, name: &str) -> CurrentUser {
    services.login(name, secrecy::SecretString::from(PASSWORD), "bench").await.expect("login").0
}
