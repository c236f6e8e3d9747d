use std::sync::atomic::{AtomicBool, Ordering};

use jingtong_api::Lang;

/// The resident's language, shared by every part that builds a message.
#[derive(Debug, Default)]
pub(crate) struct LangCell(AtomicBool);

impl LangCell {
    pub fn get(&self) -> Lang {
        if self.0.load(Ordering::Relaxed) {
            Lang::En
        } else {
            Lang::ZhCn
        }
    }

    pub fn set(&self, lang: Lang) {
        self.0.store(lang == Lang::En, Ordering::Relaxed);
    }
}
