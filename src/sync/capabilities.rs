//! The rmosh capability announcement (docs/extensions.md): what one peer
//! understands beyond Mosh 1.4.0, said once, as part of its synchronized
//! object, so loss and reordering need no special case.
//!
//! A client announces first, in its user stream; a stock `mosh-server`
//! ignores the unknown element. A server answers only a client that
//! announced, so a stock `mosh-client` never sees an extension. Each side
//! then uses the intersection of the two sets.

use crate::transport::message::Hello;

/// A set of named rmosh extensions.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Capabilities(u32);

/// The wire name of each capability; unknown names are ignored on receipt.
const NAMES: &[(Capabilities, &str)] = &[
    (Capabilities::TTY_MODE, "tty-mode"),
    (Capabilities::SCROLLBACK, "scrollback"),
];

impl Capabilities {
    /// No extension: a stock peer, or one that has not announced yet.
    pub const NONE: Self = Self(0);
    /// The server reports the pty's echo state (`HostBuffers` field 1001).
    pub const TTY_MODE: Self = Self(1 << 0);
    /// Lines scrolled off the server's screen go into the client
    /// terminal's own history (`HostBuffers` field 1003).
    pub const SCROLLBACK: Self = Self(1 << 1);
    /// Every extension this build understands (the default announcement).
    pub const SUPPORTED: Self = Self::TTY_MODE.union(Self::SCROLLBACK);

    /// Whether every capability of `other` is in `self`.
    pub const fn contains(self, other: Self) -> bool {
        self.0 & other.0 == other.0
    }

    /// The capabilities both sets hold.
    pub const fn intersection(self, other: Self) -> Self {
        Self(self.0 & other.0)
    }

    /// The capabilities either set holds.
    pub const fn union(self, other: Self) -> Self {
        Self(self.0 | other.0)
    }

    /// `self` without `other`.
    pub const fn without(self, other: Self) -> Self {
        Self(self.0 & !other.0)
    }

    /// Whether the set is empty.
    pub const fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// The wire names, in registry order.
    pub fn names(self) -> impl Iterator<Item = &'static str> {
        NAMES
            .iter()
            .filter(move |(c, _)| self.contains(*c))
            .map(|(_, n)| *n)
    }

    /// The set named by `names`; names this build does not know are ignored
    /// (a newer peer may understand more).
    pub fn from_names<'a>(names: impl IntoIterator<Item = &'a str>) -> Self {
        names
            .into_iter()
            .filter_map(|n| NAMES.iter().find(|(_, known)| *known == n))
            .fold(Self::NONE, |acc, (c, _)| acc.union(*c))
    }
}

/// What a peer said about itself in its announcement.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PeerHello {
    /// The extensions it understands (only those this build knows).
    pub capabilities: Capabilities,
    /// Its name and version, e.g. `rmosh 0.1.0`, if it said.
    pub software: Option<String>,
}

/// This build's name and version, as announced.
pub fn software() -> String {
    format!("rmosh {}", env!("CARGO_PKG_VERSION"))
}

/// Longest software string kept from a peer (it is only ever displayed).
const MAX_SOFTWARE: usize = 64;

impl PeerHello {
    /// This build's announcement with `capabilities`.
    pub fn ours(capabilities: Capabilities) -> Self {
        PeerHello {
            capabilities,
            software: Some(software()),
        }
    }

    /// The wire form.
    pub fn to_wire(&self) -> Hello {
        Hello {
            capability: self.capabilities.names().map(str::to_owned).collect(),
            software: self.software.clone(),
        }
    }

    /// Reads a peer's announcement; a software string that is too long or
    /// not printable is dropped (it ends up on the user's screen).
    pub fn from_wire(h: &Hello) -> Self {
        let software = h
            .software
            .as_ref()
            .filter(|s| s.len() <= MAX_SOFTWARE && s.chars().all(|c| !c.is_control()))
            .cloned();
        PeerHello {
            capabilities: Capabilities::from_names(h.capability.iter().map(String::as_str)),
            software,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_unknown_names_are_ignored() {
        let c = Capabilities::SUPPORTED;
        let names: Vec<&str> = c.names().collect();
        assert_eq!(Capabilities::from_names(names.iter().copied()), c);
        let with_future = ["tty-mode", "teleport"];
        assert_eq!(
            Capabilities::from_names(with_future),
            Capabilities::TTY_MODE
        );
        assert_eq!(Capabilities::from_names([]), Capabilities::NONE);
    }

    #[test]
    fn set_operations() {
        let t = Capabilities::TTY_MODE;
        assert!(t.contains(Capabilities::NONE));
        assert!(!Capabilities::NONE.contains(t));
        assert_eq!(t.intersection(Capabilities::NONE), Capabilities::NONE);
        assert_eq!(Capabilities::NONE.union(t), t);
        assert!(t.without(t).is_empty());
    }

    #[test]
    fn hostile_software_strings_are_dropped() {
        let h = Hello {
            capability: vec!["tty-mode".into()],
            software: Some("evil\x1b]0;pwned\x07".into()),
        };
        let p = PeerHello::from_wire(&h);
        assert_eq!(p.software, None);
        assert_eq!(p.capabilities, Capabilities::TTY_MODE);
        let long = Hello {
            capability: Vec::new(),
            software: Some("x".repeat(65)),
        };
        assert_eq!(PeerHello::from_wire(&long).software, None);
        let ours = PeerHello::ours(Capabilities::SUPPORTED);
        assert_eq!(PeerHello::from_wire(&ours.to_wire()), ours);
    }
}
