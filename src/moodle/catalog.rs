//! The catalogue of Moodle core events that nosey knows by name.
//!
//! nosey reads `mdl_logstore_standard_log`, whose rows already carry `crud`, `edulevel`,
//! `objecttable` and `contextlevel`. The catalogue adds what a row cannot say: a plain-English
//! meaning for admins (`nosey events`), the keys Moodle puts in `other`, and what a webhook
//! consumer must know (above all, which rows are already gone when nosey reads the log).
//! Facts were checked against Moodle's event classes and their trigger sites (see `data`); an
//! event whose facts were not certain is left out rather than guessed.
//!
//! Things that hold for every entry:
//! - `name` is stored with a leading backslash, exactly as in the `eventname` column.
//! - `contextlevel` is `None` when the same event is logged in different contexts.
//! - Values inside `other` keep the PHP type they had at trigger time, so an id may arrive as
//!   `3` or `"3"` depending on the code path: compare ids as numbers.
//! - "The row is gone" means the row named by `objecttable`/`objectid` was deleted by the same
//!   request or task that logged the event, so only what Moodle put in `other` remains.
//!
//! Events not listed here are still delivered; they only lack a description. In particular
//! `course_module_viewed` is not a core event: each activity module defines its own,
//! `\mod_<name>\event\course_module_viewed` (for example `\mod_forum\event\course_module_viewed`),
//! with `objecttable` set to the module's own table (`forum`), crud `r`, edulevel 2 and context
//! level 70. Match those with a pattern such as `\mod_*\event\course_module_viewed`.

/// What an event did to its object, as stored in the one-letter `crud` column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Crud {
    Create,
    Read,
    Update,
    Delete,
}

impl Crud {
    /// The letter Moodle stores in the `crud` column.
    pub fn as_char(self) -> char {
        match self {
            Crud::Create => 'c',
            Crud::Read => 'r',
            Crud::Update => 'u',
            Crud::Delete => 'd',
        }
    }

    /// Reads the `crud` column back; anything but the four letters is not a Moodle value.
    pub fn from_char(c: char) -> Option<Crud> {
        match c {
            'c' => Some(Crud::Create),
            'r' => Some(Crud::Read),
            'u' => Some(Crud::Update),
            'd' => Some(Crud::Delete),
            _ => None,
        }
    }
}

/// What nosey knows about one core event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventInfo {
    /// As stored in `eventname`: `\core\event\course_created`.
    pub name: &'static str,
    /// Table of `objectid`, without the prefix; `None` when the event has no object.
    pub objecttable: Option<&'static str>,
    pub crud: Crud,
    /// 0 other, 1 teaching, 2 participating.
    pub edulevel: u8,
    /// 10 system, 30 user, 40 category, 50 course, 70 module, 80 block; `None` = varies.
    pub contextlevel: Option<u16>,
    /// One line of plain English for an admin.
    pub meaning: &'static str,
    /// Keys Moodle puts in `other` (some only in some cases, as the note says).
    pub other_keys: &'static [&'static str],
    /// What a webhook consumer must know beyond the meaning.
    pub note: Option<&'static str>,
}

mod data;

use data::EVENTS;

/// Every catalogued event, sorted by name (byte order) so that [`lookup`] can binary-search.
pub fn all() -> &'static [EventInfo] {
    EVENTS
}

/// Finds an event by its stored name (with the leading backslash).
pub fn lookup(name: &str) -> Option<&'static EventInfo> {
    EVENTS
        .binary_search_by(|e| e.name.cmp(name))
        .ok()
        .map(|i| &EVENTS[i])
}

/// The name of a `contextlevel` value, for logs and `nosey events`.
pub fn contextlevel_name(level: i64) -> &'static str {
    match level {
        10 => "system",
        30 => "user",
        40 => "category",
        50 => "course",
        70 => "module",
        80 => "block",
        _ => "unknown",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PREFIX: &str = r"\core\event\";

    #[test]
    fn sorted_and_unique() {
        for pair in all().windows(2) {
            assert!(
                pair[0].name < pair[1].name,
                "{} then {}",
                pair[0].name,
                pair[1].name
            );
        }
    }

    #[test]
    fn lookup_finds_each_entry() {
        for e in all() {
            assert!(std::ptr::eq(lookup(e.name).unwrap(), e), "{}", e.name);
        }
    }

    #[test]
    fn lookup_misses_unknown_names() {
        assert!(lookup("").is_none());
        assert!(lookup(r"\core\event\no_such_event").is_none());
        assert!(
            lookup(r"core\event\course_created").is_none(),
            "needs the backslash"
        );
        assert!(lookup(r"\mod_forum\event\course_module_viewed").is_none());
    }

    #[test]
    fn names_are_core_events() {
        for e in all() {
            let rest = e
                .name
                .strip_prefix(PREFIX)
                .unwrap_or_else(|| panic!("{}", e.name));
            assert!(is_snake_name(rest), "{}", e.name);
        }
    }

    #[test]
    fn objecttables_are_table_names() {
        for table in all().iter().filter_map(|e| e.objecttable) {
            assert!(is_snake_name(table), "{table}");
        }
    }

    #[test]
    fn levels_are_moodle_values() {
        for e in all() {
            assert!(e.edulevel <= 2, "{}", e.name);
            if let Some(level) = e.contextlevel {
                assert_ne!(contextlevel_name(level.into()), "unknown", "{}", e.name);
            }
        }
    }

    #[test]
    fn texts_are_single_sentences_and_keys_unique() {
        for e in all() {
            for text in [Some(e.meaning), e.note].into_iter().flatten() {
                assert!(text.ends_with('.') && !text.contains('\n'), "{}", e.name);
            }
            let mut keys = e.other_keys.to_vec();
            keys.sort_unstable();
            keys.dedup();
            assert_eq!(keys.len(), e.other_keys.len(), "{}", e.name);
        }
    }

    /// A delete is where a consumer is most likely to be surprised, so each one says what is left.
    #[test]
    fn every_delete_with_an_object_has_a_note() {
        for e in all() {
            if e.crud == Crud::Delete && e.objecttable.is_some() {
                assert!(e.note.is_some(), "{}", e.name);
            }
        }
    }

    #[test]
    fn brief_facts_hold() {
        let e = lookup(r"\core\event\course_deleted").unwrap();
        assert_eq!(e.objecttable, Some("course"));
        assert_eq!(
            (e.crud, e.edulevel, e.contextlevel),
            (Crud::Delete, 1, Some(50))
        );
        assert_eq!(e.other_keys, ["shortname", "fullname", "idnumber"]);
        let e = lookup(r"\core\event\role_assigned").unwrap();
        assert_eq!((e.objecttable, e.contextlevel), (Some("role"), None));
        let e = lookup(r"\core\event\course_completion_updated").unwrap();
        assert_eq!(e.objecttable, None);
        assert!(all().len() >= 23);
    }

    #[test]
    fn crud_letters_round_trip() {
        for crud in [Crud::Create, Crud::Read, Crud::Update, Crud::Delete] {
            assert_eq!(Crud::from_char(crud.as_char()), Some(crud));
        }
        assert_eq!(Crud::from_char('x'), None);
        assert_eq!(Crud::Delete.as_char(), 'd');
    }

    #[test]
    fn context_level_names() {
        let names: Vec<_> = [10, 30, 40, 50, 70, 80, 0, -1, 60]
            .into_iter()
            .map(contextlevel_name)
            .collect();
        let expected = ["system", "user", "category", "course", "module", "block"];
        assert_eq!(names[..6], expected);
        assert!(names[6..].iter().all(|n| *n == "unknown"));
    }

    /// `[a-z][a-z0-9_]*`, written out because the crate has no regex dependency.
    fn is_snake_name(s: &str) -> bool {
        let mut bytes = s.bytes();
        bytes.next().is_some_and(|b| b.is_ascii_lowercase())
            && bytes.all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
    }
}
