//! Brands that are one brand spelled several ways: beyond 003's rule (case
//! and spacing), the same name with or without accents, punctuation or a
//! company word ("Lasher" / "Lasher Tools" / "LASHER (Pty) Ltd"), or one
//! typing slip apart ("Makita" / "Makitta"). Each group comes with the merge
//! that keeps the brand most products carry.

use std::collections::BTreeMap;

use serde::Serialize;
use unicode_normalization::UnicodeNormalization;

/// Words that name the company rather than the brand.
const COMPANY_WORDS: &[&str] = &[
    "tools",
    "tool",
    "pty",
    "ltd",
    "limited",
    "inc",
    "incorporated",
    "co",
    "company",
    "corp",
    "corporation",
    "group",
    "international",
    "intl",
    "holdings",
    "gmbh",
    "ag",
    "sa",
    "bv",
    "llc",
    "plc",
    "the",
    "and",
];

/// Shortest compared name (after normalising) for which one typing slip
/// counts: shorter names differ meaningfully by one letter ("Bic" / "Bix").
const MIN_SLIP_LENGTH: usize = 6;

/// A brand as the audit sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Brand {
    /// Code (what `mantis brand merge` takes).
    pub code: String,
    /// Name.
    pub name: String,
    /// Products that carry it.
    pub products: i64,
}

/// Brands that look like one, and how to merge them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Alike {
    /// The brands, the one to keep first.
    pub brands: Vec<Brand>,
    /// Why they look alike.
    pub why: &'static str,
    /// The commands that merge the others into the first.
    pub merge: Vec<String>,
}

/// The name reduced to what tells brands apart: no accents, case,
/// punctuation or company words.
pub fn key(name: &str) -> String {
    let plain: String = name
        .nfkd()
        .filter(|c| !unicode_normalization::char::is_combining_mark(*c))
        .flat_map(char::to_lowercase)
        .map(|c| if c.is_alphanumeric() { c } else { ' ' })
        .collect();
    let words: Vec<&str> = plain
        .split_whitespace()
        .filter(|w| !COMPANY_WORDS.contains(w))
        .collect();
    if words.is_empty() {
        plain.split_whitespace().collect::<Vec<_>>().join("")
    } else {
        words.join("")
    }
}

/// Groups of brands that are probably one: the same key, or keys one slip
/// apart. Brands alone in their group are left out.
pub fn alike(brands: &[Brand]) -> Vec<Alike> {
    let mut by_key: BTreeMap<String, Vec<Brand>> = BTreeMap::new();
    for b in brands {
        by_key.entry(key(&b.name)).or_default().push(b.clone());
    }
    let keys: Vec<String> = by_key.keys().cloned().collect();
    // Union of keys one slip apart (compared within the same first letter).
    let mut group_of: BTreeMap<String, String> =
        keys.iter().map(|k| (k.clone(), k.clone())).collect();
    for (i, a) in keys.iter().enumerate() {
        for b in &keys[i + 1..] {
            if a.chars().next() != b.chars().next() {
                continue;
            }
            if a.chars().count().min(b.chars().count()) >= MIN_SLIP_LENGTH
                && strsim::damerau_levenshtein(a, b) == 1
            {
                let root = group_of[a].clone();
                let other = group_of[b].clone();
                for v in group_of.values_mut() {
                    if *v == other {
                        *v = root.clone();
                    }
                }
            }
        }
    }
    let mut groups: BTreeMap<String, (Vec<Brand>, bool)> = BTreeMap::new();
    for (k, members) in by_key {
        let root = group_of[&k].clone();
        let entry = groups.entry(root.clone()).or_default();
        entry.1 |= root != k;
        entry.0.extend(members);
    }
    groups
        .into_values()
        .filter(|(members, _)| members.len() > 1)
        .map(|(mut members, slip)| {
            members.sort_by(|a, b| b.products.cmp(&a.products).then(a.code.cmp(&b.code)));
            let keep = members[0].code.clone();
            let merge = members[1..]
                .iter()
                .map(|m| format!("mantis brand merge {} {keep}", m.code))
                .collect();
            Alike {
                brands: members,
                why: if slip {
                    "names one typing slip apart"
                } else {
                    "the same name but for accents, punctuation or company words"
                },
                merge,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn brand(code: &str, name: &str, products: i64) -> Brand {
        Brand {
            code: code.into(),
            name: name.into(),
            products,
        }
    }

    #[test]
    fn accents_case_punctuation_and_company_words_do_not_make_a_brand() {
        assert_eq!(key("Lasher"), key("Lasher Tools"));
        assert_eq!(key("LASHER (Pty) Ltd"), key("lasher"));
        assert_eq!(key("Bosch"), key("Bösch"));
        assert_eq!(key("Stanley & Co."), key("stanley"));
        assert_ne!(key("Lasher"), key("Stanley"));
        assert_eq!(
            key("The Tool Company"),
            "thetoolcompany",
            "all company words: kept whole"
        );
    }

    #[test]
    fn groups_keep_the_brand_most_products_carry() {
        let found = alike(&[
            brand("LASHER", "Lasher", 40),
            brand("LASHER_TOOLS", "Lasher Tools", 3),
            brand("MAKITA", "Makita", 12),
            brand("MAKITTA", "Makitta", 1),
            brand("BIC", "Bic", 5),
            brand("BIX", "Bix", 5),
            brand("STANLEY", "Stanley", 9),
        ]);
        assert_eq!(found.len(), 2, "{found:#?}");
        assert_eq!(found[0].brands[0].code, "LASHER");
        assert_eq!(
            found[0].merge,
            vec!["mantis brand merge LASHER_TOOLS LASHER"]
        );
        assert_eq!(found[1].brands[0].code, "MAKITA");
        assert_eq!(found[1].why, "names one typing slip apart");
        assert_eq!(found[1].merge, vec!["mantis brand merge MAKITTA MAKITA"]);
    }
}
