//! A lexer for the subset of PHP that `config.php` files use.
//!
//! A hand-written lexer rather than regexes, because comments, quotes and escapes can hide or
//! fake an assignment (`// $CFG->dbhost = 'old';`, `'it\'s'`), and only real tokenization gets
//! those right. It recognises strings (with PHP's escapes), integers, identifiers, `$variables`,
//! `->`, `=>`, `=`, brackets and separators, skips comments and text outside `<?php ... ?>`, and
//! turns everything else into `Op` or `Opaque` tokens: it never fails and never panics, whatever
//! the input, so the collector can always decide what to keep.

#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Tok {
    /// A string literal with its escapes resolved.
    Str(String),
    /// A double-quoted string that interpolates PHP variables.
    Interp,
    /// A literal nosey does not evaluate: float, huge integer, heredoc, backticks, unterminated.
    Opaque,
    Int(i64),
    Ident(String),
    Var(String),
    Arrow,
    DoubleArrow,
    Assign,
    Semi,
    Comma,
    LParen,
    RParen,
    LBracket,
    RBracket,
    LBrace,
    RBrace,
    /// Any other operator; its text is in the source span.
    Op,
}

#[derive(Debug, Clone)]
pub(super) struct Token {
    pub(super) tok: Tok,
    pub(super) start: usize,
    pub(super) end: usize,
}

pub(super) fn lex(text: &str) -> Vec<Token> {
    let mut lexer = Lexer {
        src: text.as_bytes(),
        pos: 0,
        out: Vec::new(),
    };
    while lexer.pos < lexer.src.len() {
        lexer.step();
    }
    lexer.out
}

struct Lexer<'a> {
    src: &'a [u8],
    pos: usize,
    out: Vec<Token>,
}

fn is_ident_start(b: u8) -> bool {
    b.is_ascii_alphabetic() || b == b'_' || b == b'\\' || b >= 0x80
}

fn is_ident_byte(b: u8) -> bool {
    is_ident_start(b) || b.is_ascii_digit()
}

impl Lexer<'_> {
    fn peek(&self, ahead: usize) -> u8 {
        self.src.get(self.pos + ahead).copied().unwrap_or(0)
    }

    fn rest_starts_with(&self, s: &[u8]) -> bool {
        self.src[self.pos..].starts_with(s)
    }

    /// Moves to the next occurrence of `needle` (past it), or to the end.
    fn skip_past(&mut self, needle: &[u8]) {
        let rest = &self.src[self.pos..];
        let found = rest.windows(needle.len()).position(|w| w == needle);
        self.pos = found.map_or(self.src.len(), |i| self.pos + i + needle.len());
    }

    fn emit(&mut self, tok: Tok, start: usize) {
        self.out.push(Token {
            tok,
            start,
            end: self.pos,
        });
    }

    fn step(&mut self) {
        let start = self.pos;
        let b = self.peek(0);
        match b {
            b if b.is_ascii_whitespace() => self.pos += 1,
            b'#' => self.skip_past(b"\n"),
            b'/' if self.peek(1) == b'/' => self.skip_past(b"\n"),
            b'/' if self.peek(1) == b'*' => {
                self.pos += 2;
                self.skip_past(b"*/");
            }
            b'\'' => self.single_quoted(),
            b'"' => self.double_quoted(),
            b'`' => {
                self.pos += 1;
                self.skip_past(b"`");
                self.emit(Tok::Opaque, start);
            }
            b'<' if self.rest_starts_with(b"<<<") => self.heredoc(),
            b'<' if self.rest_starts_with(b"<?php") => self.pos += 5,
            b'<' if self.rest_starts_with(b"<?=") => self.pos += 3,
            b'<' if self.peek(1) == b'?' => self.pos += 2,
            b'?' if self.peek(1) == b'>' => self.close_tag(),
            b'$' if is_ident_start(self.peek(1)) && self.peek(1) != b'\\' => {
                self.pos += 1;
                let name = self.ident_text();
                self.emit(Tok::Var(name), start);
            }
            b'0'..=b'9' => self.number(),
            b if is_ident_start(b) => {
                let name = self.ident_text();
                self.emit(Tok::Ident(name), start);
            }
            _ => self.punct(b),
        }
    }

    fn ident_text(&mut self) -> String {
        let start = self.pos;
        while self.pos < self.src.len() && is_ident_byte(self.src[self.pos]) {
            self.pos += 1;
        }
        String::from_utf8_lossy(&self.src[start..self.pos]).into_owned()
    }

    /// PHP treats `?>` as the end of a statement, then copies text out until the next `<?`.
    fn close_tag(&mut self) {
        let start = self.pos;
        self.pos += 2;
        self.emit(Tok::Semi, start);
        self.skip_past(b"<?");
        if self.rest_starts_with(b"php") {
            self.pos += 3;
        }
    }

    fn punct(&mut self, b: u8) {
        let start = self.pos;
        self.pos += 1;
        let tok = match b {
            b';' => Tok::Semi,
            b',' => Tok::Comma,
            b'(' => Tok::LParen,
            b')' => Tok::RParen,
            b'[' => Tok::LBracket,
            b']' => Tok::RBracket,
            b'{' => Tok::LBrace,
            b'}' => Tok::RBrace,
            b'-' if self.peek(0) == b'>' => {
                self.pos += 1;
                Tok::Arrow
            }
            b'=' if self.peek(0) == b'>' => {
                self.pos += 1;
                Tok::DoubleArrow
            }
            b'=' if self.peek(0) != b'=' => Tok::Assign,
            _ => {
                // Keep `==`, `!==`, `.=`, `??=` ... whole, so a comparison is never an assignment.
                if b"?&|*<>".contains(&b) && self.peek(0) == b {
                    self.pos += 1;
                }
                while self.peek(0) == b'=' && self.pos - start < 3 {
                    self.pos += 1;
                }
                Tok::Op
            }
        };
        self.emit(tok, start);
    }

    fn number(&mut self) {
        let start = self.pos;
        let hex = self.peek(0) == b'0' && matches!(self.peek(1), b'x' | b'X');
        while self.pos < self.src.len() {
            let b = self.src[self.pos];
            let exponent_sign =
                !hex && matches!(b, b'+' | b'-') && matches!(self.src[self.pos - 1], b'e' | b'E');
            if !(b.is_ascii_alphanumeric() || b == b'_' || b == b'.' || exponent_sign) {
                break;
            }
            self.pos += 1;
        }
        let raw = String::from_utf8_lossy(&self.src[start..self.pos]).replace('_', "");
        let tok = parse_int_literal(&raw).map_or(Tok::Opaque, Tok::Int);
        self.emit(tok, start);
    }

    fn single_quoted(&mut self) {
        let start = self.pos;
        self.pos += 1;
        let mut value = Vec::new();
        while self.pos < self.src.len() {
            let b = self.src[self.pos];
            self.pos += 1;
            match b {
                b'\\' if matches!(self.peek(0), b'\'' | b'\\') => {
                    value.push(self.peek(0));
                    self.pos += 1;
                }
                b'\'' => return self.emit(Tok::Str(lossy(value)), start),
                _ => value.push(b),
            }
        }
        self.emit(Tok::Opaque, start);
    }

    fn double_quoted(&mut self) {
        let start = self.pos;
        self.pos += 1;
        let (mut value, mut interpolates) = (Vec::new(), false);
        while self.pos < self.src.len() {
            let b = self.src[self.pos];
            self.pos += 1;
            match b {
                b'\\' => self.escape(&mut value),
                b'"' => {
                    let tok = if interpolates {
                        Tok::Interp
                    } else {
                        Tok::Str(lossy(value))
                    };
                    return self.emit(tok, start);
                }
                b'$' if is_ident_start(self.peek(0)) || self.peek(0) == b'{' => {
                    interpolates = true;
                }
                b'{' if self.peek(0) == b'$' => interpolates = true,
                _ => value.push(b),
            }
        }
        self.emit(Tok::Opaque, start);
    }

    /// One escape after a backslash in a double-quoted string; unknown ones stay as written.
    fn escape(&mut self, value: &mut Vec<u8>) {
        let simple = match self.peek(0) {
            b'n' => Some(b'\n'),
            b't' => Some(b'\t'),
            b'r' => Some(b'\r'),
            b'v' => Some(0x0b),
            b'e' => Some(0x1b),
            b'f' => Some(0x0c),
            b'\\' | b'$' | b'"' => Some(self.peek(0)),
            _ => None,
        };
        if let Some(byte) = simple {
            self.pos += 1;
            return value.push(byte);
        }
        if let Some(byte) = self.radix_escape() {
            return value.push(byte);
        }
        if let Some(c) = self.unicode_escape() {
            return value.extend_from_slice(c.encode_utf8(&mut [0; 4]).as_bytes());
        }
        value.push(b'\\');
    }

    /// `\101` (octal, up to 3 digits) or `\x41` (hex, up to 2 digits).
    fn radix_escape(&mut self) -> Option<u8> {
        let (skip, radix, max) = match self.peek(0) {
            b'0'..=b'7' => (0, 8, 3),
            b'x' if self.peek(1).is_ascii_hexdigit() => (1, 16, 2),
            _ => return None,
        };
        let digits_start = self.pos + skip;
        let mut end = digits_start;
        while end < self.src.len()
            && end - digits_start < max
            && char::from(self.src[end]).is_digit(radix)
        {
            end += 1;
        }
        let digits = std::str::from_utf8(&self.src[digits_start..end]).ok()?;
        let n = u32::from_str_radix(digits, radix).ok()?;
        self.pos = end;
        Some((n & 0xff) as u8)
    }

    /// `\u{1F600}`.
    fn unicode_escape(&mut self) -> Option<char> {
        if self.peek(0) != b'u' || self.peek(1) != b'{' {
            return None;
        }
        let rest = &self.src[self.pos + 2..];
        let close = rest.iter().position(|b| *b == b'}')?;
        let c = u32::from_str_radix(std::str::from_utf8(&rest[..close]).ok()?, 16)
            .ok()
            .and_then(char::from_u32)?;
        self.pos += close + 3;
        Some(c)
    }

    /// `<<<ID`/`<<<'ID'` up to a line starting with `ID`: kept opaque, never evaluated.
    fn heredoc(&mut self) {
        let start = self.pos;
        self.pos += 3;
        while matches!(self.peek(0), b' ' | b'\t' | b'\'' | b'"') {
            self.pos += 1;
        }
        let label = self.ident_text().into_bytes();
        self.skip_past(b"\n");
        while self.pos < self.src.len() && !label.is_empty() {
            let line_start = self.pos;
            while matches!(self.peek(0), b' ' | b'\t') {
                self.pos += 1;
            }
            if self.rest_starts_with(&label) && !is_ident_byte(self.peek(label.len())) {
                self.pos += label.len();
                break;
            }
            self.pos = line_start;
            self.skip_past(b"\n");
        }
        self.emit(Tok::Opaque, start);
    }
}

fn lossy(bytes: Vec<u8>) -> String {
    String::from_utf8(bytes).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

/// PHP integer literals: decimal, `0x` hex, `0b` binary, `0o` or leading-zero octal.
fn parse_int_literal(raw: &str) -> Option<i64> {
    let lower = raw.to_ascii_lowercase();
    let (digits, radix) = if let Some(d) = lower.strip_prefix("0x") {
        (d, 16)
    } else if let Some(d) = lower.strip_prefix("0b") {
        (d, 2)
    } else if let Some(d) = lower.strip_prefix("0o") {
        (d, 8)
    } else if lower.len() > 1 && lower.starts_with('0') {
        (&lower[1..], 8)
    } else {
        (lower.as_str(), 10)
    };
    let valid = !digits.is_empty() && digits.chars().all(|c| c.is_digit(radix));
    valid
        .then(|| i64::from_str_radix(digits, radix).ok())
        .flatten()
}

#[cfg(test)]
mod tests {
    use super::super::tests::proptest_cases;
    use super::*;
    use proptest::prelude::*;

    fn toks(text: &str) -> Vec<Tok> {
        lex(text).into_iter().map(|t| t.tok).collect()
    }

    fn string(s: &str) -> Tok {
        Tok::Str(s.to_string())
    }

    #[test]
    fn double_quoted_escapes() {
        let lexed = toks(r#""a\"b\\c\$d\n\t\x41\101\u{e9}\q{x}\xZ""#);
        assert_eq!(lexed, [string("a\"b\\c$d\n\tAA\u{e9}\\q{x}\\xZ")]);
    }

    #[test]
    fn single_quoted_escapes() {
        assert_eq!(toks(r"'it\'s \\ C:\path\n'"), [string(r"it's \ C:\path\n")]);
    }

    #[test]
    fn interpolation_is_detected() {
        for text in [r#""db-$env""#, r#""m{$x}""#, r#""${x}""#, r#""$$x""#] {
            assert_eq!(toks(text), [Tok::Interp], "{text}");
        }
        assert_eq!(toks(r#""a\$b $ 5$""#), [string("a$b $ 5$")]);
    }

    #[test]
    fn comparisons_are_not_assignments() {
        for op in [
            "==", "===", "!=", "!==", "<=", ">=", ".=", "??=", "+=", "**=",
        ] {
            let expected = [Tok::Var("a".into()), Tok::Op, Tok::Int(1)];
            assert_eq!(toks(&format!("$a {op} 1")), expected, "{op}");
        }
        let arrows = [Tok::Var("CFG".into()), Tok::Arrow, Tok::Ident("x".into())];
        assert_eq!(toks("$CFG->x=>-1")[..3], arrows);
        assert_eq!(
            toks("$CFG->x=>-1")[3..],
            [Tok::DoubleArrow, Tok::Op, Tok::Int(1)]
        );
    }

    #[test]
    fn comments_and_outside_text_are_skipped() {
        let text = "<?php // a\n# b\n/* c */ x ?> html $CFG->y = 1; <?php z /* open";
        let expected = [Tok::Ident("x".into()), Tok::Semi, Tok::Ident("z".into())];
        assert_eq!(toks(text), expected);
        assert_eq!(toks("<?= $x ?>"), [Tok::Var("x".into()), Tok::Semi]);
    }

    #[test]
    fn integer_forms() {
        let cases = [
            ("0x1F", 31),
            ("0b101", 5),
            ("0o17", 15),
            ("017", 15),
            ("1_000", 1000),
        ];
        for (text, n) in cases.into_iter().chain([("0", 0), ("02777", 1535)]) {
            assert_eq!(toks(text), [Tok::Int(n)], "{text}");
        }
        for text in ["1.5", "1e3", "1e-3", "09", "0x", "99999999999999999999"] {
            assert_eq!(toks(text), [Tok::Opaque], "{text}");
        }
    }

    #[test]
    fn unfinished_and_unevaluated_literals_are_opaque() {
        for text in [
            "'abc",
            "\"abc",
            "`ls`",
            "<<<EOT\n$x\n  EOT",
            "<<<'X'\nfoo\nX",
        ] {
            assert_eq!(toks(text), [Tok::Opaque], "{text}");
        }
        assert_eq!(
            toks("<<<EOT\nx\nEOT;\n$b")[1..],
            [Tok::Semi, Tok::Var("b".into())]
        );
    }

    #[test]
    fn spans_cover_the_source() {
        let text = "$CFG->dbpass = getenv('X');";
        let spans: Vec<_> = lex(text).iter().map(|t| &text[t.start..t.end]).collect();
        assert_eq!(
            spans,
            ["$CFG", "->", "dbpass", "=", "getenv", "(", "'X'", ")", ";"]
        );
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(proptest_cases()))]

        #[test]
        fn single_quoted_strings_round_trip(value in any::<String>()) {
            let escaped = value.replace('\\', r"\\").replace('\'', r"\'");
            prop_assert_eq!(toks(&format!("'{escaped}'")), [Tok::Str(value)]);
        }

        #[test]
        fn double_quoted_strings_round_trip(value in any::<String>()) {
            let escaped = value.replace('\\', r"\\").replace('"', "\\\"").replace('$', r"\$");
            prop_assert_eq!(toks(&format!("\"{escaped}\"")), [Tok::Str(value)]);
        }
    }
}
