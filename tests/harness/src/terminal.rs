//! A client on a real pseudo-terminal (`run -it`, `exec -it`), driven by a small Python
//! program: each key is typed once the shell has prompted for it.

use std::time::Duration;

use crate::command::{run_command_within, Target};

/// Types keys into a client on a pseudo-terminal, each once the shell has prompted for it,
/// and prints what the terminal showed and the exit status, as JSON.
const PTY_DRIVER: &str = r#"
import json, os, pty, select, sys, time
keys, program = json.loads(sys.argv[1]), sys.argv[2:]
pid, fd = pty.fork()
if pid == 0:
    os.execv(program[0], program)
out = b''
def read_until(done, seconds):
    global out
    end = time.time() + seconds
    while time.time() < end and not done():
        if select.select([fd], [], [], 0.05)[0]:
            try:
                data = os.read(fd, 4096)
            except OSError:
                return
            if not data:
                return
            out += data
for i, key in enumerate(keys):
    read_until(lambda: out.count(b'# ') > i, 15)
    os.write(fd, key.encode())
read_until(lambda: False, 15)
_, status = os.waitpid(pid, 0)
print(json.dumps({'shown': out.decode('utf-8', 'replace'), 'status': os.waitstatus_to_exitcode(status)}))
"#;

/// What the terminal showed from the first prompt on, without the cursor-position queries
/// busybox's line editor sends (`ESC [6n`, which no terminal answers here), and the exit
/// status, as one line: `[status] "shown"`. A driver that printed no result (the client hung
/// past the driver's own deadlines) shows as such, so a comparison reports it.
pub fn on_a_terminal(cli: &str, target: &Target, keys: &[&str], args: &[&str]) -> String {
    let keys = serde_json::to_string(keys).expect("keys as JSON");
    let mut command = target.command("python3", &["-c", PTY_DRIVER, &keys, cli]);
    command.args(args);
    let out = run_command_within(command, None, &format!("{cli} {} on a terminal", args.join(" ")), Duration::from_secs(60));
    let Ok(result) = serde_json::from_str::<serde_json::Value>(&out.stdout) else {
        return format!("the terminal driver printed no result (status {:?}): {}", out.status, out.stderr.trim());
    };
    let shown = result["shown"].as_str().unwrap_or_default().replace("\u{1b}[6n", "");
    let from_prompt = shown.find("/ # ").map_or(shown.as_str(), |at| &shown[at..]);
    format!("[{}] {from_prompt:?}", result["status"])
}
