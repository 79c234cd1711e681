//! `sysFlag` bits of a stored message (`MessageSysFlag`).

pub const COMPRESSED: i32 = 0x1;
pub const MULTI_TAGS: i32 = 0x2;
pub const TRANSACTION_NOT_TYPE: i32 = 0;
pub const TRANSACTION_PREPARED_TYPE: i32 = 0x4;
pub const TRANSACTION_COMMIT_TYPE: i32 = 0x8;
pub const TRANSACTION_ROLLBACK_TYPE: i32 = 0xC;
pub const BORNHOST_V6: i32 = 0x10;
pub const STOREHOST_V6: i32 = 0x20;
pub const NEED_UNWRAP: i32 = 0x40;
pub const INNER_BATCH: i32 = 0x80;

/// The transaction type bits (2 and 3) of a sysFlag.
pub fn transaction_type(sys_flag: i32) -> i32 {
    sys_flag & TRANSACTION_ROLLBACK_TYPE
}

/// Replaces the transaction type bits of a sysFlag.
pub fn with_transaction_type(sys_flag: i32, tx_type: i32) -> i32 {
    (sys_flag & !TRANSACTION_ROLLBACK_TYPE) | (tx_type & TRANSACTION_ROLLBACK_TYPE)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transaction_type_extracts_bits_two_and_three() {
        assert_eq!(
            transaction_type(0x4 | 0x1 | 0x10),
            TRANSACTION_PREPARED_TYPE
        );
        assert_eq!(transaction_type(0x2), TRANSACTION_NOT_TYPE);
        assert_eq!(
            with_transaction_type(0x4 | 0x1, TRANSACTION_COMMIT_TYPE),
            0x8 | 0x1
        );
    }
}
