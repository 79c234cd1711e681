//! A pod's hash: what would make its process behave differently if it changed.
//!
//! It covers every `key=value` entry of its config file except `namesrvAddr` (brokers are
//! given a new name-server list at run time, see [`super::namesrv`]) plus whatever the driver
//! adds for the template (image, resources...). Entries are hashed sorted, so a broker that
//! rewrites its own config file (UPDATE_BROKER_CONFIG) in another order does not look changed.

/// Keys a pod's hash leaves out.
pub const UNHASHED_KEYS: &[&str] = &["namesrvAddr"];

/// FNV-1a (64 bit) of the sorted entries but [`UNHASHED_KEYS`], and of `extra`, as 16 hex
/// digits: stable across processes and releases, unlike `std`'s hasher.
pub fn pod_hash<'a>(entries: impl IntoIterator<Item = (&'a str, &'a str)>, extra: &str) -> String {
    let mut entries: Vec<(&str, &str)> = entries
        .into_iter()
        .filter(|(key, _)| !UNHASHED_KEYS.contains(key))
        .collect();
    // Stable, by key only: equal keys stay in file order.
    entries.sort_by(|a, b| a.0.cmp(b.0));
    // A later duplicate wins, as in Java's Properties: keep the last of equal keys.
    entries.dedup_by(|later, earlier| {
        let same = later.0 == earlier.0;
        if same {
            *earlier = *later;
        }
        same
    });
    let mut hash = Fnv::default();
    for (key, value) in entries {
        hash.write(key.as_bytes());
        hash.write(b"=");
        hash.write(value.as_bytes());
        hash.write(b"\n");
    }
    hash.write(b"\0");
    hash.write(extra.as_bytes());
    format!("{:016x}", hash.0)
}

struct Fnv(u64);

impl Default for Fnv {
    fn default() -> Fnv {
        Fnv(0xcbf2_9ce4_8422_2325)
    }
}

impl Fnv {
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 ^= u64::from(b);
            self.0 = self.0.wrapping_mul(0x0100_0000_01b3);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_name_server_list_and_the_order_of_entries_do_not_change_a_pods_hash() {
        let a = pod_hash([("brokerId", "0"), ("namesrvAddr", "a:9876")], "");
        let b = pod_hash([("namesrvAddr", "a:9876;b:9876"), ("brokerId", "0")], "");
        assert_eq!(a, b);
    }

    #[test]
    fn any_other_value_or_the_template_changes_it() {
        let base = pod_hash([("brokerId", "0")], "image:1");
        assert_ne!(base, pod_hash([("brokerId", "1")], "image:1"));
        assert_ne!(base, pod_hash([("brokerId", "0"), ("x", "")], "image:1"));
        assert_ne!(base, pod_hash([("brokerId", "0")], "image:2"));
        assert_ne!(pod_hash([("a", "b=c")], ""), pod_hash([("a=b", "c")], "x"));
    }

    #[test]
    fn the_last_of_repeated_keys_counts_as_in_java() {
        assert_eq!(
            pod_hash([("k", "2"), ("k", "1")], ""),
            pod_hash([("k", "1")], "")
        );
    }
}
