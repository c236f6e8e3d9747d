use super::*;
use proptest::prelude::*;

type Short = Text<20>;
type Relayed = RelayedText<200>;

#[test]
fn refuses_hidden_characters_and_says_which_and_where() {
    for (s, pos, c) in [
        ("abcd\u{202E}x", 5, '\u{202E}'),
        ("a\0b", 2, '\0'),
        ("挪车\u{200B}", 3, '\u{200B}'),
        ("\u{FEFF}x", 1, '\u{FEFF}'),
        ("a\u{2066}b", 2, '\u{2066}'),
        ("a\u{200F}", 2, '\u{200F}'),
        ("a\u{061C}", 2, '\u{061C}'),
        ("a\u{0085}", 2, '\u{0085}'),
        ("a\u{001B}[31m", 2, '\u{001B}'),
        ("a\u{00AD}b", 2, '\u{00AD}'),
        ("a\u{E000}", 2, '\u{E000}'),
        ("a\u{FFFF}", 2, '\u{FFFF}'),
        ("a\u{E0041}", 2, '\u{E0041}'),
        ("a\nb", 2, '\n'),
        ("a\rb", 2, '\r'),
        ("a\tb", 2, '\t'),
    ] {
        let e = Short::parse(s).unwrap_err();
        assert_eq!((e.code, e.position, e.ch), (ErrorCode::TextCharNotAllowed, pos, Some(c)), "{s:?}");
    }
    let e = Short::parse("abcd\u{202E}x").unwrap_err();
    assert_eq!(e.message(Lang::ZhCn), "第 5 个字符（U+202E 从右至左强制符）不允许使用，请删除后重试。");
    assert_eq!(
        e.message(Lang::En),
        "Character 5 (U+202E RIGHT-TO-LEFT OVERRIDE) is not allowed. Remove it and try again."
    );
}

#[test]
fn multi_line_allows_newlines_only() {
    assert_eq!(clean("第一行\n第二行", 50, true).unwrap(), "第一行\n第二行");
    assert!(clean("a\r\nb", 50, true).is_err());
}

#[test]
fn normalises_trims_and_bounds() {
    assert_eq!(Short::parse("  e\u{0301}  ").unwrap().as_str(), "\u{00E9}");
    assert_eq!(Short::parse("　东门　").unwrap().as_str(), "东门");
    assert!(Short::parse(&"字".repeat(20)).is_ok());
    assert_eq!(Short::parse(&"字".repeat(21)).unwrap_err().code, ErrorCode::TextTooLong);
    assert_eq!(Short::parse(" \u{202E}").unwrap_err().position, 2, "positions count leading blanks");
}

#[test]
fn keeps_ordinary_text_of_every_script() {
    for s in ["演示路 88 号", "Ünïcödé café", "عربي", "עברית", "😀 thanks", "ＡＢＣ１２３", "e\u{0301}", "👨\u{200D}👩"]
    {
        // The ZWJ in an emoji sequence is a format character too: it is refused like any other.
        let r = Short::parse(s);
        assert_eq!(r.is_ok(), !s.contains('\u{200D}'), "{s:?}");
    }
}

#[test]
fn relayed_refuses_links_in_any_spelling() {
    for s in [
        "看这里 http://x.y",
        "https://abc.com",
        "abc.com",
        "ABC.COM",
        "abc。cn",
        "abc．cn",
        "www 点 abc 点 com",
        "www.abc",
        "abc(dot)com",
        "ａｂｃ．ｃｏｍ",
        "加群 abc.top/x",
        "t.me/abc",
    ] {
        assert_eq!(Relayed::parse(s).unwrap_err().code, ErrorCode::TextContainsLink, "{s}");
    }
}

#[test]
fn relayed_refuses_phone_numbers_in_any_spelling() {
    for s in [
        "13912345678",
        "139 1234 5678",
        "139,1234,5678",
        "139-1234-5678",
        "139.1234.5678",
        "１３９１２３４５６７８",
        "一三九一二三四五六七八",
        "幺三九 幺二三四 五六七八",
        "壹叁玖壹贰叁肆伍陆柒捌",
        "1三9 一2三4 5陆78",
        "打 1 3 9 1 2 3 4 5 6 7 8",
        "(0551)6543210",
        "电话：139，1234，5678",
        "139、1234、5678",
        "零五五一 六五四三二一〇",
        "①③⑨①②③④⑤⑥⑦⑧",
    ] {
        assert_eq!(Relayed::parse(s).unwrap_err().code, ErrorCode::MessageContainsNumber, "{s}");
    }
}

#[test]
fn relayed_refuses_contact_handles() {
    for s in [
        "加我微信",
        "微 信 abc",
        "WeChat me",
        "vx：abcde",
        "V信",
        "QQ 号在下面",
        "qq号",
        "扣扣",
        "@zhangsan",
        "mail me a@b",
        "Ｗｅｃｈａｔ",
    ] {
        assert_eq!(Relayed::parse(s).unwrap_err().code, ErrorCode::TextContainsContact, "{s}");
    }
}

#[test]
fn relayed_keeps_what_residents_write() {
    for s in [
        "幸福路 128 号 3 栋",
        "演示市蜀山区演示路 88 号小区东门",
        "车位B2-103，5分钟到",
        "皖A12345 挡住了我的车",
        "2024-05-01 14:30 停在这里",
        "2024.5.1 下午三点",
        "十五分钟后到",
        "三号楼二单元东侧",
        "我在东门等您，谢谢",
        "马上到",
        "I'll come in 10 min. Thanks",
        "Parked at gate 3. Come soon",
        "第 1 排 23 号车位",
        "两三分钟就到",
        "B1 层 1024 号",
        "3点15分到",
    ] {
        assert!(Relayed::parse(s).is_ok(), "{s}: {:?}", Relayed::parse(s));
    }
}

#[test]
fn wire_form_is_a_plain_string() {
    let t: Relayed = serde_json::from_str("\"  马上到 \"").unwrap();
    assert_eq!(serde_json::to_string(&t).unwrap(), "\"马上到\"");
    assert!(serde_json::from_str::<Relayed>("\"a\\u0000b\"").is_err());
    assert!(serde_json::from_str::<Short>("\"a\\u202eb\"").is_err());
}

proptest! {
    #[test]
    fn what_parses_is_clean_and_stable(s in "\\PC{0,30}|.{0,30}") {
        if let Ok(t) = Text::<30>::parse(&s) {
            prop_assert!(t.as_str().chars().all(|c| allowed_char(c, false)));
            prop_assert!(t.as_str().chars().count() <= 30);
            prop_assert_eq!(Text::<30>::parse(t.as_str()).unwrap(), t.clone());
            if let Ok(r) = RelayedText::<30>::parse(t.as_str()) {
                prop_assert_eq!(r.as_str(), t.as_str());
            }
        }
    }

    #[test]
    fn any_hidden_character_anywhere_is_refused(a in "[a-z一-龥]{0,8}", b in "[a-z一-龥]{0,8}",
        c in prop::sample::select(vec!['\0', '\u{7}', '\u{7F}', '\u{9B}', '\u{202A}', '\u{202E}', '\u{2066}', '\u{2069}', '\u{200B}', '\u{200E}', '\u{2060}', '\u{FEFF}', '\u{FDD0}', '\u{F8FF}'])) {
        let s = format!("{a}{c}{b}");
        let e = Text::<40>::parse(&s).unwrap_err();
        prop_assert_eq!((e.code, e.ch), (ErrorCode::TextCharNotAllowed, Some(c)));
        prop_assert_eq!(e.position, a.chars().count() + 1);
    }

    #[test]
    fn a_mobile_number_with_any_separators_is_refused(second in 3u8..=9, rest in "[0-9]{9}", sep in "[ ,，.、-]{0,2}") {
        let digits = format!("1{second}{rest}");
        let spaced: String = digits.chars().flat_map(|c| std::iter::once(c).chain(sep.chars())).collect();
        prop_assert_eq!(relay_refusal(&format!("电话 {spaced} 谢谢")), Some(ErrorCode::MessageContainsNumber));
    }

    #[test]
    fn short_numbers_pass(n in 0u32..1_000_000) {
        prop_assert_eq!(relay_refusal(&format!("演示路 {n} 号")), None);
    }
}
