//! Request bodies: the `nosey` body, the 2016 plugin's exact `seed` bytes, and CloudEvents.

pub mod php_json;
