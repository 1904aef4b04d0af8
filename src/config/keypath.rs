//! Naming the key a problem is about, in the words of the file:
//! `route "crm": retry.schedule[2]`, `moodle.batch_size`.

use toml::Spanned;
use toml::de::{DeTable, DeValue};

use super::validate::is_route_name;

/// One step of a path into the document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Seg {
    Key(String),
    Index(usize),
}

/// How a route is called in messages: by its name when it has a usable one,
/// else by its position among the `[[route]]` tables.
pub(crate) fn route_label(index: usize, name: Option<&str>) -> String {
    match name {
        Some(n) if is_route_name(n) => format!("route \"{n}\""),
        _ => format!("[[route]] #{}", index + 1),
    }
}

/// Renders a path; `route_name` is the name of the route the path is in, if any.
pub(crate) fn render(segs: &[Seg], route_name: Option<&str>) -> String {
    if let [Seg::Key(k), Seg::Index(i), rest @ ..] = segs
        && k == "route"
    {
        let label = route_label(*i, route_name);
        return if rest.is_empty() {
            label
        } else {
            format!("{label}: {}", join(rest))
        };
    }
    join(segs)
}

fn join(segs: &[Seg]) -> String {
    let mut out = String::new();
    for s in segs {
        match s {
            Seg::Key(k) if out.is_empty() => out.push_str(k),
            Seg::Key(k) => {
                out.push('.');
                out.push_str(k);
            }
            Seg::Index(i) => out.push_str(&format!("[{i}]")),
        }
    }
    out
}

/// The name of the route at `index`, as written in the document.
pub(crate) fn route_name<'a>(doc: &'a DeTable<'_>, index: usize) -> Option<&'a str> {
    let routes = entry(doc, "route")?.get_ref().as_array()?;
    let route = routes.get(index)?.get_ref().as_table()?;
    entry(route, "name")?.get_ref().as_str()
}

fn entry<'a, 'i>(table: &'a DeTable<'i>, key: &str) -> Option<&'a Spanned<DeValue<'i>>> {
    table
        .iter()
        .find(|(k, _)| k.get_ref().as_ref() == key)
        .map(|(_, v)| v)
}

/// The key at byte offset `pos` of the text, rendered, if any key or value
/// there. The deepest match wins: table headers span only the header line.
pub(crate) fn at(doc: &DeTable<'_>, pos: usize) -> Option<String> {
    let mut best = None;
    walk_table(doc, pos, &mut Vec::new(), &mut best);
    let segs = best?;
    let name = match segs.as_slice() {
        [Seg::Key(k), Seg::Index(i), ..] if k == "route" => route_name(doc, *i),
        _ => None,
    };
    Some(render(&segs, name))
}

fn walk_table(t: &DeTable<'_>, pos: usize, path: &mut Vec<Seg>, best: &mut Option<Vec<Seg>>) {
    for (k, v) in t.iter() {
        path.push(Seg::Key(k.get_ref().to_string()));
        if contains(k.span(), pos) || contains(v.span(), pos) {
            consider(path, best);
        }
        walk_value(v.get_ref(), pos, path, best);
        path.pop();
    }
}

fn walk_value(v: &DeValue<'_>, pos: usize, path: &mut Vec<Seg>, best: &mut Option<Vec<Seg>>) {
    match v {
        DeValue::Table(t) => walk_table(t, pos, path, best),
        DeValue::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                path.push(Seg::Index(i));
                if contains(item.span(), pos) {
                    consider(path, best);
                }
                walk_value(item.get_ref(), pos, path, best);
                path.pop();
            }
        }
        _ => {}
    }
}

fn contains(span: std::ops::Range<usize>, pos: usize) -> bool {
    span.contains(&pos) || (span.is_empty() && span.start == pos)
}

fn consider(path: &[Seg], best: &mut Option<Vec<Seg>>) {
    if best.as_ref().is_none_or(|b| b.len() < path.len()) {
        *best = Some(path.to_vec());
    }
}

/// 1-based line and column (in characters) of a byte offset.
pub(crate) fn line_col(text: &str, pos: usize) -> (usize, usize) {
    let before = text.get(..pos).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let col = before[line_start..].chars().count() + 1;
    (line, col)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_routes_by_name() {
        let segs = [
            Seg::Key("route".into()),
            Seg::Index(0),
            Seg::Key("retry".into()),
            Seg::Key("schedule".into()),
            Seg::Index(2),
        ];
        assert_eq!(
            render(&segs, Some("crm")),
            "route \"crm\": retry.schedule[2]"
        );
        assert_eq!(
            render(&segs, Some("Bad Name")),
            "[[route]] #1: retry.schedule[2]"
        );
        let segs = [Seg::Key("moodle".into()), Seg::Key("batch_size".into())];
        assert_eq!(render(&segs, None), "moodle.batch_size");
    }

    #[test]
    fn finds_the_key_at_a_position() {
        let text =
            "[moodle]\nurl = 'x'\n[[route]]\nname = 'crm'\nretry = { schedule = ['1s', 'zz'] }\n";
        let doc = DeTable::parse(text).unwrap();
        let pos = text.find("'zz'").unwrap() + 1;
        assert_eq!(
            at(doc.get_ref(), pos).unwrap(),
            "route \"crm\": retry.schedule[1]"
        );
        let pos = text.find("url").unwrap();
        assert_eq!(at(doc.get_ref(), pos).unwrap(), "moodle.url");
    }

    #[test]
    fn line_and_column() {
        assert_eq!(line_col("ab\ncd", 4), (2, 2));
        assert_eq!(line_col("é\nx", 3), (2, 1));
        assert_eq!(line_col("", 10), (1, 1));
    }
}
