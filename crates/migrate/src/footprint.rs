//! A migration's footprint: the objects its up file creates, read from its
//! SQL before it runs, and checked against the live catalog so that a
//! migration never adopts, overwrites or drops an object it did not create.
//!
//! Recognised (at the top level, and inside `DO` blocks, where idempotent
//! migrations create constraints and triggers): `CREATE TABLE`, `CREATE
//! [MATERIALIZED] VIEW`, `CREATE SEQUENCE`, `CREATE [UNIQUE] INDEX name ON
//! table`, `CREATE [OR REPLACE] FUNCTION|PROCEDURE`, `CREATE TYPE`, `CREATE
//! TRIGGER name … ON table`, and in `ALTER TABLE`: `ADD [COLUMN] name`, `ADD
//! CONSTRAINT name` (for a foreign key, with its columns) and `DROP
//! CONSTRAINT name`. Schemas and extensions are shared by nature and left
//! out. Function bodies are not read (they run later, not now).
//!
//! This reads words, not a parse tree: it is the stopgap until the statement
//! model comes from PostgreSQL's own parser.

use tokio_postgres::Client;

use crate::error::Error;
use crate::script::Script;
use crate::sql;
use crate::types::Conflict;

/// What a migration creates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Object {
    /// A table, view, materialized view, sequence or index (name as written,
    /// an index qualified with its table's schema).
    Relation {
        /// `table`, `view`, `index`, …
        kind: &'static str,
        /// The name.
        name: String,
    },
    /// A column added to an existing table.
    Column {
        /// The table.
        table: String,
        /// The column.
        column: String,
    },
    /// A constraint added to a table; a foreign key with its columns.
    Constraint {
        /// The table.
        table: String,
        /// The constraint.
        name: String,
        /// The columns of a foreign key (empty for other constraints).
        foreign_key: Vec<String>,
        /// The table and columns a foreign key references (`None` for other
        /// constraints, or when the reference could not be read).
        references: Option<(String, Vec<String>)>,
    },
    /// A trigger on a table.
    Trigger {
        /// The table.
        table: String,
        /// The trigger.
        name: String,
    },
    /// A function or procedure.
    Function {
        /// The name.
        name: String,
        /// Its argument types as written, one per input argument (argument
        /// names and defaults left out; each may still begin with the
        /// argument's name, which the catalog tells from a type); `None`
        /// when the list could not be read.
        args: Option<Vec<Vec<String>>>,
    },
    /// A type (enum, composite, domain-like).
    Type {
        /// The name.
        name: String,
    },
}

impl Object {
    /// Whether `other` names the same object (a constraint by its table and
    /// name, whatever its definition).
    pub fn same_object(&self, other: &Object) -> bool {
        match (self, other) {
            (
                Object::Constraint { table, name, .. },
                Object::Constraint {
                    table: t, name: n, ..
                },
            ) => table == t && split_name(name).1 == split_name(n).1,
            _ => self == other,
        }
    }
}

/// The objects an up file creates, and the constraints it drops by name.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Footprint {
    /// Created, in file order.
    pub creates: Vec<Object>,
    /// Constraints dropped by name: `(table, constraint)`.
    pub drops_constraints: Vec<(String, String)>,
    /// Tables whose rows it writes (UPDATE, INSERT INTO, DELETE FROM, MERGE
    /// INTO, and every batched statement's table), as written, each once.
    /// Words that only look like a target are weeded out by the catalog:
    /// only tables that exist are looked at.
    pub writes: Vec<String>,
}

impl Footprint {
    /// Whether the file drops constraint `name` of `table` by name: one it
    /// replaces on purpose (e.g. to give a foreign key its ON DELETE rule
    /// under the same name), so its existence is no conflict.
    pub fn drops(&self, table: &str, name: &str) -> bool {
        let (_, name) = split_name(name);
        self.drops_constraints
            .iter()
            .any(|(t, n)| t == table && split_name(n).1 == name)
    }

    /// Reads the footprint of an up file.
    pub fn of(script: &Script) -> Footprint {
        let mut footprint = Footprint::default();
        for statement in &script.statements {
            let tokens = tokens(&statement.sql);
            let mut i = 0;
            while i < tokens.len() {
                i += footprint.read_at(&tokens[i..]).max(1);
            }
        }
        for spec in script.batches.iter().flatten() {
            footprint.write(spec.table.clone());
        }
        footprint
    }

    fn write(&mut self, table: String) {
        if !self.writes.contains(&table) {
            self.writes.push(table);
        }
    }

    /// Reads what starts at `t[0]`, if anything; returns the tokens used.
    fn read_at(&mut self, t: &[String]) -> usize {
        match words(t, 2).as_slice() {
            ["create", _] => self.read_create(t),
            ["alter", "table"] => self.read_alter_table(t),
            ["update", _] => self.read_write(t, 1),
            ["insert" | "merge", "into"] | ["delete", "from"] => self.read_write(t, 2),
            _ => 0,
        }
    }

    /// The table a DML statement starting at `t[0]` writes, its name at `t[at]`.
    fn read_write(&mut self, t: &[String], at: usize) -> usize {
        let (i, name) = name_after_options(t, at);
        if let Some(name) = name {
            self.write(name);
        }
        i
    }

    fn read_create(&mut self, t: &[String]) -> usize {
        let mut i = 1;
        let skip = [
            "or",
            "replace",
            "unique",
            "unlogged",
            "constraint",
            "recursive",
        ];
        while t.get(i).is_some_and(|w| skip.contains(&w.as_str())) {
            i += 1;
        }
        let Some(kind) = t.get(i).map(String::as_str) else {
            return 0;
        };
        i += 1;
        if kind == "materialized" && word(t, i) == Some("view") {
            i += 1;
        }
        let (i, name) = name_after_options(t, i);
        let Some(name) = name else { return 0 };
        match kind {
            "table" | "view" | "materialized" | "sequence" => {
                let kind = match kind {
                    "table" => "table",
                    "view" => "view",
                    "sequence" => "sequence",
                    _ => "materialized view",
                };
                self.creates.push(Object::Relation { kind, name });
            }
            "index" => {
                if let Some(table) = after_keyword(t, i, "on") {
                    let name = qualify_like(&name, &table);
                    self.creates.push(Object::Relation {
                        kind: "index",
                        name,
                    });
                }
            }
            "function" | "procedure" => {
                let args = argument_types(t.get(i..).unwrap_or_default());
                self.creates.push(Object::Function { name, args });
            }
            "type" => self.creates.push(Object::Type { name }),
            "trigger" => {
                if let Some(table) = after_keyword(t, i, "on") {
                    self.creates.push(Object::Trigger { table, name });
                }
            }
            _ => {}
        }
        i
    }

    fn read_alter_table(&mut self, t: &[String]) -> usize {
        let (mut i, table) = name_after_options(t, 2);
        let Some(table) = table else { return 0 };
        // Actions are separated by commas outside parentheses, up to `;`.
        let mut depth = 0usize;
        let mut at_action = true;
        while let Some(token) = t.get(i).map(String::as_str) {
            match token {
                ";" if depth == 0 => break,
                "(" => depth += 1,
                ")" => depth = depth.saturating_sub(1),
                "," if depth == 0 => {
                    at_action = true;
                    i += 1;
                    continue;
                }
                _ if at_action && depth == 0 => self.read_action(&table, &t[i..]),
                _ => {}
            }
            at_action = false;
            i += 1;
        }
        i
    }

    fn read_action(&mut self, table: &str, t: &[String]) {
        let table = table.to_string();
        match words(t, 2).as_slice() {
            ["add", "constraint"] => {
                let Some(name) = t.get(2).cloned() else {
                    return;
                };
                let is_foreign_key = words(&t[3..], 2) == ["foreign", "key"];
                let foreign_key = if is_foreign_key {
                    column_list(&t[5..])
                } else {
                    Vec::new()
                };
                // `( a , b )` is 2n + 1 tokens.
                let after = t.get(5 + foreign_key.len() * 2 + 1..).unwrap_or_default();
                let references = is_foreign_key.then(|| referenced(after)).flatten();
                self.creates.push(Object::Constraint {
                    table,
                    name,
                    foreign_key,
                    references,
                });
            }
            ["add", "column"] => {
                if let (_, Some(column)) = name_after_options(t, 2) {
                    self.creates.push(Object::Column { table, column });
                }
            }
            ["add", w] if !["primary", "unique", "check", "foreign", "exclude"].contains(w) => {
                self.creates.push(Object::Column {
                    table,
                    column: (*w).to_string(),
                });
            }
            ["drop", "constraint"] => {
                if let (_, Some(name)) = name_after_options(t, 2) {
                    self.drops_constraints.push((table, name));
                }
            }
            _ => {}
        }
    }
}

/// Skips `IF [NOT] EXISTS`, `ONLY` and `CONCURRENTLY`; returns the position
/// after the (possibly qualified) name that follows, and the name.
fn name_after_options(t: &[String], mut i: usize) -> (usize, Option<String>) {
    let skip = ["if", "not", "exists", "only", "concurrently"];
    while t.get(i).is_some_and(|w| skip.contains(&w.as_str())) {
        i += 1;
    }
    let Some(first) = t.get(i).filter(|w| is_name(w)) else {
        return (i, None);
    };
    let mut name = first.clone();
    i += 1;
    while t.get(i).map(String::as_str) == Some(".") && t.get(i + 1).is_some_and(|w| is_name(w)) {
        name.push('.');
        name.push_str(&t[i + 1]);
        i += 2;
    }
    (i, Some(name))
}

/// The name after the next `keyword` (before the statement ends).
fn after_keyword(t: &[String], from: usize, keyword: &str) -> Option<String> {
    let at = t[from..]
        .iter()
        .take_while(|w| w.as_str() != ";")
        .position(|w| w == keyword)?;
    name_after_options(t, from + at + 1).1
}

/// `(a, b)` → `["a", "b"]`.
fn column_list(t: &[String]) -> Vec<String> {
    if word(t, 0) != Some("(") {
        return Vec::new();
    }
    t[1..]
        .iter()
        .take_while(|w| w.as_str() != ")")
        .filter(|w| w.as_str() != ",")
        .cloned()
        .collect()
}

/// The input arguments of `(…)` at `t[0]`, each as its tokens, without its
/// mode (IN, INOUT, VARIADIC; OUT arguments are no part of the signature)
/// and without its default.
fn argument_types(t: &[String]) -> Option<Vec<Vec<String>>> {
    if word(t, 0) != Some("(") {
        return None;
    }
    let mut args = Vec::new();
    let mut current: Vec<String> = Vec::new();
    let mut depth = 0usize;
    for token in &t[1..] {
        match token.as_str() {
            ")" if depth == 0 => {
                args.push(std::mem::take(&mut current));
                return Some(args.into_iter().filter_map(input_type).collect());
            }
            "," if depth == 0 => args.push(std::mem::take(&mut current)),
            ";" => return None,
            "(" => {
                depth += 1;
                current.push(token.clone());
            }
            ")" => {
                depth -= 1;
                current.push(token.clone());
            }
            _ => current.push(token.clone()),
        }
    }
    None
}

/// One argument's type tokens: mode and default dropped; None for an OUT
/// argument or an empty list's only "argument".
fn input_type(mut arg: Vec<String>) -> Option<Vec<String>> {
    if let Some(at) = arg.iter().position(|w| w == "default" || w == "=") {
        arg.truncate(at);
    }
    match arg.first().map(String::as_str) {
        None | Some("out") => None,
        Some("in" | "inout" | "variadic") => Some(arg[1..].to_vec()),
        Some(_) => Some(arg),
    }
}

/// `REFERENCES target (a, b)` at `t[0]` → the target and its columns (none
/// given: the target's primary key, read as `[]`).
fn referenced(t: &[String]) -> Option<(String, Vec<String>)> {
    if word(t, 0) != Some("references") {
        return None;
    }
    let (i, target) = name_after_options(t, 1);
    Some((target?, column_list(t.get(i..).unwrap_or_default())))
}

/// An index lives in its table's schema: `i` on `core.t` is `core.i`.
fn qualify_like(name: &str, table: &str) -> String {
    match table.rsplit_once('.') {
        Some((schema, _)) if !name.contains('.') => format!("{schema}.{name}"),
        _ => name.to_string(),
    }
}

fn word(t: &[String], i: usize) -> Option<&str> {
    t.get(i).map(String::as_str)
}

fn words(t: &[String], n: usize) -> Vec<&str> {
    t.iter().take(n).map(String::as_str).collect()
}

fn is_name(token: &str) -> bool {
    token
        .chars()
        .next()
        .is_some_and(|c| c.is_alphabetic() || c == '_' || c == '"')
}

/// Words (unquoted ones lower-cased, quoted ones kept with their quotes),
/// and `( ) , . ;` as tokens of their own. Comments and string literals are
/// dropped; a dollar-quoted body is read only in a `DO` block.
fn tokens(sql: &str) -> Vec<String> {
    let is_do = crate::script::leading_words(sql, 1) == ["do"];
    let chars: Vec<char> = sql.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let rest: String = chars[i..chars.len().min(i + 2)].iter().collect();
        if rest == "--" {
            i = skip_until(&chars, i, "\n");
        } else if rest == "/*" {
            i = skip_until(&chars, i + 2, "*/");
        } else if c == '\'' {
            i = skip_until(&chars, i + 1, "'");
        } else if c == '$' && dollar_tag(&chars, i).is_some() {
            let tag = dollar_tag(&chars, i).unwrap_or_default();
            // Enter a DO block's body; step over any other body whole.
            i = if is_do {
                i + tag.len()
            } else {
                skip_until(&chars, i + tag.len(), &tag)
            };
        } else if c == '"' {
            let end = skip_until(&chars, i + 1, "\"");
            out.push(chars[i..end].iter().collect());
            i = end;
        } else if "(),.;[]=".contains(c) {
            out.push(c.to_string());
            i += 1;
        } else if c.is_alphanumeric() || c == '_' {
            let end = (i..chars.len())
                .find(|&j| !(chars[j].is_alphanumeric() || chars[j] == '_' || chars[j] == '$'))
                .unwrap_or(chars.len());
            out.push(chars[i..end].iter().collect::<String>().to_lowercase());
            i = end;
        } else {
            i += 1;
        }
    }
    out
}

/// The position just after the next `end` at or after `from`.
fn skip_until(chars: &[char], from: usize, end: &str) -> usize {
    let end: Vec<char> = end.chars().collect();
    (from..chars.len())
        .find(|&j| chars[j..].starts_with(&end))
        .map_or(chars.len(), |j| j + end.len())
}

/// `$$` or `$tag$` at `i`.
fn dollar_tag(chars: &[char], i: usize) -> Option<String> {
    let close = (i + 1..chars.len()).find(|&j| !(chars[j].is_alphanumeric() || chars[j] == '_'))?;
    (chars[close] == '$').then(|| chars[i..=close].iter().collect())
}

type Param<'a> = &'a (dyn tokio_postgres::types::ToSql + Sync);

/// The objects of `footprint` that already exist in the database.
///
/// # Errors
/// [`Error::Database`] when the catalog cannot be read.
pub async fn conflicts(client: &Client, footprint: &Footprint) -> Result<Vec<Conflict>, Error> {
    let mut found = Vec::new();
    for object in &footprint.creates {
        let conflict = conflict(client, object, footprint)
            .await
            .map_err(Error::db(
                "reading the catalog for the migration's footprint",
            ))?;
        found.extend(conflict);
    }
    Ok(found)
}

/// The first column of each row of `sql`.
async fn texts(
    client: &Client,
    sql: &str,
    params: &[Param<'_>],
) -> Result<Vec<String>, tokio_postgres::Error> {
    // Every footprint query returns one text column.
    client
        .query(sql, params)
        .await?
        .iter()
        .map(|r| r.try_get(0))
        .collect()
}

async fn text(
    client: &Client,
    sql: &str,
    params: &[Param<'_>],
) -> Result<Option<String>, tokio_postgres::Error> {
    Ok(texts(client, sql, params).await?.into_iter().next())
}

fn conflict_of(found: String, resolve: String) -> Option<Conflict> {
    Some(Conflict { found, resolve })
}

async fn conflict(
    client: &Client,
    object: &Object,
    footprint: &Footprint,
) -> Result<Option<Conflict>, tokio_postgres::Error> {
    Ok(match object {
        Object::Relation { kind, name } => text(client, sql::FOOTPRINT_RELATION, &[name])
            .await?
            .and_then(|what| {
                conflict_of(
                    format!("{what} already exists; the migration creates {kind} {name}"),
                    "rename or drop it (after saving what it holds)".into(),
                )
            }),
        Object::Column { table, column } => column_conflict(client, table, column).await?,
        Object::Constraint {
            table,
            name,
            foreign_key,
            references,
        } => {
            constraint_conflict(
                client,
                table,
                name,
                foreign_key,
                references.as_ref(),
                footprint,
            )
            .await?
        }
        Object::Trigger { table, name } => text(client, sql::FOOTPRINT_TRIGGER, &[table, name])
            .await?
            .and_then(|def| {
                conflict_of(
                    format!("trigger {name} on {table} already exists ({def})"),
                    format!("rename or drop trigger {name} on {table}"),
                )
            }),
        Object::Function { name, args } => function_conflict(client, name, args.as_deref()).await?,
        Object::Type { name } => text(client, sql::FOOTPRINT_TYPE, &[name])
            .await?
            .and_then(|t| {
                conflict_of(
                    format!("type {t} already exists"),
                    format!("rename it (ALTER TYPE {t} RENAME TO …)"),
                )
            }),
    })
}

/// A column the migration adds that is already there, with how many values
/// it holds.
async fn column_conflict(
    client: &Client,
    table: &str,
    column: &str,
) -> Result<Option<Conflict>, tokio_postgres::Error> {
    let Some(kind) = text(client, sql::FOOTPRINT_COLUMN, &[&table, &column]).await? else {
        return Ok(None);
    };
    let values = column_values(client, table, column).await?;
    Ok(conflict_of(
        format!("column {table}.{column} already exists ({kind}, {values} non-null values); the migration adds it"),
        format!(
            "rename it (ALTER TABLE {table} RENAME COLUMN {} TO {}) or drop it once its values are saved elsewhere",
            crate::ident::quote_ident_readable(&split_name(column).1),
            crate::ident::quote_ident_readable(&format!("{}_legacy", split_name(column).1))
        ),
    ))
}

/// A constraint the migration adds that is already there under its name, or
/// a foreign key on the same columns under another name. A constraint the
/// file drops by name first is replaced on purpose, but only an earlier
/// migration's may be: one an applied migration created is not checked at
/// all (the caller leaves it out), and one of no migration's making passes
/// only when it is exactly the plain key an earlier migration leaves (same
/// columns, same referenced table and columns, no rules), as 001's inline
/// `REFERENCES` are. Anything else is someone else's and is refused.
async fn constraint_conflict(
    client: &Client,
    table: &str,
    name: &str,
    foreign_key: &[String],
    references: Option<&(String, Vec<String>)>,
    footprint: &Footprint,
) -> Result<Option<Conflict>, tokio_postgres::Error> {
    let (_, bare) = split_name(name);
    let Some(def) = text(client, sql::FOOTPRINT_CONSTRAINT, &[&table, &bare]).await? else {
        return same_columns_foreign_key(client, table, name, foreign_key, footprint).await;
    };
    if !footprint.drops(table, name) {
        return Ok(conflict_of(
            format!("constraint {name} on {table} already exists ({def}); the migration adds its own under that name, which would fail"),
            format!("rename it ({}) or drop it after checking what relies on it", rename_constraint(table, name)),
        ));
    }
    if is_plain_key(client, table, name, foreign_key, references).await? {
        return same_columns_foreign_key(client, table, name, foreign_key, footprint).await;
    }
    Ok(conflict_of(
        format!(
            "constraint {name} on {table} already exists ({def}) and no migration of the set made it; \
             the migration drops it by name to add its own, and would lose it"
        ),
        format!(
            "rename it ({}) so the migration leaves it alone, or drop it after checking what relies on it",
            rename_constraint(table, name)
        ),
    ))
}

/// `ALTER TABLE t RENAME CONSTRAINT c TO c_legacy`, every name quoted as needed.
fn rename_constraint(table: &str, name: &str) -> String {
    let (_, bare) = split_name(name);
    format!(
        "ALTER TABLE {table} RENAME CONSTRAINT {} TO {}",
        crate::ident::quote_ident_readable(&bare),
        crate::ident::quote_ident_readable(&format!("{bare}_legacy"))
    )
}

/// Whether constraint `name` of `table` is a plain foreign key (no ON
/// DELETE / ON UPDATE rule, MATCH SIMPLE, not deferrable) on `columns`,
/// referencing what the migration's own key references.
async fn is_plain_key(
    client: &Client,
    table: &str,
    name: &str,
    columns: &[String],
    references: Option<&(String, Vec<String>)>,
) -> Result<bool, tokio_postgres::Error> {
    let Some((target, target_columns)) = references else {
        return Ok(false);
    };
    let bare = |list: &[String]| list.iter().map(|c| split_name(c).1).collect::<Vec<_>>();
    let (_, name) = split_name(name);
    let found = text(
        client,
        sql::FOOTPRINT_PLAIN_FOREIGN_KEY,
        &[&table, &name, target, &bare(columns), &bare(target_columns)],
    )
    .await?;
    Ok(found.is_some())
}

/// A function the migration would replace: the one with its name and
/// argument types, when the types can be told; else any of its name (an
/// overload with other arguments is no conflict: CREATE OR REPLACE makes a
/// new function beside it).
async fn function_conflict(
    client: &Client,
    name: &str,
    args: Option<&[Vec<String>]>,
) -> Result<Option<Conflict>, tokio_postgres::Error> {
    let found = match signature(client, name, args).await {
        Some(signature) => text(client, sql::FOOTPRINT_PROCEDURE, &[&signature])
            .await
            .unwrap_or(None),
        None => {
            let (schema, bare) = split_name(name);
            text(client, sql::FOOTPRINT_FUNCTION, &[&schema, &bare]).await?
        }
    };
    Ok(found.and_then(|f| {
        conflict_of(
            format!(
                "function {f} already exists; the migration would replace it (CREATE OR REPLACE)"
            ),
            format!("rename it (ALTER FUNCTION {f} RENAME TO …) and update what calls it"),
        )
    }))
}

/// `name(type, …)` with each argument's type as the catalog names it, or
/// None when an argument's type cannot be told (a type the migration
/// creates, an unusual spelling).
async fn signature(client: &Client, name: &str, args: Option<&[Vec<String>]>) -> Option<String> {
    let mut types = Vec::new();
    for arg in args? {
        // `value text` (a name, then the type) or `double precision` (a type).
        let candidates = [arg.get(1..).map(joined), Some(joined(arg))];
        let mut resolved = None;
        for candidate in candidates.into_iter().flatten().filter(|c| !c.is_empty()) {
            // to_regtype raises on a syntax error before PostgreSQL 16.
            if let Ok(Some(t)) = text(client, sql::FOOTPRINT_REGTYPE, &[&candidate]).await {
                resolved = Some(t);
                break;
            }
        }
        types.push(resolved?);
    }
    Some(format!("{name}({})", types.join(", ")))
}

/// Tokens as SQL: words spaced, punctuation not.
fn joined(tokens: &[String]) -> String {
    let mut out = String::new();
    for (i, t) in tokens.iter().enumerate() {
        let tight = |w: &str| "(),.[]".contains(w);
        if i > 0 && !tight(t) && !tight(&tokens[i - 1]) {
            out.push(' ');
        }
        out.push_str(t);
    }
    out
}

/// How many rows hold a value in an existing column.
async fn column_values(
    client: &Client,
    table: &str,
    column: &str,
) -> Result<i64, tokio_postgres::Error> {
    let Some(regclass) = text(client, sql::FOOTPRINT_REGCLASS, &[&table]).await? else {
        return Ok(0);
    };
    let (_, column) = split_name(column);
    let count = format!(
        "SELECT count({}) AS non_null FROM {regclass}",
        crate::ident::quote_ident(&column)
    );
    client.query_one(&count, &[]).await?.try_get("non_null")
}

/// A foreign key on the same columns under another name, which the
/// migration does not drop: adding its own would leave two.
async fn same_columns_foreign_key(
    client: &Client,
    table: &str,
    name: &str,
    columns: &[String],
    footprint: &Footprint,
) -> Result<Option<Conflict>, tokio_postgres::Error> {
    if columns.is_empty() {
        return Ok(None);
    }
    let columns: Vec<String> = columns.iter().map(|c| split_name(c).1).collect();
    let existing = texts(client, sql::FOOTPRINT_FOREIGN_KEYS_ON, &[&table, &columns]).await?;
    Ok(existing.into_iter().find(|other| !footprint.drops(table, other)).and_then(|other| {
        conflict_of(
            format!(
                "a foreign key on {table} ({}) already exists as {other}; the migration adds its own, {name}, \
                 and would leave both (so the ON DELETE rule it sets could never act)",
                columns.join(", ")
            ),
            format!(
                "drop or rename {other} (ALTER TABLE {table} DROP CONSTRAINT {}) after checking what relies on it",
                crate::ident::quote_ident_readable(&other)
            ),
        )
    }))
}

/// `core.name` → (`core`, `name`); unqualified → (``, `name`); quotes removed.
fn split_name(name: &str) -> (String, String) {
    let unquote = |s: &str| {
        s.strip_prefix('"')
            .and_then(|s| s.strip_suffix('"'))
            .map_or_else(|| s.to_string(), |s| s.replace("\"\"", "\""))
    };
    match name.rsplit_once('.') {
        Some((schema, bare)) => (unquote(schema), unquote(bare)),
        None => (String::new(), unquote(name)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::script::ScriptKind;

    fn footprint(sql: &str) -> Footprint {
        Footprint::of(&Script::parse("f.up.sql", sql, ScriptKind::Up).unwrap())
    }

    fn relation(kind: &'static str, name: &str) -> Object {
        Object::Relation {
            kind,
            name: name.into(),
        }
    }

    #[test]
    fn creates_are_read_with_their_names() {
        let f = footprint(
            "-- mantis: no-transaction\nCREATE TABLE IF NOT EXISTS core.brand (id uuid, CONSTRAINT x CHECK (true));\n\
             CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS brand_key ON core.brand (lower(name));\n\
             CREATE OR REPLACE FUNCTION core.f(a int) RETURNS int LANGUAGE sql AS $$ CREATE TABLE no_t (); SELECT 1 $$;\n\
             CREATE TYPE core.kind AS ENUM ('a');\n\
             CREATE MATERIALIZED VIEW core.mv AS SELECT 1;\n\
             CREATE TRIGGER trg BEFORE UPDATE ON core.brand FOR EACH ROW EXECUTE FUNCTION core.f();",
        );
        assert_eq!(
            f.creates,
            [
                relation("table", "core.brand"),
                relation("index", "core.brand_key"),
                Object::Function {
                    name: "core.f".into(),
                    args: Some(vec![vec!["a".into(), "int".into()]]),
                },
                Object::Type {
                    name: "core.kind".into()
                },
                relation("materialized view", "core.mv"),
                Object::Trigger {
                    table: "core.brand".into(),
                    name: "trg".into()
                },
            ]
        );
    }

    #[test]
    fn alter_table_actions_and_do_blocks_are_read() {
        let f = footprint(
            "ALTER TABLE core.soh ADD COLUMN IF NOT EXISTS cost numeric(20,6), ADD total numeric, \
             ADD CONSTRAINT soh_cost CHECK (cost >= 0) NOT VALID;\n\
             DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_constraint WHERE conname = 'fk_x') THEN \
             ALTER TABLE core.soh ADD CONSTRAINT fk_x FOREIGN KEY (product_id) REFERENCES core.p (id); \
             END IF; END $$;\n\
             ALTER TABLE core.soh DROP CONSTRAINT IF EXISTS soh_product_id_fkey;",
        );
        assert_eq!(
            f.creates,
            [
                Object::Column {
                    table: "core.soh".into(),
                    column: "cost".into()
                },
                Object::Column {
                    table: "core.soh".into(),
                    column: "total".into()
                },
                Object::Constraint {
                    table: "core.soh".into(),
                    name: "soh_cost".into(),
                    foreign_key: vec![],
                    references: None,
                },
                Object::Constraint {
                    table: "core.soh".into(),
                    name: "fk_x".into(),
                    foreign_key: vec!["product_id".into()],
                    references: Some(("core.p".into(), vec!["id".into()])),
                },
            ]
        );
        assert_eq!(
            f.drops_constraints,
            [("core.soh".to_string(), "soh_product_id_fkey".to_string())]
        );
    }

    #[test]
    fn a_foreign_key_is_read_with_what_it_references() {
        let f = footprint(
            "ALTER TABLE core.t ADD CONSTRAINT \"T_fk\" FOREIGN KEY (a, b) REFERENCES core.u; \
             ALTER TABLE core.t DROP CONSTRAINT IF EXISTS \"T_fk\";",
        );
        assert_eq!(
            f.creates,
            [Object::Constraint {
                table: "core.t".into(),
                name: "\"T_fk\"".into(),
                foreign_key: vec!["a".into(), "b".into()],
                references: Some(("core.u".into(), vec![])),
            }]
        );
        assert!(f.drops("core.t", "T_fk"), "a quoted name is the same name");
        let other = Object::Constraint {
            table: "core.t".into(),
            name: "T_fk".into(),
            foreign_key: vec![],
            references: None,
        };
        assert!(f.creates[0].same_object(&other));
    }

    #[test]
    fn a_function_is_read_with_its_input_argument_types() {
        let f = footprint(
            "CREATE OR REPLACE FUNCTION core.g(IN value text, OUT ok boolean, n numeric(20,6) DEFAULT 0, \
             VARIADIC tags text[] = '{}') RETURNS record LANGUAGE sql AS $$ SELECT true, 1 $$;\n\
             CREATE FUNCTION core.h() RETURNS int LANGUAGE sql AS $$ SELECT 1 $$;",
        );
        let args = |f: &Object| match f {
            Object::Function { args, .. } => args.clone(),
            _ => None,
        };
        let g = args(&f.creates[0]).unwrap();
        let joined: Vec<String> = g.iter().map(|a| joined(a)).collect();
        assert_eq!(joined, ["value text", "n numeric(20,6)", "tags text[]"]);
        assert_eq!(args(&f.creates[1]), Some(vec![]));
    }
}
