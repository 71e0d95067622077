//! Lists the databases failed test runs kept for inspection, and the test
//! templates; `drop` drops the kept ones, `drop --templates` the templates too.
//!
//! ```text
//! cargo run -p mantis-testkit --bin test-databases [-- drop [--templates]]
//! ```

use mantis_testkit::{connect, kept, server};

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (drop, templates) = match args.iter().map(String::as_str).collect::<Vec<_>>()[..] {
        [] | ["list"] => (false, false),
        ["drop"] => (true, false),
        ["drop", "--templates"] => (true, true),
        _ => {
            eprintln!("usage: test-databases [list | drop [--templates]]");
            std::process::exit(2);
        }
    };
    let admin = connect(&server()).await;
    let leftovers = kept::list(&admin).await.unwrap_or_else(|e| fail(&e));
    for d in &leftovers {
        let act = drop && (templates || !d.is_template());
        if act {
            mantis_migrate::scratch::drop_database(&admin, &d.name)
                .await
                .unwrap_or_else(|e| fail(&e));
        }
        let verb = if act { "dropped " } else { "" };
        println!("{verb}{}\t{}\t{}", d.name, d.size, d.comment);
    }
    if leftovers.is_empty() {
        println!("no kept test databases or templates");
    }
}

fn fail(e: &tokio_postgres::Error) -> ! {
    eprintln!("test-databases: {e}");
    std::process::exit(1);
}
