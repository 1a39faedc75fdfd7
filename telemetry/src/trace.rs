//! W3C trace context: a request's `traceparent` (when it is a well-formed one) is known for the
//! rest of the request's task, so that what the request starts in Temporal carries it
//! ([`current`]), and its trace id is on the request's log lines.

use std::future::Future;

tokio::task_local! {
    static TRACEPARENT: Option<TraceParent>;
}

/// A well-formed `traceparent` header: `00-<32 hex trace id>-<16 hex parent id>-<2 hex flags>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TraceParent(String);

impl TraceParent {
    /// The header's value, if it is a well-formed version-00 trace context with ids that are not
    /// all zeros; anything else is ignored, as the W3C recommendation says.
    pub fn parse(value: &str) -> Option<TraceParent> {
        let parts: Vec<&str> = value.trim().split('-').collect();
        let hex = |part: &str, len: usize| {
            part.len() == len
                && part
                    .bytes()
                    .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        };
        match parts.as_slice() {
            [version, trace, parent, flags]
                if *version == "00"
                    && hex(trace, 32)
                    && hex(parent, 16)
                    && hex(flags, 2)
                    && trace.bytes().any(|b| b != b'0')
                    && parent.bytes().any(|b| b != b'0') =>
            {
                Some(TraceParent(value.trim().to_owned()))
            }
            _ => None,
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The trace's id (the 32 hex digits).
    pub fn trace_id(&self) -> &str {
        &self.0[3..35]
    }
}

/// Runs `work` with `traceparent` as the current one.
pub async fn scope<F: Future>(traceparent: Option<TraceParent>, work: F) -> F::Output {
    TRACEPARENT.scope(traceparent, work).await
}

/// The current request's `traceparent`, if it sent one.
pub fn current() -> Option<TraceParent> {
    TRACEPARENT.try_with(Clone::clone).ok().flatten()
}

#[cfg(test)]
mod tests {
    use super::TraceParent;

    #[test]
    fn only_well_formed_trace_contexts_are_taken() {
        let good = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
        let parsed = TraceParent::parse(good).unwrap();
        assert_eq!(parsed.trace_id(), "4bf92f3577b34da6a3ce929d0e0e4736");
        for bad in [
            "",
            "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
            "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7",
            "00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01",
        ] {
            assert!(TraceParent::parse(bad).is_none(), "{bad}");
        }
    }
}
