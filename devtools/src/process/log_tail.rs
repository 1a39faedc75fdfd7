//! What a process that did not come up shows of its log.

use std::path::Path;

/// The last `lines` lines of a log file. A Go server that panics writes the reason first and then
/// every goroutine's stack, so the reason (`panic: ...` or `fatal error: ...`, to the first blank
/// line) comes first when the last lines do not hold it.
pub(super) fn tail(path: &Path, lines: usize) -> String {
    last_lines(&std::fs::read_to_string(path).unwrap_or_default(), lines)
}

fn last_lines(text: &str, lines: usize) -> String {
    let all: Vec<&str> = text.lines().collect();
    let from = all.len().saturating_sub(lines);
    let reason = all[..from]
        .iter()
        .position(|line| line.starts_with("panic: ") || line.starts_with("fatal error: "))
        .map(|start| {
            all[start..from]
                .iter()
                .take_while(|line| !line.trim().is_empty())
                .take(5)
                .copied()
                .collect::<Vec<_>>()
        });
    match reason {
        Some(reason) => format!("{}\n...\n{}", reason.join("\n"), all[from..].join("\n")),
        None => all[from..].join("\n"),
    }
}

#[cfg(test)]
mod tests {
    use super::last_lines;

    #[test]
    fn a_panics_reason_comes_before_its_stacks() {
        let mut log = String::from(
            "starting\npanic: listen tcp 127.0.0.1:8443: bind: address already in use\n\n",
        );
        for i in 0..30 {
            log.push_str(&format!("frame {i}\n"));
        }
        let shown = last_lines(&log, 3);
        assert_eq!(
            shown,
            "panic: listen tcp 127.0.0.1:8443: bind: address already in use\n...\nframe 27\nframe 28\nframe 29"
        );
    }

    #[test]
    fn a_short_log_is_shown_whole() {
        assert_eq!(last_lines("a\nb\n", 20), "a\nb");
        assert_eq!(last_lines("panic: x\nframe\n", 20), "panic: x\nframe");
    }
}
