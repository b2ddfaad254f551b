//! A fast reader for the YAML the Docker specifications are written in.
//!
//! Parsing the 31 upstream files was half of the load stage with a general YAML parser
//! (events, then a tree). This reads the block style those files use straight into JSON
//! values: block mappings and sequences, plain, quoted, literal and folded scalars, flow
//! collections. Anything else (anchors, tags, complex keys, tabs, duplicate keys, and every
//! error) makes it answer `None`, and [`super::yaml::parse`] asks the general parser, so what
//! it accepts it reads exactly as the general parser does (a test compares both on every
//! upstream file), and errors keep their line and column.

use serde_json::{Map, Number, Value};

/// `Some(document)`, or `None` when the text is outside the subset or not valid YAML.
pub fn parse(text: &str) -> Option<Value> {
    // Tabs, carriage returns, other control characters, byte order marks and the Unicode
    // line breaks the general parser handles or rejects.
    if text.chars().any(|c| (c.is_control() && c != '\n') || matches!(c, '\u{feff}' | '\u{fffe}' | '\u{ffff}' | '\u{2028}' | '\u{2029}')) {
        return None;
    }
    let mut p = Reader { b: text.as_bytes(), src: text, pos: 0 };
    let indent = p.next_content_line()?;
    if p.at_end() {
        return None;
    }
    let value = if p.is_sequence_entry() {
        p.block_sequence(indent, false)?
    } else {
        p.key_end()?;
        p.block_mapping(indent)?
    };
    p.next_content_line();
    p.at_end().then_some(value)
}

struct Reader<'a> {
    src: &'a str,
    b: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn at_end(&self) -> bool {
        self.pos >= self.b.len()
    }

    fn peek(&self) -> u8 {
        self.b.get(self.pos).copied().unwrap_or(0)
    }

    fn peek_at(&self, offset: usize) -> u8 {
        self.b.get(self.pos + offset).copied().unwrap_or(0)
    }

    fn skip_spaces(&mut self) {
        while self.peek() == b' ' {
            self.pos += 1;
        }
    }

    /// Column of the current position.
    fn column(&self) -> usize {
        self.pos - self.b[..self.pos].iter().rposition(|&c| c == b'\n').map_or(0, |i| i + 1)
    }

    /// Skips the rest of the line: spaces and an optional comment. `None` if anything else is there.
    fn end_of_line(&mut self) -> Option<()> {
        self.skip_spaces();
        if self.peek() == b'#' {
            while !matches!(self.peek(), b'\n' | 0) {
                self.pos += 1;
            }
        }
        match self.peek() {
            b'\n' => {
                self.pos += 1;
                Some(())
            }
            0 if self.at_end() => Some(()),
            _ => None,
        }
    }

    /// From a line start, skips empty and comment lines; returns the indent of the next
    /// content line, positioned at its first character (or at the end).
    fn next_content_line(&mut self) -> Option<usize> {
        loop {
            let start = self.pos;
            self.skip_spaces();
            match self.peek() {
                b'\n' => self.pos += 1,
                b'#' => self.end_of_line()?,
                0 if self.at_end() => return Some(0),
                0 => return None,
                _ => return Some(self.pos - start),
            }
        }
    }

    /// Where the next content line starts and its indent, without moving.
    fn peek_content_line(&mut self) -> Option<(usize, usize)> {
        let here = self.pos;
        let indent = self.next_content_line();
        let found = indent.map(|i| (self.pos, i));
        self.pos = here;
        found
    }

    /// A block node whose first line starts at the current position, at column `indent`.
    /// `parent` is the indent of the enclosing collection.
    fn block_node(&mut self, indent: usize, parent: usize) -> Option<Value> {
        if self.is_sequence_entry() {
            self.block_sequence(indent, false)
        } else if self.key_end().is_some() {
            self.block_mapping(indent)
        } else {
            self.inline_value(parent)
        }
    }

    fn is_sequence_entry(&self) -> bool {
        self.peek() == b'-' && matches!(self.peek_at(1), b' ' | b'\n' | 0)
    }

    /// `in_mapping`: the sequence is a mapping's value at the mapping's own indent, so a
    /// key at that indent ends it.
    fn block_sequence(&mut self, indent: usize, in_mapping: bool) -> Option<Value> {
        let mut items = Vec::new();
        loop {
            self.pos += 1; // the `-`
            self.skip_spaces();
            let item = if matches!(self.peek(), b'\n' | b'#' | 0) {
                self.end_of_line()?;
                self.nested_block(indent, false)?
            } else if self.key_end().is_some() {
                let column = self.column();
                self.block_mapping(column)?
            } else if self.is_sequence_entry() {
                return None;
            } else {
                self.inline_value(indent)?
            };
            items.push(item);
            let (start, next) = self.peek_content_line()?;
            if start >= self.b.len() || next < indent {
                return Some(Value::Array(items));
            }
            self.pos = start;
            if next > indent {
                return None;
            }
            if !self.is_sequence_entry() {
                return in_mapping.then_some(Value::Array(items));
            }
        }
    }

    fn block_mapping(&mut self, indent: usize) -> Option<Value> {
        let mut map = Map::new();
        loop {
            let key = self.key()?;
            self.skip_spaces();
            let value = if matches!(self.peek(), b'\n' | b'#' | 0) {
                self.end_of_line()?;
                self.nested_block(indent, true)?
            } else {
                self.inline_value(indent)?
            };
            if map.insert(key, value).is_some() {
                return None;
            }
            let (start, next) = self.peek_content_line()?;
            if start >= self.b.len() || next < indent {
                return Some(Value::Object(map));
            }
            self.pos = start;
            if next > indent || self.key_end().is_none() {
                return None;
            }
        }
    }

    /// The node after a `key:` or `-` that ended its line: an indented block, a sequence at
    /// the mapping's own indent, or nothing (null).
    fn nested_block(&mut self, parent: usize, in_mapping: bool) -> Option<Value> {
        let (start, indent) = self.peek_content_line()?;
        if start < self.b.len() {
            let here = self.pos;
            self.pos = start;
            if indent > parent {
                return self.block_node(indent, parent);
            }
            if in_mapping && indent == parent && self.is_sequence_entry() {
                return self.block_sequence(indent, true);
            }
            self.pos = here;
        }
        Some(Value::Null)
    }

    /// If a mapping key starts here, the position of its `:`.
    fn key_end(&self) -> Option<usize> {
        let mut i = self.pos;
        match self.peek() {
            q @ (b'"' | b'\'') => {
                i += 1;
                loop {
                    match *self.b.get(i)? {
                        b'\n' => return None,
                        b'\\' if q == b'"' => i += 2,
                        c if c == q => {
                            if q == b'\'' && self.b.get(i + 1) == Some(&b'\'') {
                                i += 2;
                            } else {
                                i += 1;
                                break;
                            }
                        }
                        _ => i += 1,
                    }
                }
                (self.b.get(i) == Some(&b':') && matches!(self.b.get(i + 1), Some(b' ' | b'\n') | None)).then_some(i)
            }
            b'-' | b'?' | b':' | b',' | b'[' | b']' | b'{' | b'}' | b'#' | b'&' | b'*' | b'!' | b'|' | b'>' | b'%' | b'@' | b'`' => None,
            _ => {
                while let Some(&c) = self.b.get(i) {
                    match c {
                        b'\n' => return None,
                        b':' if matches!(self.b.get(i + 1), Some(b' ' | b'\n') | None) => return Some(i),
                        b'#' if self.b[i - 1] == b' ' => return None,
                        _ => i += 1,
                    }
                }
                None
            }
        }
    }

    /// Reads a key and its `:`; keys are strings as written.
    fn key(&mut self) -> Option<String> {
        let end = self.key_end()?;
        // YAML's limit for a key without `?`.
        if end - self.pos > 1024 {
            return None;
        }
        let key = match self.peek() {
            b'"' | b'\'' => self.quoted()?,
            _ => {
                let key = self.src[self.pos..end].trim_end_matches(' ').to_owned();
                self.pos = end;
                key
            }
        };
        if self.pos != end {
            return None;
        }
        self.pos = end + 1;
        Some(key)
    }

    /// A value that starts on the current line, after `key: ` or `- `.
    fn inline_value(&mut self, parent: usize) -> Option<Value> {
        let value = match self.peek() {
            b'|' | b'>' => return self.block_scalar(parent),
            b'[' | b'{' => self.flow_node()?,
            b'"' | b'\'' => Value::String(self.quoted()?),
            b'-' if self.is_sequence_entry() => return None,
            b'&' | b'*' | b'!' | b'%' | b'@' | b'`' | b'?' | b',' | b']' | b'}' | b'#' => return None,
            _ => return self.plain_block_scalar(parent),
        };
        self.end_of_line()?;
        Some(value)
    }

    /// A plain scalar in block context, possibly continued on lines indented more than `parent`.
    fn plain_block_scalar(&mut self, parent: usize) -> Option<Value> {
        let mut text = self.plain_line()?;
        loop {
            self.skip_spaces();
            let commented = self.peek() == b'#';
            self.end_of_line()?;
            let (start, indent) = self.peek_content_line()?;
            let between = &self.b[self.pos..start];
            // A comment ends the scalar.
            if commented || start >= self.b.len() || indent <= parent || between.contains(&b'#') {
                return resolve_plain(text);
            }
            let breaks = between.iter().filter(|&&c| c == b'\n').count();
            self.pos = start;
            let line = self.plain_line()?;
            if breaks == 0 {
                text.push(' ');
            } else {
                text.extend(std::iter::repeat_n('\n', breaks));
            }
            text.push_str(&line);
        }
    }

    /// The rest of a line of a plain scalar, trimmed; `None` where YAML would read more structure.
    fn plain_line(&mut self) -> Option<String> {
        let start = self.pos;
        while let Some(&c) = self.b.get(self.pos) {
            match c {
                b'\n' => break,
                b':' if matches!(self.peek_at(1), b' ' | b'\n' | 0) => return None,
                b'#' if self.b[self.pos - 1] == b' ' => break,
                _ => self.pos += 1,
            }
        }
        Some(self.src[start..self.pos].trim_end_matches(' ').to_owned())
    }

    /// `|` or `>` with an optional `-` (strip), then the lines indented more than `parent`.
    fn block_scalar(&mut self, parent: usize) -> Option<Value> {
        let folded = self.peek() == b'>';
        self.pos += 1;
        let strip = self.peek() == b'-';
        if strip {
            self.pos += 1;
        }
        if !matches!(self.peek(), b' ' | b'\n' | 0) {
            return None;
        }
        self.end_of_line()?;
        // (spaces, line) of every line of the block; empty lines are all spaces.
        let mut lines: Vec<(usize, &str)> = Vec::new();
        let mut indent = None;
        let mut broken = false;
        while !self.at_end() {
            let end = self.b[self.pos..].iter().position(|&c| c == b'\n').map_or(self.b.len(), |i| self.pos + i);
            let line = &self.src[self.pos..end];
            let spaces = line.len() - line.trim_start_matches(' ').len();
            if spaces < line.len() {
                let content = *indent.get_or_insert(spaces);
                if spaces < content || content <= parent {
                    break;
                }
                if folded && spaces > content {
                    return None;
                }
            }
            lines.push((spaces, line));
            // Clipping keeps the last line break only where there is one.
            if spaces < line.len() {
                broken = end < self.b.len();
            }
            self.pos = (end + 1).min(self.b.len());
        }
        let Some(indent) = indent.filter(|&i| i > parent) else {
            // No content: only empty lines.
            return lines.iter().all(|&(spaces, _)| spaces == 0).then(|| Value::String(String::new()));
        };
        // A line of spaces beyond the indent is content (spaces), left to the general parser.
        if lines.iter().any(|&(spaces, line)| spaces == line.len() && spaces > indent) {
            return None;
        }
        // Trailing empty lines are not content (clipped or stripped); the reader is left
        // at the next line.
        let content = lines.iter().rposition(|&(spaces, line)| spaces < line.len()).map_or(0, |i| i + 1);
        let mut text = String::new();
        let mut empties = 0;
        let mut seen = false;
        for &(spaces, line) in &lines[..content] {
            if spaces == line.len() {
                empties += 1;
                continue;
            }
            if !seen || !folded {
                text.extend(std::iter::repeat_n('\n', empties + usize::from(seen)));
            } else if empties == 0 {
                text.push(' ');
            } else {
                text.extend(std::iter::repeat_n('\n', empties));
            }
            text.push_str(&line[indent..]);
            empties = 0;
            seen = true;
        }
        if content > 0 && broken && !strip {
            text.push('\n');
        }
        Some(Value::String(text))
    }

    /// A quoted scalar, possibly over several lines (folded as YAML does).
    fn quoted(&mut self) -> Option<String> {
        let q = self.peek();
        self.pos += 1;
        let mut out = String::new();
        // Escaped characters are never trimmed.
        let mut escaped = 0;
        loop {
            let c = self.peek();
            match c {
                0 => return None,
                b'\'' if q == b'\'' => {
                    if self.peek_at(1) == b'\'' {
                        out.push('\'');
                        self.pos += 2;
                    } else {
                        self.pos += 1;
                        return Some(out);
                    }
                }
                b'"' if q == b'"' => {
                    self.pos += 1;
                    return Some(out);
                }
                b'\\' if q == b'"' => {
                    self.pos += 1;
                    let e = self.peek();
                    self.pos += 1;
                    match e {
                        b'n' => out.push('\n'),
                        b't' => out.push('\t'),
                        b'"' => out.push('"'),
                        b'\\' => out.push('\\'),
                        b'/' => out.push('/'),
                        b' ' => out.push(' '),
                        b'0' => out.push('\0'),
                        b'r' => out.push('\r'),
                        b'\n' => {
                            while self.peek() == b' ' {
                                self.pos += 1;
                            }
                        }
                        b'x' | b'u' | b'U' => {
                            let n = match e {
                                b'x' => 2,
                                b'u' => 4,
                                _ => 8,
                            };
                            let hex = self.src.get(self.pos..self.pos + n)?;
                            out.push(char::from_u32(u32::from_str_radix(hex, 16).ok()?)?);
                            self.pos += n;
                        }
                        _ => return None,
                    }
                    escaped = out.len();
                }
                b'\n' => {
                    // Fold: trailing spaces go, a single break is a space, empty lines are breaks.
                    out.truncate(out.trim_end_matches(' ').len().max(escaped));
                    let mut breaks = 0;
                    loop {
                        self.pos += 1;
                        self.skip_spaces();
                        if self.peek() == b'\n' {
                            breaks += 1;
                        } else {
                            break;
                        }
                    }
                    if self.at_end() {
                        return None;
                    }
                    if breaks == 0 {
                        out.push(' ');
                    } else {
                        out.extend(std::iter::repeat_n('\n', breaks));
                    }
                }
                _ => {
                    let start = self.pos;
                    while !matches!(self.peek(), b'\'' | b'"' | b'\\' | b'\n' | 0) {
                        self.pos += 1;
                    }
                    if self.pos == start {
                        // `"` inside single quotes, `'` inside double quotes.
                        self.pos += 1;
                    }
                    out.push_str(&self.src[start..self.pos]);
                }
            }
        }
    }

    /// Spaces and line breaks inside a flow collection (no comments).
    fn flow_space(&mut self) -> Option<()> {
        while matches!(self.peek(), b' ' | b'\n') {
            self.pos += 1;
        }
        (self.peek() != b'#').then_some(())
    }

    fn flow_node(&mut self) -> Option<Value> {
        self.flow_space()?;
        match self.peek() {
            b'[' => {
                self.pos += 1;
                let mut items = Vec::new();
                loop {
                    self.flow_space()?;
                    if self.peek() == b']' {
                        self.pos += 1;
                        return Some(Value::Array(items));
                    }
                    items.push(self.flow_node()?);
                    self.flow_space()?;
                    match self.peek() {
                        b',' => self.pos += 1,
                        b']' => {}
                        _ => return None,
                    }
                }
            }
            b'{' => {
                self.pos += 1;
                let mut map = Map::new();
                loop {
                    self.flow_space()?;
                    if self.peek() == b'}' {
                        self.pos += 1;
                        return Some(Value::Object(map));
                    }
                    let key = match self.peek() {
                        b'"' | b'\'' => self.quoted()?,
                        b'[' | b'{' => return None,
                        _ => self.flow_plain()?,
                    };
                    // A key and its `:` are on one line.
                    self.skip_spaces();
                    if self.peek() != b':' {
                        return None;
                    }
                    self.pos += 1;
                    self.flow_space()?;
                    let value = if matches!(self.peek(), b',' | b'}') { Value::Null } else { self.flow_node()? };
                    if map.insert(key, value).is_some() {
                        return None;
                    }
                    self.flow_space()?;
                    match self.peek() {
                        b',' => self.pos += 1,
                        b'}' => {}
                        _ => return None,
                    }
                }
            }
            b'"' | b'\'' => Some(Value::String(self.quoted()?)),
            _ => resolve_plain(self.flow_plain()?),
        }
    }

    /// A plain scalar inside a flow collection, on one line.
    fn flow_plain(&mut self) -> Option<String> {
        if matches!(self.peek(), b'-' | b'?' | b':' | b',' | b']' | b'}' | b'#' | b'&' | b'*' | b'!' | b'|' | b'>' | b'%' | b'@' | b'`')
            && !(self.peek() == b'-' && self.peek_at(1).is_ascii_digit())
        {
            return None;
        }
        let start = self.pos;
        while let Some(&c) = self.b.get(self.pos) {
            match c {
                b',' | b'[' | b']' | b'{' | b'}' | b'\n' => break,
                b':' if matches!(self.peek_at(1), b' ' | b',' | b']' | b'}' | b'\n' | 0) => break,
                b'#' if self.b[self.pos - 1] == b' ' => return None,
                _ => self.pos += 1,
            }
        }
        let text = self.src[start..self.pos].trim_end_matches(' ');
        (!text.is_empty()).then(|| text.to_owned())
    }
}

/// What a plain scalar means, as the general parser reads it: null, a boolean, an integer,
/// a float, or else the string; `None` for the number forms left to it (hexadecimal, octal,
/// binary, signs on signs, infinities and NaN, integers beyond 64 bits).
fn resolve_plain(text: String) -> Option<Value> {
    match text.as_str() {
        "" | "~" | "null" | "Null" | "NULL" => return Some(Value::Null),
        "true" | "True" | "TRUE" => return Some(Value::Bool(true)),
        "false" | "False" | "FALSE" => return Some(Value::Bool(false)),
        _ => {}
    }
    if !text.starts_with(|c: char| c.is_ascii_digit() || matches!(c, '-' | '+' | '.')) {
        return Some(Value::String(text));
    }
    let negative = text.starts_with('-');
    let unsigned = text.strip_prefix(['+', '-']).unwrap_or(&text);
    let special = [".inf", ".nan"].iter().any(|s| unsigned.eq_ignore_ascii_case(s));
    if special || unsigned.starts_with(['+', '-']) || ["0x", "0o", "0b"].iter().any(|p| unsigned.starts_with(p)) {
        return None;
    }
    let digits = !unsigned.is_empty() && unsigned.bytes().all(|b| b.is_ascii_digit());
    // Leading zeros followed by digits make a string (YAML 1.2).
    if digits && unsigned.len() > 1 && unsigned.starts_with('0') {
        return Some(Value::String(text));
    }
    if digits {
        let number = if negative { text.parse::<i64>().ok().map(Number::from) } else { unsigned.parse::<u64>().ok().map(Number::from) };
        return number.map(Value::Number);
    }
    match unsigned.parse::<f64>() {
        Ok(f) if f.is_finite() => Number::from_f64(if negative { -f } else { f }).map(Value::Number),
        _ => Some(Value::String(text)),
    }
}
