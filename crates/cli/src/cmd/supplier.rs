//! `mantis supplier contact`: view and set contact fields, validated by the
//! database's own rules.

use anyhow::Result;
use mantis_inventory::catalog::{self, ContactChange};
use mantis_inventory::models::Supplier;

use crate::args::SupplierCommand;
use crate::cmd::books;
use crate::context::Context;
use crate::output;

pub async fn run(ctx: &Context, command: SupplierCommand) -> Result<()> {
    let client = books::client(ctx, books::VIEWS, "supplier contacts").await?;
    let SupplierCommand::Contact {
        name,
        email,
        phone,
        website,
        payment_terms,
    } = command;
    let change = ContactChange {
        email,
        phone,
        website,
        payment_terms,
    };
    let supplier = if change == ContactChange::default() {
        catalog::supplier(&client, &name).await?
    } else {
        catalog::set_contact(&client, &name, &change).await?
    };
    output::emit(ctx.format, &supplier, || render(&supplier))
}

fn render(s: &Supplier) -> String {
    let field = |v: &Option<String>| v.clone().unwrap_or_else(|| "-".into());
    format!(
        "{} ({})\n  email          {}\n  phone          {}\n  website        {}\n  payment terms  {}\n",
        s.name,
        s.id,
        field(&s.contact_email),
        field(&s.contact_phone),
        field(&s.website),
        field(&s.payment_terms)
    )
}
