//! `mantis brand list|add|merge`.

use anyhow::Result;
use mantis_inventory::catalog;

use crate::args::BrandCommand;
use crate::cmd::books;
use crate::context::Context;
use crate::output::{self, Listing};

pub async fn run(ctx: &Context, command: BrandCommand) -> Result<()> {
    let mut client = books::client(ctx, books::VIEWS, "the brand catalogue").await?;
    match command {
        BrandCommand::List => {
            let brands = catalog::brands(&client).await?;
            output::rows(Listing::of(ctx), &brands, "no brands")
        }
        BrandCommand::Add {
            name,
            code,
            website,
        } => {
            let code =
                catalog::add_brand(&client, &name, code.as_deref(), website.as_deref()).await?;
            println!("added brand {name:?} with code {code}");
            Ok(())
        }
        BrandCommand::Merge { from, into } => {
            let moved = catalog::merge_brands(&mut client, &from, &into).await?;
            println!("merged brand {from} into {into}: {moved} product(s) moved, {from} removed");
            Ok(())
        }
    }
}
