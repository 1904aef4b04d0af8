//! Grouping many requests' row changes into few, large statements without changing what
//! the database ends up holding.
//!
//! Moodle's tables have no foreign keys, so changes to different tables never depend on each
//! other; within a table, a change may join an earlier group of the same kind (and the same
//! columns) when it commutes with every group in between. Two changes commute when they touch
//! different ids, except that an insert never moves before a delete: the delete may free the
//! unique key (`enrolid, userid`) the insert takes, as a re-enrolment does. Updates never
//! change unique-key columns (the simulator's contract, see [`Change`]).

use std::collections::{HashMap, HashSet};

use super::request::{Change, SqlValue};

/// How far back a change looks for a group to join: groups are few per table in practice,
/// and the bound keeps a pathological stream linear.
const MAX_LOOKBACK: usize = 64;

/// One statement's worth of same-kind changes to one table.
#[derive(Debug)]
pub enum Group<'a> {
    Insert {
        columns: Vec<&'static str>,
        rows: Vec<Vec<&'a SqlValue>>,
    },
    Update {
        columns: Vec<&'static str>,
        rows: Vec<(i64, Vec<&'a SqlValue>)>,
    },
    Delete {
        ids: Vec<i64>,
    },
}

impl<'a> Group<'a> {
    fn start(change: &'a Change) -> Group<'a> {
        match change {
            Change::Insert { values, .. } => Group::Insert {
                columns: values.iter().map(|(c, _)| *c).collect(),
                rows: vec![values.iter().map(|(_, v)| v).collect()],
            },
            Change::Update { id, set, .. } => Group::Update {
                columns: set.iter().map(|(c, _)| *c).collect(),
                rows: vec![(*id, set.iter().map(|(_, v)| v).collect())],
            },
            Change::Delete { id, .. } => Group::Delete { ids: vec![*id] },
        }
    }

    /// Adds `change` if it is of this group's kind and columns.
    fn try_join(&mut self, change: &'a Change) -> bool {
        match (self, change) {
            (Group::Insert { columns, rows }, Change::Insert { values, .. })
                if same_columns(columns, values) =>
            {
                rows.push(values.iter().map(|(_, v)| v).collect());
                true
            }
            (Group::Update { columns, rows }, Change::Update { id, set, .. })
                if same_columns(columns, set) =>
            {
                rows.push((*id, set.iter().map(|(_, v)| v).collect()));
                true
            }
            (Group::Delete { ids }, Change::Delete { id, .. }) => {
                ids.push(*id);
                true
            }
            _ => false,
        }
    }
}

fn same_columns(columns: &[&'static str], values: &[(&'static str, SqlValue)]) -> bool {
    columns.len() == values.len() && columns.iter().zip(values).all(|(a, (b, _))| a == b)
}

/// A group and the ids it touches.
#[derive(Debug)]
struct Slot<'a> {
    group: Group<'a>,
    ids: HashSet<i64>,
}

impl Slot<'_> {
    /// Whether `change` (on row `id`) may move before this group.
    fn commutes_with(&self, change: &Change, id: Option<i64>) -> bool {
        let same_row = id.is_some_and(|id| self.ids.contains(&id));
        let insert_past_delete =
            matches!(self.group, Group::Delete { .. }) && matches!(change, Change::Insert { .. });
        !same_row && !insert_past_delete
    }
}

/// The changes of a run of requests, grouped per table.
#[derive(Debug, Default)]
pub struct Plan<'a> {
    tables: Vec<(&'static str, Vec<Slot<'a>>)>,
    index: HashMap<&'static str, usize>,
    changes: usize,
}

impl<'a> Plan<'a> {
    pub fn add(&mut self, change: &'a Change) {
        self.changes += 1;
        let table = change.table();
        let at = *self.index.entry(table).or_insert_with(|| {
            self.tables.push((table, Vec::new()));
            self.tables.len() - 1
        });
        let slots = &mut self.tables[at].1;
        let id = change.id();
        let start = slots.len().saturating_sub(MAX_LOOKBACK);
        for slot in slots[start..].iter_mut().rev() {
            let joinable = id.is_none_or(|id| !slot.ids.contains(&id));
            if joinable && slot.group.try_join(change) {
                slot.ids.extend(id);
                return;
            }
            if !slot.commutes_with(change, id) {
                break;
            }
        }
        slots.push(Slot {
            group: Group::start(change),
            ids: id.into_iter().collect(),
        });
    }

    /// Changes added so far.
    pub fn changes(&self) -> usize {
        self.changes
    }

    /// The groups to execute, table by table, each table's groups in order.
    pub fn groups(&self) -> impl Iterator<Item = (&'static str, &Group<'a>)> {
        self.tables
            .iter()
            .flat_map(|(table, slots)| slots.iter().map(move |s| (*table, &s.group)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ins(table: &'static str, id: i64) -> Change {
        Change::Insert {
            table,
            values: vec![("id", SqlValue::Int(id)), ("x", SqlValue::Int(1))],
        }
    }

    fn del(table: &'static str, id: i64) -> Change {
        Change::Delete { table, id }
    }

    fn upd(table: &'static str, id: i64) -> Change {
        Change::Update {
            table,
            id,
            set: vec![("x", SqlValue::Int(2))],
        }
    }

    fn shape(plan: &Plan<'_>) -> Vec<String> {
        plan.groups()
            .map(|(t, g)| match g {
                Group::Insert { rows, .. } => format!("{t}:I{}", rows.len()),
                Group::Update { rows, .. } => format!("{t}:U{}", rows.len()),
                Group::Delete { ids } => format!("{t}:D{}", ids.len()),
            })
            .collect()
    }

    #[test]
    fn same_kind_changes_merge_across_other_tables() {
        let changes = [
            ins("a", 1),
            ins("b", 1),
            ins("a", 2),
            upd("a", 1),
            ins("a", 3),
        ];
        let mut plan = Plan::default();
        changes.iter().for_each(|c| plan.add(c));
        assert_eq!(shape(&plan), ["a:I3", "a:U1", "b:I1"]);
    }

    #[test]
    fn an_update_waits_for_its_insert_and_a_delete_for_its_update() {
        let changes = [
            upd("a", 9),
            ins("a", 1),
            upd("a", 1),
            del("a", 1),
            upd("a", 8),
        ];
        let mut plan = Plan::default();
        changes.iter().for_each(|c| plan.add(c));
        // The update of row 1 must follow its insert and the delete its update; update 8
        // moves back past the delete into the nearest group that takes it.
        assert_eq!(shape(&plan), ["a:U1", "a:I1", "a:U2", "a:D1"]);
    }

    #[test]
    fn inserts_never_move_before_deletes() {
        let changes = [ins("ue", 1), del("ue", 5), ins("ue", 2), del("ue", 6)];
        let mut plan = Plan::default();
        changes.iter().for_each(|c| plan.add(c));
        // Delete 6 may move back past insert 2; insert 2 may not pass delete 5.
        assert_eq!(shape(&plan), ["ue:I1", "ue:D2", "ue:I1"]);
    }
}
