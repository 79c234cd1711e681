//! Retention decisions, as a pure function of file ages, the clock and disk usage.

/// Why files are deleted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reason {
    /// It is one of the `deleteWhen` hours.
    DeleteHour,
    /// Disk usage passed `diskMaxUsedSpaceRatio`.
    DiskUsage,
    /// Disk usage passed `diskSpaceCleanForciblyRatio`: age no longer protects files.
    Forced,
    /// An operator asked for it (DELETE_EXPIRED_COMMITLOG): expired files go whatever the hour.
    Manual,
}

/// What a retention pass looks at.
#[derive(Debug, Clone)]
pub struct Inputs<'a> {
    /// Last-modified time of each commit log file, oldest file first.
    pub file_modified_ms: &'a [Option<i64>],
    pub now_ms: i64,
    pub reserved_ms: i64,
    /// `deleteWhen`: `;`-separated hours (UTC).
    pub delete_hours: &'a str,
    pub disk_used_ratio: f64,
    pub disk_max_used_ratio: f64,
    pub clean_forcibly_ratio: f64,
    pub batch_max: usize,
    /// An operator asked for a pass now: the hour does not matter, the age still does.
    pub manual: bool,
}

/// The retention keys that may change while the store runs (UPDATE_BROKER_CONFIG): each pass
/// reads them afresh.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// `fileReservedTime` in hours.
    pub file_reserved_time_hours: u64,
    /// `deleteWhen`: `;`-separated hours.
    pub delete_when: String,
    /// `diskMaxUsedSpaceRatio` in percent.
    pub disk_max_used_space_ratio: u32,
}

impl Settings {
    /// The settings `config` starts with.
    pub fn of(config: &crate::StoreConfig) -> Settings {
        Settings {
            file_reserved_time_hours: config.file_reserved_time_hours,
            delete_when: config.delete_when.clone(),
            disk_max_used_space_ratio: config.disk_max_used_space_ratio,
        }
    }
}

/// How many of the oldest files to delete, and why.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Plan {
    pub delete: usize,
    pub reason: Option<Reason>,
}

/// Decides how many of the oldest commit log files to delete. Never the newest file (it is being
/// written); only a prefix of the files, so the log stays contiguous.
pub fn plan(i: &Inputs<'_>) -> Plan {
    let hour = (i.now_ms.div_euclid(3_600_000)).rem_euclid(24);
    let is_hour = i
        .delete_hours
        .split(';')
        .filter_map(|h| h.trim().parse::<i64>().ok())
        .any(|h| h == hour);
    let reason = if i.disk_used_ratio > i.clean_forcibly_ratio {
        Some(Reason::Forced)
    } else if i.disk_used_ratio > i.disk_max_used_ratio {
        Some(Reason::DiskUsage)
    } else if is_hour {
        Some(Reason::DeleteHour)
    } else if i.manual {
        Some(Reason::Manual)
    } else {
        None
    };
    let Some(reason) = reason else {
        return Plan {
            delete: 0,
            reason: None,
        };
    };
    let candidates = i.file_modified_ms.len().saturating_sub(1);
    let mut delete = 0;
    for modified in i.file_modified_ms.iter().take(candidates) {
        let expired = modified.is_some_and(|m| m + i.reserved_ms < i.now_ms);
        if !(expired || reason == Reason::Forced) || delete >= i.batch_max {
            break;
        }
        delete += 1;
    }
    Plan {
        delete,
        reason: Some(reason),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOUR: i64 = 3_600_000;

    fn inputs(files: &[Option<i64>], now_ms: i64, ratio: f64) -> Inputs<'_> {
        Inputs {
            file_modified_ms: files,
            now_ms,
            reserved_ms: 72 * HOUR,
            delete_hours: "04",
            disk_used_ratio: ratio,
            disk_max_used_ratio: 0.75,
            clean_forcibly_ratio: 0.85,
            batch_max: 10,
            manual: false,
        }
    }

    #[test]
    fn a_manual_pass_deletes_expired_files_outside_the_hour_and_never_young_ones() {
        let now = 100 * 24 * HOUR + 9 * HOUR;
        let files = [Some(now - 80 * HOUR), Some(now - 10 * HOUR), Some(now)];
        assert_eq!(plan(&inputs(&files, now, 0.1)).delete, 0);
        let manual = Inputs {
            manual: true,
            ..inputs(&files, now, 0.1)
        };
        assert_eq!(
            plan(&manual),
            Plan {
                delete: 1,
                reason: Some(Reason::Manual)
            }
        );
    }

    #[test]
    fn at_the_delete_hour_only_files_older_than_the_reserved_time_go() {
        let now = 100 * 24 * HOUR + 4 * HOUR;
        let files = [
            Some(now - 80 * HOUR),
            Some(now - 73 * HOUR),
            Some(now - 10 * HOUR),
            Some(now),
        ];
        assert_eq!(
            plan(&inputs(&files, now, 0.1)),
            Plan {
                delete: 2,
                reason: Some(Reason::DeleteHour)
            }
        );
    }

    #[test]
    fn outside_the_delete_hour_with_free_disk_nothing_goes() {
        let now = 100 * 24 * HOUR + 5 * HOUR;
        let files = [Some(0), Some(0)];
        assert_eq!(plan(&inputs(&files, now, 0.5)).delete, 0);
    }

    #[test]
    fn the_newest_file_is_never_deleted_even_when_forced() {
        let now = 100 * 24 * HOUR + 5 * HOUR;
        let files = [Some(now), Some(now), Some(now)];
        assert_eq!(
            plan(&inputs(&files, now, 0.9)),
            Plan {
                delete: 2,
                reason: Some(Reason::Forced)
            }
        );
        assert_eq!(plan(&inputs(&files[..1], now, 0.99)).delete, 0);
    }

    #[test]
    fn high_disk_usage_deletes_expired_files_at_any_hour_but_keeps_young_ones() {
        let now = 100 * 24 * HOUR + 13 * HOUR;
        let files = [Some(now - 100 * HOUR), Some(now - HOUR), Some(now)];
        assert_eq!(
            plan(&inputs(&files, now, 0.8)),
            Plan {
                delete: 1,
                reason: Some(Reason::DiskUsage)
            }
        );
    }

    #[test]
    fn deletion_stops_at_the_batch_limit_and_at_the_first_young_file() {
        let now = 100 * 24 * HOUR + 4 * HOUR;
        let mut files = vec![Some(0); 20];
        files.push(Some(now));
        let mut i = inputs(&files, now, 0.1);
        i.batch_max = 3;
        assert_eq!(plan(&i).delete, 3);
        let files = [Some(0), Some(now), Some(0), Some(now)];
        assert_eq!(plan(&inputs(&files, now, 0.1)).delete, 1);
    }
}
