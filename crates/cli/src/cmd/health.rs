//! `mantis health`: the seed's quick health check, expected beside found.

use anyhow::{Context as _, Result};
use mantis_schema::health::{self, Expectations, Item};

use crate::context::Context;
use crate::exit::Fail;
use crate::output;

pub async fn run(ctx: &Context) -> Result<()> {
    let session = ctx.session().await?;
    let items = health::check(session.client(), &Expectations::default())
        .await
        .context("running the health check")?;
    let doc = serde_json::json!({
        "healthy": items.iter().all(|i| i.ok),
        "items": items,
    });
    output::emit(ctx.format, &doc, || render(&items))?;
    let bad: Vec<&str> = items.iter().filter(|i| !i.ok).map(|i| i.name).collect();
    if bad.is_empty() {
        Ok(())
    } else {
        Err(Fail::checks(format!("unhealthy: {}", bad.join(", "))))
    }
}

fn render(items: &[Item]) -> String {
    let mut out = format!(
        "{:<20} {:<26} {:<10} {}\n",
        "check", "expected", "status", "found"
    );
    for i in items {
        out.push_str(&format!(
            "{:<20} {:<26} {:<10} {}\n",
            i.name,
            i.expected,
            if i.ok { "ok" } else { "NOT OK" },
            i.found
        ));
    }
    out
}
