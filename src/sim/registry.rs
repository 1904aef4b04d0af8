//! A set of live rows keyed by id, with O(1) lookup, removal and uniform random choice.
//!
//! The simulator picks a random enrolment or course on every request of a million-row run,
//! so scanning an ordered map would dominate. Iteration follows the vector, never the hash
//! map, so the same seed always yields the same choices.

use std::collections::HashMap;

use rand::Rng;

/// Rows that know their own id.
pub trait Keyed {
    fn id(&self) -> i64;
}

#[derive(Debug, Clone)]
pub struct Registry<T> {
    items: Vec<T>,
    index: HashMap<i64, usize>,
}

impl<T> Default for Registry<T> {
    fn default() -> Self {
        Registry {
            items: Vec::new(),
            index: HashMap::new(),
        }
    }
}

impl<T: Keyed> Registry<T> {
    pub fn insert(&mut self, item: T) {
        let id = item.id();
        debug_assert!(!self.index.contains_key(&id), "id {id} inserted twice");
        self.index.insert(id, self.items.len());
        self.items.push(item);
    }

    pub fn remove(&mut self, id: i64) -> Option<T> {
        let pos = self.index.remove(&id)?;
        let item = self.items.swap_remove(pos);
        if let Some(moved) = self.items.get(pos) {
            self.index.insert(moved.id(), pos);
        }
        Some(item)
    }

    pub fn get(&self, id: i64) -> Option<&T> {
        self.index.get(&id).map(|&i| &self.items[i])
    }

    pub fn get_mut(&mut self, id: i64) -> Option<&mut T> {
        self.index.get(&id).map(|&i| &mut self.items[i])
    }

    pub fn contains(&self, id: i64) -> bool {
        self.index.contains_key(&id)
    }

    /// A uniformly chosen row, or `None` when empty.
    pub fn pick<R: Rng>(&self, rng: &mut R) -> Option<&T> {
        if self.items.is_empty() {
            None
        } else {
            Some(&self.items[rng.random_range(0..self.items.len())])
        }
    }

    /// Up to `tries` random picks, the first that satisfies `ok`.
    pub fn pick_where<R: Rng>(
        &self,
        rng: &mut R,
        tries: usize,
        ok: impl Fn(&T) -> bool,
    ) -> Option<&T> {
        (0..tries).filter_map(|_| self.pick(rng)).find(|t| ok(t))
    }

    pub fn len(&self) -> usize {
        self.items.len()
    }

    pub fn iter(&self) -> impl Iterator<Item = &T> {
        self.items.iter()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand::rngs::StdRng;

    #[derive(Debug, PartialEq)]
    struct Row(i64);
    impl Keyed for Row {
        fn id(&self) -> i64 {
            self.0
        }
    }

    #[test]
    fn removal_keeps_the_index_right() {
        let mut r = Registry::default();
        for id in 1..=5 {
            r.insert(Row(id));
        }
        assert_eq!(r.remove(2), Some(Row(2)));
        assert_eq!(r.remove(2), None);
        assert_eq!(r.get(5), Some(&Row(5)));
        assert_eq!(r.len(), 4);
        assert!(!r.contains(2));
        let mut rng = StdRng::seed_from_u64(1);
        assert!((0..50).all(|_| r.pick(&mut rng).is_some_and(|row| row.0 != 2)));
    }
}
