//! How bad an exception is.

use crate::named_enum;

named_enum! {
    /// Severity of an exception, ordered from least to most urgent.
    pub enum Severity ("severity") {
        Low => "low",
        Medium => "medium",
        High => "high",
        Critical => "critical",
    }
}

impl Severity {
    /// A word for people.
    pub const fn label(self) -> &'static str {
        match self {
            Severity::Low => "Low",
            Severity::Medium => "Medium",
            Severity::High => "High",
            Severity::Critical => "Critical",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn severities_are_ordered_by_urgency() {
        assert!(Severity::Low < Severity::Medium);
        assert!(Severity::High < Severity::Critical);
    }

    #[test]
    fn every_severity_round_trips_through_its_name() {
        for s in Severity::ALL {
            assert_eq!(s.as_str().parse::<Severity>(), Ok(*s));
        }
        assert!("urgent".parse::<Severity>().is_err());
    }
}
