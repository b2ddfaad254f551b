//! The commands a container or exec "runs": no processes are started, a tiny interpreter
//! emulates `echo`, `cat`, `sleep`, `true`, `false`, `exit` and a few busybox applets, and
//! `sh -c` scripts made of them (`;`, `&&`, `||`, quotes, `$VAR`, `>&2`).
//!
//! Output goes to a [`Sink`], input comes from an optional channel (closed = EOF). With a
//! TTY, input passes a terminal's line discipline first (echo, erase, `^C`, `^D`), and `sh`
//! without a script is an interactive shell with busybox's prompt. Killing is the caller's
//! job: it drops the future returned by [`run`].

use std::time::Duration;

use bytes::Bytes;
use moby_api_runtime::stream::StdStream;
use tokio::sync::{mpsc, watch};

/// Where a process's output goes (container logs and attachments, or an exec connection).
pub trait Sink: Send + Sync {
    fn write(&self, stream: StdStream, data: Bytes);
}

/// What an emulated process sees of the world.
pub struct Io {
    pub sink: Box<dyn Sink>,
    /// The process's stdin; `None` is an empty stdin.
    pub stdin: Option<mpsc::UnboundedReceiver<Bytes>>,
    /// `true` while the container is paused: output and timers wait for it to turn `false`.
    pub paused: watch::Receiver<bool>,
    pub env: Vec<String>,
    pub hostname: String,
    pub workdir: String,
    /// Whether stdin and stdout are a terminal (`-t`): input is then read a line at a time
    /// through [`LineDiscipline`].
    pub tty: bool,
    pub line_discipline: LineDiscipline,
}

/// What a terminal in canonical mode does to typed input before a program reads it (the
/// client's terminal is raw and forwards every key): echoes it, turns `\r` into `\n`,
/// erases with backspace, and hands over whole lines; `^D` on an empty line is the end of
/// input, `^C` interrupts.
#[derive(Debug, Default)]
pub struct LineDiscipline {
    /// Bytes received and not yet looked at.
    pending: Vec<u8>,
    /// The line being typed.
    line: Vec<u8>,
}

/// What a program gets from its terminal.
enum Typed {
    Line(Bytes),
    /// `^D` on an empty line.
    Eof,
    /// `^C`: the line typed so far is dropped.
    Interrupt,
}

impl Io {
    async fn out(&mut self, stream: StdStream, data: impl Into<Bytes>) {
        self.wait_unpaused().await;
        self.sink.write(stream, data.into());
    }

    /// A paused container's processes are frozen: hold on while the flag is set. A dropped
    /// sender means the container is gone; carry on (the caller cancels us then anyway).
    async fn wait_unpaused(&mut self) {
        let _ = self.paused.wait_for(|paused| !paused).await;
    }

    async fn read_stdin(&mut self) -> Option<Bytes> {
        if self.tty {
            return match self.read_typed().await {
                Typed::Line(line) => Some(line),
                Typed::Eof | Typed::Interrupt => None,
            };
        }
        self.receive().await
    }

    async fn receive(&mut self) -> Option<Bytes> {
        match &mut self.stdin {
            Some(rx) => rx.recv().await,
            None => None,
        }
    }

    /// The next line typed on the terminal, echoing as the terminal would.
    async fn read_typed(&mut self) -> Typed {
        loop {
            let pending = std::mem::take(&mut self.line_discipline.pending);
            let mut echo = Vec::new();
            let mut result = None;
            let mut rest = pending.iter();
            for &byte in rest.by_ref() {
                let line = &mut self.line_discipline.line;
                match byte {
                    b'\r' | b'\n' => {
                        echo.push(b'\n');
                        line.push(b'\n');
                        result = Some(Typed::Line(Bytes::from(std::mem::take(line))));
                    }
                    // ^D: the end of input on an empty line, else hands over what is typed.
                    0x04 if line.is_empty() => result = Some(Typed::Eof),
                    0x04 => result = Some(Typed::Line(Bytes::from(std::mem::take(line)))),
                    0x03 => {
                        echo.extend_from_slice(b"^C\n");
                        line.clear();
                        result = Some(Typed::Interrupt);
                    }
                    // Backspace (DEL from most terminals, or ^H): erase one character.
                    0x7f | 0x08 => {
                        if line.pop().is_some() {
                            echo.extend_from_slice(b"\x08 \x08");
                        }
                    }
                    byte => {
                        line.push(byte);
                        echo.push(byte);
                    }
                }
                if result.is_some() {
                    break;
                }
            }
            self.line_discipline.pending = rest.copied().collect();
            if !echo.is_empty() {
                self.out(StdStream::Stdout, echo).await;
            }
            if let Some(result) = result {
                return result;
            }
            match self.receive().await {
                Some(bytes) => self.line_discipline.pending.extend_from_slice(&bytes),
                None => return Typed::Eof,
            }
        }
    }

    fn var(&self, name: &str) -> Option<String> {
        if name == "HOSTNAME" {
            return Some(self.hostname.clone());
        }
        self.env.iter().find_map(|kv| kv.split_once('=').filter(|(k, _)| *k == name).map(|(_, v)| v.to_owned()))
    }
}

/// Runs `argv` (the container's entrypoint and command, or an exec's command) and returns
/// its exit status.
pub async fn run(argv: &[String], io: &mut Io) -> i64 {
    let Some(first) = argv.first() else {
        return 0;
    };
    match basename(first) {
        "sh" | "ash" | "bash" => match argv.get(1).map(String::as_str) {
            Some("-c") => match argv.get(2) {
                Some(script) => run_script(script, io).await,
                None => {
                    io.out(StdStream::Stderr, "sh: -c requires an argument\n").await;
                    2
                }
            },
            // On a terminal, `sh` alone is interactive (`docker run -it busybox sh`).
            None | Some("-i") if io.tty => interactive(io).await,
            // Otherwise it reads its script from stdin (`echo 'echo hi' | docker run -i busybox sh`).
            None | Some("-s") | Some("-i") => {
                let mut script = Vec::new();
                while let Some(chunk) = io.read_stdin().await {
                    script.extend_from_slice(&chunk);
                }
                run_script(&String::from_utf8_lossy(&script), io).await
            }
            Some(file) => {
                let message = format!("sh: can't open '{file}': No such file or directory\n");
                io.out(StdStream::Stderr, message).await;
                2
            }
        },
        _ => match command(argv, Target::Stream(StdStream::Stdout), io).await {
            Flow::Status(status) | Flow::Exit(status) => status,
            Flow::NotFound => {
                // What runc reports when the binary does not exist; the daemon's exit code for it is 127.
                let message = format!("exec: \"{first}\": executable file not found in $PATH\n");
                io.out(StdStream::Stderr, message).await;
                127
            }
        },
    }
}

fn basename(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

/// What a command did to the script around it.
enum Flow {
    Status(i64),
    /// `exit N`: the script ends.
    Exit(i64),
    NotFound,
}

/// An interactive shell: busybox's prompt (`/ # `, the working directory for root), a line
/// at a time, until `exit N` (N) or `^D` (the last status); `^C` drops the line.
async fn interactive(io: &mut Io) -> i64 {
    let mut status = 0;
    loop {
        let prompt = format!("{} # ", io.workdir);
        io.out(StdStream::Stdout, prompt).await;
        match io.read_typed().await {
            Typed::Line(line) => match run_statements(&String::from_utf8_lossy(&line), io, status).await {
                Flow::Exit(code) => return code,
                Flow::Status(code) => status = code,
                Flow::NotFound => status = 127,
            },
            Typed::Interrupt => status = 130,
            Typed::Eof => {
                io.out(StdStream::Stdout, "\n").await;
                return status;
            }
        }
    }
}

async fn run_script(script: &str, io: &mut Io) -> i64 {
    match run_statements(script, io, 0).await {
        Flow::Status(status) | Flow::Exit(status) => status,
        Flow::NotFound => 127,
    }
}

/// Runs the statements of `script` after a command that ended with `status`: the status of
/// the last one, or `Exit` when one was `exit N`.
async fn run_statements(script: &str, io: &mut Io, status: i64) -> Flow {
    let statements = match parse_script(script) {
        Ok(statements) => statements,
        Err(message) => {
            io.out(StdStream::Stderr, format!("sh: syntax error: {message}\n")).await;
            return Flow::Status(2);
        }
    };
    let mut status = status;
    for statement in statements {
        let skip = match statement.join {
            Join::Seq => false,
            Join::And => status != 0,
            Join::Or => status == 0,
        };
        if skip {
            continue;
        }
        let argv: Vec<String> = statement.words.iter().map(|w| expand(w, io, status)).collect();
        if argv.is_empty() {
            continue;
        }
        match command(&argv, statement.stdout_to, io).await {
            Flow::Status(s) => status = s,
            Flow::Exit(s) => return Flow::Exit(s),
            Flow::NotFound => {
                io.out(StdStream::Stderr, format!("sh: {}: not found\n", argv[0])).await;
                status = 127;
            }
        }
    }
    Flow::Status(status)
}

/// One applet. `to` is where its stdout goes (`>&2` sends it to stderr); `None` discards it.
async fn command(argv: &[String], to: Target, io: &mut Io) -> Flow {
    let args = &argv[1..];
    let name = basename(&argv[0]);
    let mut emit = String::new();
    let status = match name {
        "echo" => {
            let (newline, words) = match args.first().map(String::as_str) {
                Some("-n") => (false, &args[1..]),
                _ => (true, args),
            };
            emit = words.join(" ");
            if newline {
                emit.push('\n');
            }
            0
        }
        "printf" => {
            emit = printf(args);
            0
        }
        "true" | ":" => 0,
        "false" => 1,
        "exit" => return Flow::Exit(args.first().and_then(|a| a.parse::<i64>().ok()).map_or(0, |n| n & 0xff)),
        "sleep" => {
            let Some(duration) = args.first().and_then(|a| parse_sleep(a)) else {
                io.out(StdStream::Stderr, "sleep: invalid number\n").await;
                return Flow::Status(1);
            };
            match duration {
                Some(d) => tokio::time::sleep(d).await,
                None => std::future::pending::<()>().await,
            }
            io.wait_unpaused().await;
            0
        }
        "cat" => {
            if let Some(file) = args.iter().find(|a| a.as_str() != "-") {
                let message = format!("cat: can't open '{file}': No such file or directory\n");
                io.out(StdStream::Stderr, message).await;
                return Flow::Status(1);
            }
            if io.tty {
                loop {
                    match io.read_typed().await {
                        Typed::Line(line) => write(io, to, line).await,
                        Typed::Eof => break 0,
                        Typed::Interrupt => break 130,
                    }
                }
            } else {
                while let Some(chunk) = io.read_stdin().await {
                    write(io, to, chunk).await;
                }
                0
            }
        }
        "hostname" => {
            emit = format!("{}\n", io.hostname);
            0
        }
        "env" | "printenv" => {
            emit = io.env.iter().map(|kv| format!("{kv}\n")).collect();
            0
        }
        "pwd" => {
            emit = format!("{}\n", io.workdir);
            0
        }
        "whoami" => {
            emit = "root\n".to_owned();
            0
        }
        "id" => {
            emit = "uid=0(root) gid=0(root) groups=0(root),10(wheel)\n".to_owned();
            0
        }
        "seq" => {
            let numbers: Vec<i64> = args.iter().filter_map(|a| a.parse().ok()).collect();
            let (first, last) = match numbers.as_slice() {
                [last] => (1, *last),
                [first, last, ..] => (*first, *last),
                [] => return Flow::Status(1),
            };
            // Bounded: this is an emulator, not a load generator.
            emit = (first..=last).take(100_000).map(|n| format!("{n}\n")).collect();
            0
        }
        _ => return Flow::NotFound,
    };
    if !emit.is_empty() {
        write(io, to, Bytes::from(emit)).await;
    }
    Flow::Status(status)
}

async fn write(io: &mut Io, to: Target, data: Bytes) {
    match to {
        Target::Stream(stream) => io.out(stream, data).await,
        Target::Null => {}
    }
}

/// `sleep`'s argument: seconds with an optional fraction and `s`/`m`/`h` suffix;
/// `infinity` is `Some(None)`.
fn parse_sleep(arg: &str) -> Option<Option<Duration>> {
    if arg == "infinity" || arg == "inf" {
        return Some(None);
    }
    let (number, unit) = match arg.strip_suffix(['s', 'm', 'h', 'd']) {
        Some(number) => (number, &arg[number.len()..]),
        None => (arg, "s"),
    };
    let factor = match unit {
        "m" => 60.0,
        "h" => 3600.0,
        "d" => 86_400.0,
        _ => 1.0,
    };
    let seconds: f64 = number.parse().ok()?;
    Duration::try_from_secs_f64(seconds * factor).ok().map(Some)
}

/// `printf FORMAT ARGS…` with `%s`, `%d`, `%%` and the usual backslash escapes.
fn printf(args: &[String]) -> String {
    let Some(format) = args.first() else {
        return String::new();
    };
    let mut values = args[1..].iter();
    let mut out = String::new();
    let mut chars = format.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some('n') => out.push('\n'),
                Some('t') => out.push('\t'),
                Some('\\') => out.push('\\'),
                Some(other) => {
                    out.push('\\');
                    out.push(other);
                }
                None => out.push('\\'),
            },
            '%' => match chars.next() {
                Some('s') | Some('d') => out.push_str(values.next().map_or("", String::as_str)),
                Some('%') => out.push('%'),
                Some(other) => {
                    out.push('%');
                    out.push(other);
                }
                None => out.push('%'),
            },
            c => out.push(c),
        }
    }
    out
}

/// Where a statement's stdout goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Target {
    Stream(StdStream),
    Null,
}

/// How a statement joins the one before it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Join {
    Seq,
    And,
    Or,
}

/// One simple command of a script, its words still unexpanded.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Statement {
    join: Join,
    words: Vec<Word>,
    stdout_to: Target,
}

/// A word as written: literal pieces and `$NAME` references, so that quoting decides what
/// is expanded.
type Word = Vec<Piece>;

#[derive(Debug, Clone, PartialEq, Eq)]
enum Piece {
    Text(String),
    Var(String),
}

fn expand(word: &Word, io: &Io, status: i64) -> String {
    word.iter()
        .map(|piece| match piece {
            Piece::Text(text) => text.clone(),
            Piece::Var(name) if name == "?" => status.to_string(),
            Piece::Var(name) => io.var(name).unwrap_or_default(),
        })
        .collect()
}

/// Splits a script into statements: words with single and double quotes, backslashes and
/// `$VAR`/`${VAR}`/`$?`, separated by `;`, newlines, `&&` and `||`; `>&2` and `1>&2` send
/// stdout to stderr, `>/dev/null` drops it, `2>&1` and `2>/dev/null` are accepted and ignored.
fn parse_script(script: &str) -> Result<Vec<Statement>, String> {
    let mut statements = Vec::new();
    let mut current = Statement { join: Join::Seq, words: Vec::new(), stdout_to: Target::Stream(StdStream::Stdout) };
    let mut word: Word = Vec::new();
    let mut in_word = false;
    let mut chars = script.chars().peekable();

    fn push_text(word: &mut Word, c: char) {
        match word.last_mut() {
            Some(Piece::Text(text)) => text.push(c),
            _ => word.push(Piece::Text(c.to_string())),
        }
    }
    fn finish_word(current: &mut Statement, word: &mut Word, in_word: &mut bool) {
        if *in_word {
            let literal: Option<String> = word
                .iter()
                .map(|p| match p {
                    Piece::Text(t) => Some(t.as_str()),
                    Piece::Var(_) => None,
                })
                .collect();
            match literal.as_deref() {
                Some(">&2") | Some("1>&2") => current.stdout_to = Target::Stream(StdStream::Stderr),
                Some(">/dev/null") | Some("1>/dev/null") => current.stdout_to = Target::Null,
                Some("2>&1") | Some("2>/dev/null") => {}
                _ => current.words.push(std::mem::take(word)),
            }
            word.clear();
            *in_word = false;
        }
    }
    fn variable(chars: &mut std::iter::Peekable<std::str::Chars<'_>>) -> Result<Option<String>, String> {
        match chars.peek().copied() {
            Some('{') => {
                chars.next();
                let mut name = String::new();
                loop {
                    match chars.next() {
                        Some('}') => return Ok(Some(name)),
                        Some(c) => name.push(c),
                        None => return Err("missing '}'".to_owned()),
                    }
                }
            }
            Some('?') => {
                chars.next();
                Ok(Some("?".to_owned()))
            }
            Some(c) if c == '_' || c.is_ascii_alphabetic() => {
                let mut name = String::new();
                while let Some(&c) = chars.peek() {
                    if c == '_' || c.is_ascii_alphanumeric() {
                        name.push(c);
                        chars.next();
                    } else {
                        break;
                    }
                }
                Ok(Some(name))
            }
            _ => Ok(None),
        }
    }

    while let Some(c) = chars.next() {
        // `>&2`, `2>&1`: after `>` an `&` belongs to the redirection, it is no operator.
        if c == '&' && matches!(word.last(), Some(Piece::Text(text)) if text.ends_with('>')) {
            push_text(&mut word, c);
            continue;
        }
        match c {
            ' ' | '\t' => finish_word(&mut current, &mut word, &mut in_word),
            ';' | '\n' | '&' | '|' => {
                let join = match c {
                    '&' if chars.peek() == Some(&'&') => Join::And,
                    '|' if chars.peek() == Some(&'|') => Join::Or,
                    '&' => return Err("background jobs (&) are not supported".to_owned()),
                    '|' => return Err("pipes (|) are not supported".to_owned()),
                    _ => Join::Seq,
                };
                if join != Join::Seq {
                    chars.next();
                }
                finish_word(&mut current, &mut word, &mut in_word);
                if current.words.is_empty() && join != Join::Seq {
                    return Err(format!("unexpected \"{}\"", if join == Join::And { "&&" } else { "||" }));
                }
                let next = Statement { join, words: Vec::new(), stdout_to: Target::Stream(StdStream::Stdout) };
                statements.push(std::mem::replace(&mut current, next));
            }
            '\'' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('\'') => break,
                        Some(c) => push_text(&mut word, c),
                        None => return Err("unterminated quoted string".to_owned()),
                    }
                }
            }
            '"' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('"') => break,
                        Some('\\') => match chars.next() {
                            Some(c @ ('"' | '\\' | '$' | '`')) => push_text(&mut word, c),
                            Some(c) => {
                                push_text(&mut word, '\\');
                                push_text(&mut word, c);
                            }
                            None => return Err("unterminated quoted string".to_owned()),
                        },
                        Some('$') => match variable(&mut chars)? {
                            Some(name) => word.push(Piece::Var(name)),
                            None => push_text(&mut word, '$'),
                        },
                        Some(c) => push_text(&mut word, c),
                        None => return Err("unterminated quoted string".to_owned()),
                    }
                }
            }
            '\\' => {
                in_word = true;
                match chars.next() {
                    Some('\n') | None => {}
                    Some(c) => push_text(&mut word, c),
                }
            }
            '$' => {
                in_word = true;
                match variable(&mut chars)? {
                    Some(name) => word.push(Piece::Var(name)),
                    None => push_text(&mut word, '$'),
                }
            }
            c => {
                in_word = true;
                push_text(&mut word, c);
            }
        }
    }
    finish_word(&mut current, &mut word, &mut in_word);
    if current.words.is_empty() && current.join != Join::Seq {
        return Err("unexpected end of file".to_owned());
    }
    statements.push(current);
    Ok(statements)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};

    #[derive(Clone, Default)]
    struct Collect(Arc<Mutex<Vec<(StdStream, Bytes)>>>);

    impl Sink for Collect {
        fn write(&self, stream: StdStream, data: Bytes) {
            self.0.lock().unwrap().push((stream, data));
        }
    }

    impl Collect {
        fn text(&self, which: StdStream) -> String {
            let all = self.0.lock().unwrap();
            all.iter().filter(|(s, _)| *s == which).map(|(_, b)| String::from_utf8_lossy(b).into_owned()).collect()
        }
    }

    fn argv(words: &[&str]) -> Vec<String> {
        words.iter().map(|w| (*w).to_owned()).collect()
    }

    async fn exec(words: &[&str], stdin: Option<&[&str]>) -> (i64, String, String) {
        run_with(words, stdin, false).await
    }

    async fn run_with(words: &[&str], stdin: Option<&[&str]>, tty: bool) -> (i64, String, String) {
        let sink = Collect::default();
        let stdin = stdin.map(|chunks| {
            let (tx, rx) = mpsc::unbounded_channel();
            for chunk in chunks {
                tx.send(Bytes::copy_from_slice(chunk.as_bytes())).unwrap();
            }
            rx
        });
        let (_paused_tx, paused) = watch::channel(false);
        let mut io = Io {
            sink: Box::new(sink.clone()),
            stdin,
            paused,
            env: vec!["PATH=/bin".to_owned(), "GREETING=hello world".to_owned()],
            hostname: "abc123".to_owned(),
            workdir: "/".to_owned(),
            tty,
            line_discipline: LineDiscipline::default(),
        };
        let status = run(&argv(words), &mut io).await;
        (status, sink.text(StdStream::Stdout), sink.text(StdStream::Stderr))
    }

    #[tokio::test]
    async fn commands() {
        assert_eq!(exec(&["echo", "a", "b"], None).await, (0, "a b\n".into(), String::new()));
        assert_eq!(exec(&["/bin/echo", "-n", "x"], None).await, (0, "x".into(), String::new()));
        assert_eq!(exec(&["true"], None).await.0, 0);
        assert_eq!(exec(&["false"], None).await.0, 1);
        assert_eq!(exec(&["cat"], Some(&["da", "ta\n"])).await, (0, "data\n".into(), String::new()));
        assert_eq!(exec(&["cat"], None).await, (0, String::new(), String::new()));
        let (status, _, err) = exec(&["nope"], None).await;
        assert_eq!(status, 127);
        assert!(err.contains("executable file not found"), "{err}");
        assert_eq!(exec(&["hostname"], None).await.1, "abc123\n");
    }

    #[tokio::test]
    async fn scripts() {
        assert_eq!(exec(&["sh", "-c", "echo hi; exit 3"], None).await, (3, "hi\n".into(), String::new()));
        assert_eq!(exec(&["sh", "-c", "exit 300"], None).await.0, 44);
        assert_eq!(exec(&["sh", "-c", "echo 'a  b' \"$GREETING\" $?"], None).await.1, "a  b hello world 0\n");
        assert_eq!(exec(&["sh", "-c", "false && echo no || echo yes"], None).await.1, "yes\n");
        assert_eq!(exec(&["sh", "-c", "echo err >&2; echo out"], None).await, (0, "out\n".into(), "err\n".into()));
        assert_eq!(exec(&["sh", "-c", "echo e 1>&2 && echo o 2>&1"], None).await, (0, "o\n".into(), "e\n".into()));
        assert_eq!(exec(&["sh", "-c", "sleep 0.01\necho done"], None).await.1, "done\n");
        let (status, _, err) = exec(&["sh", "-c", "frobnicate; echo $?"], None).await;
        assert_eq!((status, err.as_str()), (0, "sh: frobnicate: not found\n"));
        assert_eq!(exec(&["sh", "-c", "echo 'open"], None).await.0, 2);
        assert_eq!(exec(&["sh"], Some(&["echo from stdin\n"])).await.1, "from stdin\n");
        assert_eq!(exec(&["sh", "-c", "printf '%s-%s\\n' a b"], None).await.1, "a-b\n");
    }

    #[tokio::test]
    async fn interactive_shell_on_a_terminal() {
        // What `docker run -it busybox sh` gets for `echo hi⏎`, a typo erased, `exit 3⏎`.
        let (status, out, _) = run_with(&["sh"], Some(&["echo hi\r", "ecx\x7fho x\r", "exit 3\r"]), true).await;
        assert_eq!(status, 3);
        assert_eq!(out, "/ # echo hi\nhi\n/ # ecx\x08 \x08ho x\nx\n/ # exit 3\n");
        // ^D on an empty line ends it with the last status; ^C drops the line.
        let (status, out, _) = run_with(&["sh"], Some(&["false\r", "abc\x03", "\x04"]), true).await;
        assert_eq!(status, 130);
        assert_eq!(out, "/ # false\n/ # abc^C\n/ # \n");
        // Input typed ahead in one piece is taken a line at a time.
        let (status, out, _) = run_with(&["sh"], Some(&["echo a\recho b\r\x04"]), true).await;
        assert_eq!((status, out.as_str()), (0, "/ # echo a\na\n/ # echo b\nb\n/ # \n"));
        // cat on a terminal: echoed input, then its copy; ^C ends it with 130.
        let (status, out, _) = run_with(&["cat"], Some(&["hey\r", "\x03"]), true).await;
        assert_eq!((status, out.as_str()), (130, "hey\nhey\n^C\n"));
    }

    #[test]
    fn sleep_arguments() {
        assert_eq!(parse_sleep("1.5"), Some(Some(Duration::from_millis(1500))));
        assert_eq!(parse_sleep("2m"), Some(Some(Duration::from_secs(120))));
        assert_eq!(parse_sleep("infinity"), Some(None));
        assert_eq!(parse_sleep("x"), None);
    }
}
