//! Names for simulated categories, courses, people and activities.
//!
//! They are chosen to exercise what real sites throw at an integration: accents and other
//! non-ASCII text (PHP's JSON writes `\u00e9`), slashes (`\/`), quotes and ampersands, numeric
//! shortnames ("123" must stay a string), and the occasional character outside the Basic
//! Multilingual Plane (a surrogate pair in JSON).

use rand::Rng;
use rand::seq::IndexedRandom;

const FACULTIES: [&str; 12] = [
    "Faculty of Science",
    "Arts / Humanities",
    "Business & Law",
    "Medicine",
    "Engineering",
    "École d'été",
    "Languages",
    "Staff development",
    "Sprachen \"Deutsch\"",
    "Continuing education",
    "Ciências da Saúde",
    "Σχολή Θετικών Επιστημών",
];

const SUBJECTS: [(&str, &str); 16] = [
    ("Introduction to Marine Biology", "BIO"),
    ("Linear Algebra", "MATH"),
    ("Organic Chemistry", "CHEM"),
    ("European History 1815–1914", "HIST"),
    ("Français / English Translation", "LANG"),
    ("Data Structures & Algorithms", "CS"),
    ("Café Management", "HOSP"),
    ("Microeconomics", "ECON"),
    ("Anatomy I", "MED"),
    ("Statics and Dynamics", "ENG"),
    ("Academic Writing", "WRIT"),
    ("Health & Safety Induction", "HSE"),
    ("Über „Physik“", "PHYS"),
    ("Music Theory 🎵", "MUS"),
    ("Ethics in AI", "PHIL"),
    ("Introduction to Statistics", "STAT"),
];

const FIRST: [&str; 16] = [
    "Ana", "José", "Zoë", "Mohammed", "Li", "Siobhán", "Łukasz", "Amara", "Noah", "Emma", "Yuki",
    "Óscar", "Priya", "Jean-Luc", "Ingrid", "Kwame",
];

const LAST: [&str; 16] = [
    "García",
    "O'Brien",
    "Müller",
    "Nguyen",
    "Smith",
    "Kowalski",
    "Dubois",
    "Okafor",
    "Tanaka",
    "Rossi",
    "Søndergaard",
    "Khan",
    "Johnson",
    "Петров",
    "da Silva",
    "Lee",
];

const PAGES: [&str; 8] = [
    "Welcome",
    "Week 1: Getting started",
    "Reading list",
    "Assessment guide",
    "Lecture notes / slides",
    "Glossary",
    "Lab safety rules",
    "Revision tips & tricks",
];

const LINKS: [&str; 6] = [
    "Library catalogue",
    "Recorded lecture",
    "Open textbook",
    "Simulation tool",
    "Wikipedia: Photosynthesis",
    "Café discussion board",
];

fn pick<'a, R: Rng>(rng: &mut R, from: &'a [&'a str]) -> &'a str {
    from.choose(rng).copied().unwrap_or_default()
}

/// A category name and its idnumber (sometimes numeric-looking, as on real sites).
pub fn category<R: Rng>(rng: &mut R, id: i64) -> (String, String) {
    let name = format!("{} {}", pick(rng, &FACULTIES), id);
    let idnumber = match rng.random_range(0..3) {
        0 => String::new(),
        1 => format!("CAT{id:03}"),
        _ => format!("{}", 1000 + id),
    };
    (name, idnumber)
}

/// A course's fullname, shortname and idnumber. One in ten shortnames is a bare number and
/// idnumbers keep leading zeros: receivers must get them as strings.
pub fn course<R: Rng>(rng: &mut R, id: i64, year: i64) -> (String, String, String) {
    let (subject, code) = *SUBJECTS.choose(rng).unwrap_or(&SUBJECTS[0]);
    let level = rng.random_range(1..5) * 100 + id % 100;
    let fullname = format!("{subject} ({year})");
    let shortname = if rng.random_bool(0.1) {
        format!("{}", 100 + id)
    } else {
        format!("{code}{level}-{id}")
    };
    let idnumber = if rng.random_bool(0.5) {
        format!("{:04}", id % 10_000)
    } else {
        String::new()
    };
    (fullname, shortname, idnumber)
}

/// A first and last name.
pub fn person<R: Rng>(rng: &mut R) -> (String, String) {
    (pick(rng, &FIRST).to_string(), pick(rng, &LAST).to_string())
}

/// A unique, Moodle-valid username (lowercase ASCII): `s` and the user id.
pub fn username(id: i64) -> String {
    format!("s{id:06}")
}

pub fn email(username: &str) -> String {
    format!("{username}@example.org")
}

/// An activity's name for `modname` (`page` or `url`).
pub fn activity<R: Rng>(rng: &mut R, modname: &str) -> String {
    if modname == "url" {
        pick(rng, &LINKS).to_string()
    } else {
        pick(rng, &PAGES).to_string()
    }
}

/// A course summary as the editor saves it (HTML, so full of `/`).
pub fn summary<R: Rng>(rng: &mut R) -> String {
    let words = ["Welcome!", "Read the guide.", "See week 1.", "Enjoy 😊."];
    format!("<p>{}</p>", pick(rng, &words))
}

/// A client address for a web request, from the documentation ranges (RFC 5737, RFC 3849).
pub fn ip<R: Rng>(rng: &mut R) -> String {
    if rng.random_bool(0.15) {
        format!("2001:db8::{:x}", rng.random_range(1..0xffffu32))
    } else {
        let net = ["192.0.2", "198.51.100", "203.0.113"];
        format!("{}.{}", pick(rng, &net), rng.random_range(1..255))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand::rngs::StdRng;

    #[test]
    fn names_are_deterministic_and_plausible() {
        let mut a = StdRng::seed_from_u64(3);
        let mut b = StdRng::seed_from_u64(3);
        assert_eq!(course(&mut a, 42, 2026), course(&mut b, 42, 2026));
        assert_eq!(username(42), "s000042");
        let address = ip(&mut a);
        assert!(address.starts_with("2001:db8::") || address.contains('.'));
        let (name, _) = category(&mut a, 7);
        assert!(name.ends_with(" 7"));
    }
}
