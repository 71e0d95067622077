//! Password lookup in the libpq password file (`PGPASSFILE` or `~/.pgpass`).
//!
//! Format (PostgreSQL docs, "The Password File"):
//! `hostname:port:database:username:password`, `*` matches anything, `\` escapes
//! `:` and `\`. As libpq does, a file readable by group or others is ignored.

use std::path::PathBuf;

use crate::connect::ConnectOptions;

/// The password for these settings from the password file, if one matches.
pub(crate) fn lookup(
    options: &ConnectOptions,
    env: &impl Fn(&str) -> Option<String>,
) -> Option<String> {
    let path = env("PGPASSFILE")
        .map(PathBuf::from)
        .or_else(|| env("HOME").map(|h| PathBuf::from(h).join(".pgpass")))?;
    if !is_private(&path) {
        tracing::debug!(path = %path.display(), "password file ignored: it is readable by group or others (chmod 0600 it)");
        return None;
    }
    let text = std::fs::read_to_string(&path).ok()?;
    find(&text, options)
}

#[cfg(unix)]
fn is_private(path: &std::path::Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).is_ok_and(|m| m.permissions().mode() & 0o077 == 0)
}

#[cfg(not(unix))]
fn is_private(_: &std::path::Path) -> bool {
    true
}

fn find(text: &str, options: &ConnectOptions) -> Option<String> {
    let host = if options.is_socket() {
        "localhost"
    } else {
        options.host.as_str()
    };
    let port = options.port.to_string();
    let wanted = [
        host,
        port.as_str(),
        options.dbname.as_str(),
        options.user.as_str(),
    ];
    text.lines()
        .filter(|l| !l.trim_start().starts_with('#'))
        .map(fields)
        .filter(|f| f.len() == 5)
        .find(|f| {
            f.iter()
                .zip(wanted)
                .all(|(have, want)| have == "*" || have == want)
        })
        .map(|mut f| f.remove(4))
}

fn fields(line: &str) -> Vec<String> {
    let mut out = vec![String::new()];
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => out
                .last_mut()
                .into_iter()
                .for_each(|f| f.extend(chars.next())),
            ':' => out.push(String::new()),
            c => out.last_mut().into_iter().for_each(|f| f.push(c)),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn options(url: &str) -> ConnectOptions {
        ConnectOptions::resolve_with(Some(url), |n| {
            (n == "PGPASSFILE").then(|| "/nonexistent".to_string())
        })
        .unwrap()
    }

    #[test]
    fn first_matching_line_wins_with_wildcards_and_escapes() {
        let text =
            "# comment\nother:5432:*:u:nope\ndb.example:*:inv:u:p\\:w\\\\d\n*:*:*:*:fallback\n";
        assert_eq!(
            find(text, &options("postgresql://u@db.example/inv")).as_deref(),
            Some("p:w\\d")
        );
        assert_eq!(
            find(text, &options("postgresql://x@else/y")).as_deref(),
            Some("fallback")
        );
    }

    #[test]
    fn sockets_match_localhost() {
        let text = "localhost:5432:d:u:sock\n";
        assert_eq!(
            find(text, &options("postgresql://u@%2Ftmp/d")).as_deref(),
            Some("sock")
        );
    }

    #[test]
    fn world_readable_files_are_ignored() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("pgpass");
        std::fs::write(&path, "*:*:*:*:secret\n").unwrap();
        let o = options("postgresql://u@h/d");
        let env = |n: &str| (n == "PGPASSFILE").then(|| path.display().to_string());
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        assert_eq!(lookup(&o, &env), None);
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        assert_eq!(lookup(&o, &env).as_deref(), Some("secret"));
    }
}
