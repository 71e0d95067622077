//! `mantis brand list|add|merge`.

use anyhow::Result;
use mantis_inventory::catalog;

use crate::args::BrandCommand;
use crate::cmd::books;
use crate::context::Context;
use crate::output;

pub async fn run(ctx: &Context, command: BrandCommand) -> Result<()> {
    let mut client = books::client(ctx, books::VIEWS, "the brand catalogue").await?;
    match command {
        BrandCommand::List => {
            let brands = catalog::brands(&client).await?;
            output::rows(ctx.format, &brands, "no brands")
        }
        BrandCommand::Add {
            name,
            code,
            website,
        } => {
            let code =
                catalog::add_brand(&client, &name, code.as_deref(), website.as_deref()).await?;
            let doc = serde_json::json!({ "added": { "name": name, "code": code } });
            output::emit(ctx.format, &doc, || {
                format!("added brand {name:?} with code {code}\n")
            })
        }
        BrandCommand::Merge { from, into } => {
            let moved = catalog::merge_brands(&mut client, &from, &into).await?;
            let doc = serde_json::json!({
                "merged": { "from": from, "into": into, "products_moved": moved }
            });
            output::emit(ctx.format, &doc, || {
                format!(
                    "merged brand {from} into {into}: {moved} product(s) moved, {from} removed\n"
                )
            })
        }
    }
}
