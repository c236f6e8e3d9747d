//! Free text people type: one type that only holds text safe to store, show and relay.
//!
//! [`Text`] is NFC-normalised, trimmed, at most `MAX` characters and free of control, bidi,
//! zero-width and other format (Cf) characters, noncharacters and private-use characters: they
//! hide or reorder what a reader sees, and NUL breaks PostgreSQL. [`RelayedText`] is text that
//! reaches the other party of a vehicle move: on top, it carries no link, phone number or
//! contact handle in any spelling (the relay exists so neither side learns how to reach the other).

use std::fmt;

use serde::{Deserialize, Serialize};
use unicode_normalization::UnicodeNormalization;

use crate::{ErrorCode, Lang};

/// Why a text was refused, and where: `position` counts characters from 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TextError {
    pub code: ErrorCode,
    pub position: usize,
    pub ch: Option<char>,
}

impl TextError {
    fn code(code: ErrorCode) -> TextError {
        TextError { code, position: 0, ch: None }
    }

    /// The citizen's words, naming the character and where it is when there is one.
    pub fn message(&self, lang: Lang) -> String {
        match (self.ch, lang) {
            (Some(c), Lang::ZhCn) => {
                format!(
                    "第 {} 个字符（U+{:04X} {}）不允许使用，请删除后重试。",
                    self.position,
                    c as u32,
                    char_name(c, lang)
                )
            }
            (Some(c), Lang::En) => {
                format!(
                    "Character {} (U+{:04X} {}) is not allowed. Remove it and try again.",
                    self.position,
                    c as u32,
                    char_name(c, lang)
                )
            }
            (None, _) => self.code.message(lang).to_owned(),
        }
    }
}

impl fmt::Display for TextError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message(Lang::En))
    }
}

fn char_name(c: char, lang: Lang) -> &'static str {
    let (zh, en) = match c {
        '\0' => ("空字符", "NULL"),
        '\r' => ("回车符", "CARRIAGE RETURN"),
        '\n' => ("换行符", "LINE FEED"),
        '\t' => ("制表符", "CHARACTER TABULATION"),
        '\u{202A}' => ("从左至右嵌入符", "LEFT-TO-RIGHT EMBEDDING"),
        '\u{202B}' => ("从右至左嵌入符", "RIGHT-TO-LEFT EMBEDDING"),
        '\u{202C}' => ("方向格式结束符", "POP DIRECTIONAL FORMATTING"),
        '\u{202D}' => ("从左至右强制符", "LEFT-TO-RIGHT OVERRIDE"),
        '\u{202E}' => ("从右至左强制符", "RIGHT-TO-LEFT OVERRIDE"),
        '\u{2066}' => ("从左至右隔离符", "LEFT-TO-RIGHT ISOLATE"),
        '\u{2067}' => ("从右至左隔离符", "RIGHT-TO-LEFT ISOLATE"),
        '\u{2068}' => ("首强隔离符", "FIRST STRONG ISOLATE"),
        '\u{2069}' => ("方向隔离结束符", "POP DIRECTIONAL ISOLATE"),
        '\u{200E}' => ("从左至右标记", "LEFT-TO-RIGHT MARK"),
        '\u{200F}' => ("从右至左标记", "RIGHT-TO-LEFT MARK"),
        '\u{061C}' => ("阿拉伯字母标记", "ARABIC LETTER MARK"),
        '\u{200B}' => ("零宽空格", "ZERO WIDTH SPACE"),
        '\u{200C}' => ("零宽不连字", "ZERO WIDTH NON-JOINER"),
        '\u{200D}' => ("零宽连字", "ZERO WIDTH JOINER"),
        '\u{2060}' => ("零宽不换行符", "WORD JOINER"),
        '\u{FEFF}' => ("零宽不换行空格", "ZERO WIDTH NO-BREAK SPACE"),
        '\u{00AD}' => ("软连字符", "SOFT HYPHEN"),
        c if c.is_control() => ("控制字符", "control character"),
        c if is_private_use(c) => ("私用区字符", "private-use character"),
        c if is_noncharacter(c) => ("非字符", "noncharacter"),
        _ => ("不可见格式字符", "invisible format character"),
    };
    match lang {
        Lang::ZhCn => zh,
        Lang::En => en,
    }
}

/// Unicode 15 general category Cf (format): invisible, they change how other text shows.
fn is_format(c: char) -> bool {
    matches!(c as u32,
        0x00AD | 0x0600..=0x0605 | 0x061C | 0x06DD | 0x070F | 0x0890..=0x0891 | 0x08E2 | 0x180E
        | 0x200B..=0x200F | 0x202A..=0x202E | 0x2060..=0x2064 | 0x2066..=0x206F | 0xFEFF
        | 0xFFF9..=0xFFFB | 0x110BD | 0x110CD | 0x13430..=0x1343F | 0x1BCA0..=0x1BCA3
        | 0x1D173..=0x1D17A | 0xE0001 | 0xE0020..=0xE007F)
}

fn is_noncharacter(c: char) -> bool {
    let u = c as u32;
    (0xFDD0..=0xFDEF).contains(&u) || u & 0xFFFE == 0xFFFE
}

fn is_private_use(c: char) -> bool {
    matches!(c as u32, 0xE000..=0xF8FF | 0xF0000..=0xFFFFD | 0x100000..=0x10FFFD)
}

/// Whether `c` may stand in stored text; `\n` only where the field is multi-line.
pub fn allowed_char(c: char, multiline: bool) -> bool {
    if c == '\n' {
        return multiline;
    }
    !(c.is_control() || is_format(c) || is_noncharacter(c) || is_private_use(c))
}

/// The first character not allowed anywhere in any stored text (newlines pass): the server's
/// guard on every JSON string of every request body, passwords included (which it never changes).
pub fn first_refused(s: &str, multiline: bool) -> Option<TextError> {
    s.chars().enumerate().find(|(_, c)| !allowed_char(*c, multiline)).map(|(i, c)| TextError {
        code: ErrorCode::TextCharNotAllowed,
        position: i + 1,
        ch: Some(c),
    })
}

/// NFC, trimmed, checked: what [`Text`] and [`RelayedText`] hold.
pub fn clean(input: &str, max_chars: usize, multiline: bool) -> Result<String, TextError> {
    let nfc: String = input.nfc().collect();
    // Checked before trimming: a NUL or NEL at either end is refused, not silently dropped.
    if let Some(e) = first_refused(&nfc, multiline) {
        return Err(e);
    }
    let trimmed = nfc.trim();
    if trimmed.chars().count() > max_chars {
        return Err(TextError::code(ErrorCode::TextTooLong));
    }
    Ok(trimmed.to_owned())
}

/// A required one-line field: [`clean`]ed, not empty. The error is the field's code.
pub fn required(input: &str, max_chars: usize) -> Result<String, ErrorCode> {
    match clean(input, max_chars, false) {
        Ok(t) if t.is_empty() => Err(ErrorCode::FieldRequired),
        Ok(t) => Ok(t),
        Err(e) => Err(e.code),
    }
}

/// Free text of at most `MAX` characters on one line; may be empty (required fields say so).
#[derive(Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Text<const MAX: usize>(String);

impl<const MAX: usize> Text<MAX> {
    pub fn parse(input: &str) -> Result<Self, TextError> {
        clean(input, MAX, false).map(Text)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl<const MAX: usize> TryFrom<String> for Text<MAX> {
    type Error = TextError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Text::parse(&s)
    }
}

impl<const MAX: usize> From<Text<MAX>> for String {
    fn from(t: Text<MAX>) -> String {
        t.0
    }
}

impl<const MAX: usize> fmt::Debug for Text<MAX> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.0, f)
    }
}

/// [`Text`] that another party reads: no link, phone-like number or contact handle either.
#[derive(Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct RelayedText<const MAX: usize>(String);

impl<const MAX: usize> RelayedText<MAX> {
    pub fn parse(input: &str) -> Result<Self, TextError> {
        let text = Text::<MAX>::parse(input)?;
        match relay_refusal(text.as_str()) {
            Some(code) => Err(TextError::code(code)),
            None => Ok(RelayedText(text.0)),
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

impl<const MAX: usize> TryFrom<String> for RelayedText<MAX> {
    type Error = TextError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        RelayedText::parse(&s)
    }
}

impl<const MAX: usize> From<RelayedText<MAX>> for String {
    fn from(t: RelayedText<MAX>) -> String {
        t.0
    }
}

impl<const MAX: usize> fmt::Debug for RelayedText<MAX> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.0, f)
    }
}

/// Why relayed text would let one side reach the other: a link, a number or a handle.
pub fn relay_refusal(text: &str) -> Option<ErrorCode> {
    let folded = fold(text);
    let squeezed = squeeze(&folded);
    if contains_link(&squeezed) {
        Some(ErrorCode::TextContainsLink)
    } else if contains_phone_like(&folded) {
        Some(ErrorCode::MessageContainsNumber)
    } else if contains_handle(&squeezed) {
        Some(ErrorCode::TextContainsContact)
    } else {
        None
    }
}

/// One spelling for the many ways to write the same thing: full-width to ASCII, lower case,
/// Chinese numerals to digits, the ways to say "dot" to `.`, every blank to one space.
fn fold(text: &str) -> Vec<char> {
    let mut out = Vec::with_capacity(text.len());
    for c in text.chars() {
        let c = match c {
            '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
            '零' | '〇' | '洞' | '⓪' => '0',
            '一' | '幺' | '壹' | '①' | '⑴' => '1',
            '二' | '两' | '贰' | '貳' | '②' | '⑵' => '2',
            '三' | '叁' | '參' | '③' | '⑶' => '3',
            '四' | '肆' | '④' | '⑷' => '4',
            '五' | '伍' | '⑤' | '⑸' => '5',
            '六' | '陆' | '陸' | '⑥' | '⑹' => '6',
            '七' | '柒' | '⑦' | '⑺' => '7',
            '八' | '捌' | '⑧' | '⑻' => '8',
            '九' | '玖' | '⑨' | '⑼' => '9',
            '。' | '｡' | '点' | '點' | '·' | '•' => '.',
            c if c.is_whitespace() => ' ',
            c => c,
        };
        out.extend(c.to_lowercase());
    }
    let s: String = out.iter().collect();
    s.replace("(dot)", ".").replace("[dot]", ".").chars().collect()
}

/// Blanks split a word only to hide it: `www 点 abc 点 com`, `微 信`.
fn squeeze(s: &[char]) -> Vec<char> {
    s.iter().copied().filter(|c| *c != ' ').collect()
}

const TLDS: &[&str] = &[
    "com", "cn", "net", "org", "top", "xyz", "vip", "cc", "co", "io", "me", "info", "biz", "app", "site", "online",
    "shop", "club", "ltd", "tv", "wang", "link", "hk", "tw", "mo", "us", "uk", "ru", "jp", "de", "pro", "fun", "icu",
    "live", "work",
];

fn contains_link(s: &[char]) -> bool {
    let text: String = s.iter().collect();
    if ["http", "://", "www.", "ftp.", "t.me", "wa.me"].iter().any(|w| text.contains(w)) {
        return true;
    }
    // `label.tld` where the tld ends the word: "abc.com", "abc.cn/x", not "3.5" or "b2.103".
    for (i, &c) in s.iter().enumerate() {
        if c != '.' || i == 0 || !is_label(s[i - 1]) {
            continue;
        }
        let rest = &s[i + 1..];
        for tld in TLDS {
            let n = tld.len();
            if rest.len() >= n
                && rest[..n].iter().copied().eq(tld.chars())
                && rest.get(n).is_none_or(|c| !c.is_ascii_alphanumeric())
            {
                return true;
            }
        }
    }
    false
}

fn is_label(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '-'
}

const HANDLES: &[&str] = &[
    "微信",
    "薇信",
    "威信",
    "v信",
    "微xin",
    "weixin",
    "wechat",
    "vx",
    "wx号",
    "加v",
    "加q",
    "qq",
    "扣扣",
    "企鹅号",
    "telegram",
    "whatsapp",
    "line号",
    "抖音号",
    "支付宝号",
    "联系方式",
    "手机号",
    "电话号",
    "打我电话",
    "加我",
];

fn contains_handle(s: &[char]) -> bool {
    let text: String = s.iter().collect();
    if HANDLES.iter().any(|h| text.contains(h)) {
        return true;
    }
    // `@name`: a handle or an e-mail address.
    s.windows(2).any(|w| matches!(w[0], '@' | '＠') && (w[1].is_ascii_alphanumeric() || w[1] == '_'))
}

/// A run of 7 or more digits, separators between them ignored, is a phone-like number; a date
/// (2024-05-01, 2024.5.1) inside the run is not counted.
fn contains_phone_like(s: &[char]) -> bool {
    let mut groups: Vec<(String, char)> = Vec::new(); // digits, and the separator after them
    let mut i = 0;
    while i <= s.len() {
        let c = s.get(i).copied();
        match c {
            Some(d) if d.is_ascii_digit() => {
                let mut g = String::new();
                while let Some(&d) = s.get(i).filter(|d| d.is_ascii_digit()) {
                    g.push(d);
                    i += 1;
                }
                let sep = s.get(i).copied().unwrap_or('$');
                groups.push((g, sep));
                continue;
            }
            Some(c) if is_separator(c) && !groups.is_empty() => {}
            _ => {
                if run_is_phone_like(&groups) {
                    return true;
                }
                groups.clear();
            }
        }
        i += 1;
    }
    false
}

fn is_separator(c: char) -> bool {
    matches!(
        c,
        ' ' | '-' | '.' | ',' | '，' | '、' | '_' | '/' | '—' | '–' | '~' | '*' | '+' | '(' | ')' | '（' | '）' | '|'
    )
}

fn run_is_phone_like(groups: &[(String, char)]) -> bool {
    let mut digits = 0;
    let mut i = 0;
    while i < groups.len() {
        if is_date(&groups[i..]) {
            digits = 0;
            i += 3;
            continue;
        }
        digits += groups[i].0.len();
        if digits >= 7 {
            return true;
        }
        i += 1;
    }
    false
}

fn is_date(g: &[(String, char)]) -> bool {
    let [(y, s1), (m, s2), (d, _), ..] = g else { return false };
    let num = |t: &str| t.parse::<u32>().unwrap_or(0);
    y.len() == 4
        && (y.starts_with("19") || y.starts_with("20"))
        && s1 == s2
        && matches!(s1, '-' | '.' | '/')
        && (1..=2).contains(&m.len())
        && (1..=12).contains(&num(m))
        && (1..=2).contains(&d.len())
        && (1..=31).contains(&num(d))
}

#[cfg(test)]
mod tests;
