//! The Prometheus text exposition format (version 0.0.4): `# HELP`, `# TYPE`, then one line
//! per series, label values escaped.

use std::fmt::Write;

/// What a family is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Counter,
    Gauge,
    Histogram,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Counter => "counter",
            Kind::Gauge => "gauge",
            Kind::Histogram => "histogram",
        }
    }
}

/// A scrape's text, written family by family.
#[derive(Debug, Default)]
pub struct Text {
    out: String,
}

impl Text {
    /// Starts a family.
    pub fn family(&mut self, name: &str, kind: Kind, help: &str) {
        let _ = writeln!(self.out, "# HELP {name} {help}");
        let _ = writeln!(self.out, "# TYPE {name} {}", kind.name());
    }

    /// One sample of the current family.
    pub fn sample(&mut self, name: &str, labels: &[(&str, &str)], value: f64) {
        self.out.push_str(name);
        write_labels(&mut self.out, labels);
        let _ = writeln!(self.out, " {}", number(value));
    }

    /// A histogram's buckets (cumulative, `+Inf` last), sum and count.
    pub fn histogram(
        &mut self,
        name: &str,
        labels: &[(&str, &str)],
        buckets: &[(f64, u64)],
        sum: f64,
        count: u64,
    ) {
        let bucket = format!("{name}_bucket");
        for (bound, cumulative) in buckets {
            let le = number(*bound);
            let mut with_le = labels.to_vec();
            with_le.push(("le", &le));
            self.sample(&bucket, &with_le, *cumulative as f64);
        }
        self.sample(&format!("{name}_sum"), labels, sum);
        self.sample(&format!("{name}_count"), labels, count as f64);
    }

    pub fn finish(self) -> String {
        self.out
    }
}

fn write_labels(out: &mut String, labels: &[(&str, &str)]) {
    if labels.is_empty() {
        return;
    }
    out.push('{');
    for (i, (key, value)) in labels.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(key);
        out.push_str("=\"");
        for c in value.chars() {
            match c {
                '\\' => out.push_str("\\\\"),
                '"' => out.push_str("\\\""),
                '\n' => out.push_str("\\n"),
                c => out.push(c),
            }
        }
        out.push('"');
    }
    out.push('}');
}

/// A value as Prometheus reads it: integers without a fraction, `+Inf`.
fn number(value: f64) -> String {
    if value == f64::INFINITY {
        "+Inf".to_owned()
    } else if value.fract() == 0.0 && value.abs() < 1e15 {
        format!("{}", value as i64)
    } else {
        format!("{value}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn families_samples_and_histograms_read_as_prometheus_text() {
        let mut text = Text::default();
        text.family(
            "rocketmq_messages_in_total",
            Kind::Counter,
            "Messages stored.",
        );
        text.sample("rocketmq_messages_in_total", &[("topic", "a\"b\\c")], 12.0);
        text.family(
            "rocketmq_rpc_latency",
            Kind::Histogram,
            "Request latency (ms).",
        );
        text.histogram(
            "rocketmq_rpc_latency",
            &[("request_code", "10")],
            &[(1.0, 2), (f64::INFINITY, 3)],
            4.5,
            3,
        );
        assert_eq!(
            text.finish(),
            "\
# HELP rocketmq_messages_in_total Messages stored.
# TYPE rocketmq_messages_in_total counter
rocketmq_messages_in_total{topic=\"a\\\"b\\\\c\"} 12
# HELP rocketmq_rpc_latency Request latency (ms).
# TYPE rocketmq_rpc_latency histogram
rocketmq_rpc_latency_bucket{request_code=\"10\",le=\"1\"} 2
rocketmq_rpc_latency_bucket{request_code=\"10\",le=\"+Inf\"} 3
rocketmq_rpc_latency_sum{request_code=\"10\"} 4.5
rocketmq_rpc_latency_count{request_code=\"10\"} 3
"
        );
    }
}
