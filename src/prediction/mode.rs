//! How predictions are displayed (`--predict`, `MOSH_PREDICTION_DISPLAY`),
//! whether they insert or overwrite, and which judging policy is used.

use std::fmt;
use std::str::FromStr;

/// When predictions are shown (§9.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DisplayPreference {
    /// Shown only while the SRTT or the glitch trigger is active (the default).
    #[default]
    Adaptive,
    /// Always shown once their epoch is confirmed.
    Always,
    /// Never predicted at all.
    Never,
    /// Always shown, epochs bypassed, a wrong cell only clears that cell.
    Experimental,
}

/// An unknown prediction mode name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownMode(pub String);

impl fmt::Display for UnknownMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Unknown prediction mode {} (expected adaptive, always, never or experimental).",
            self.0
        )
    }
}

impl std::error::Error for UnknownMode {}

impl FromStr for DisplayPreference {
    type Err = UnknownMode;

    /// Mosh's names, compared exactly (Mosh uses `strcmp`).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "adaptive" => Ok(Self::Adaptive),
            "always" => Ok(Self::Always),
            "never" => Ok(Self::Never),
            "experimental" => Ok(Self::Experimental),
            other => Err(UnknownMode(other.to_owned())),
        }
    }
}

impl fmt::Display for DisplayPreference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Adaptive => "adaptive",
            Self::Always => "always",
            Self::Never => "never",
            Self::Experimental => "experimental",
        })
    }
}

/// `MOSH_PREDICTION_OVERWRITE`: only the exact value `yes` turns overwrite on.
pub fn overwrite_from_env_value(value: Option<&str>) -> bool {
    value == Some("yes")
}

/// Which rules judge and show predictions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Policy {
    /// rmosh's rules: Mosh's, plus the safe improvements of docs/prediction.md.
    #[default]
    Rmosh,
    /// Mosh 1.4.0's rules exactly (for comparisons).
    MoshCompatible,
}

/// Everything that configures a prediction engine.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PredictionConfig {
    /// When predictions are shown.
    pub display: DisplayPreference,
    /// Typing overwrites instead of inserting (`--predict-overwrite`).
    pub overwrite: bool,
    /// Mosh's rules or rmosh's.
    pub policy: Policy,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mode_names_round_trip_and_unknown_names_are_errors() {
        for m in [
            DisplayPreference::Adaptive,
            DisplayPreference::Always,
            DisplayPreference::Never,
            DisplayPreference::Experimental,
        ] {
            assert_eq!(m.to_string().parse::<DisplayPreference>(), Ok(m));
        }
        assert_eq!(
            "Always".parse::<DisplayPreference>(),
            Err(UnknownMode("Always".into()))
        );
        assert_eq!(DisplayPreference::default(), DisplayPreference::Adaptive);
    }

    #[test]
    fn overwrite_needs_exactly_yes() {
        assert!(overwrite_from_env_value(Some("yes")));
        assert!(!overwrite_from_env_value(Some("YES")));
        assert!(!overwrite_from_env_value(Some("1")));
        assert!(!overwrite_from_env_value(None));
    }
}
