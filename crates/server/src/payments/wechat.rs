//! The WeChat Pay API v3 notification format lives in `jingtong-wechatpay` (pure, fuzzed); this
//! adds the local provider's keys.

pub use jingtong_wechatpay::*;

/// Builds and signs a `TRANSACTION.SUCCESS` notification with the local provider's keys.
pub fn build_notification(keys: &super::keys::ProviderKeys, params: &NotifyParams) -> SignedNotification {
    jingtong_wechatpay::build_notification(&keys.private, &keys.serial, &keys.api_v3_key, params)
}
