//! rmosh's own per-host settings file (`~/.config/rmosh/config` on Linux, the
//! platform's configuration directory elsewhere): ssh_config syntax, `Host`
//! blocks matched as ssh_config's are, first value wins. Settings fill in only
//! what neither the command line nor the environment decided.

use std::path::{Path, PathBuf};

use super::connect::{ConnectOptions, Predict};
use super::deploy::DeployMode;
use super::pattern::match_host_list;
use super::ssh_config::split_keyword;

/// The settings that apply to one host (None = not set in the file).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HostSettings {
    /// `Predict adaptive|always|never|experimental`.
    pub predict: Option<Predict>,
    /// `PredictOverwrite yes|no`.
    pub predict_overwrite: Option<bool>,
    /// `UdpPort PORT[:PORT2]`.
    pub udp_port: Option<String>,
    /// `EscapeKey ^X|C|none`: the byte for `MOSH_ESCAPE_KEY` (empty = none).
    pub escape_key: Option<Vec<u8>>,
    /// `Server COMMAND`.
    pub server: Option<String>,
    /// `Deploy auto|always|never`.
    pub deploy: Option<DeployMode>,
    // Transport (#12) and scrollback (#11) settings join here once they exist:
    // a field, a keyword in `set`, and a line in docs/client.md.
}

/// The settings file's path, if the platform has a configuration directory.
pub fn default_path() -> Option<PathBuf> {
    directories::ProjectDirs::from("", "", "rmosh").map(|d| d.config_dir().join("config"))
}

fn parse_escape(v: &str) -> Result<Vec<u8>, String> {
    let b = v.as_bytes();
    match b {
        _ if v.eq_ignore_ascii_case("none") => Ok(Vec::new()),
        [b'^', b'?'] => Ok(vec![0x7f]),
        [b'^', c] if (b'@'..=b'_').contains(&c.to_ascii_uppercase()) => {
            Ok(vec![c.to_ascii_uppercase() & 0x1f])
        }
        [c] if c.is_ascii_graphic() => Ok(vec![*c]),
        _ => Err(format!(
            "bad EscapeKey '{v}' (expected ^X, one character, or none)"
        )),
    }
}

fn parse_yes_no(v: &str) -> Result<bool, String> {
    match v.to_ascii_lowercase().as_str() {
        "yes" => Ok(true),
        "no" => Ok(false),
        _ => Err(format!("expected yes or no, not '{v}'")),
    }
}

impl HostSettings {
    /// Records one keyword unless it was set already (first value wins).
    fn set(&mut self, key: &str, args: &[String]) -> Result<(), String> {
        let v = args.join(" ");
        let one = || -> Result<&str, String> {
            match args {
                [a] => Ok(a.as_str()),
                _ => Err(format!("'{key}' takes one value")),
            }
        };
        match key {
            "predict" => {
                let p = match one()? {
                    "adaptive" => Predict::Adaptive,
                    "always" => Predict::Always,
                    "never" => Predict::Never,
                    "experimental" => Predict::Experimental,
                    other => return Err(format!("unknown Predict mode '{other}'")),
                };
                self.predict.get_or_insert(p);
            }
            "predictoverwrite" => {
                let b = parse_yes_no(one()?)?;
                self.predict_overwrite.get_or_insert(b);
            }
            "udpport" => {
                let p = one()?;
                crate::net::ports::parse_port_range(p)
                    .map_err(|e| format!("bad UdpPort '{p}': {e}"))?;
                self.udp_port.get_or_insert_with(|| p.to_string());
            }
            "escapekey" => {
                let e = parse_escape(one()?)?;
                self.escape_key.get_or_insert(e);
            }
            "server" => {
                self.server.get_or_insert(v);
            }
            "deploy" => {
                let d = match one()? {
                    "auto" => DeployMode::Auto,
                    "always" => DeployMode::Always,
                    "never" => DeployMode::Never,
                    other => return Err(format!("unknown Deploy mode '{other}'")),
                };
                self.deploy.get_or_insert(d);
            }
            _ => return Err(format!("unknown keyword '{key}'")),
        }
        Ok(())
    }
}

/// The settings for `host` (the name as typed) from the text of `file`;
/// the first bad line stops with `file:line: message`.
pub fn resolve_text(text: &str, file: &Path, host: &str) -> Result<HostSettings, String> {
    let mut out = HostSettings::default();
    let mut active = true;
    for (i, raw) in text.lines().enumerate() {
        let at = |m: String| format!("{}:{}: {m}", file.display(), i + 1);
        let Some((key, args)) = split_keyword(raw).map_err(at)? else {
            continue;
        };
        if key == "host" {
            if args.is_empty() {
                return Err(at("Host needs at least one pattern".into()));
            }
            active = match_host_list(host, args.iter().map(String::as_str));
            continue;
        }
        if args.is_empty() {
            return Err(at(format!("missing value for '{key}'")));
        }
        // Every line is checked, also in blocks that do not apply.
        let mut scratch = HostSettings::default();
        let target = if active { &mut out } else { &mut scratch };
        target.set(&key, &args).map_err(at)?;
    }
    Ok(out)
}

/// The settings for `host` from `file`; a missing file means no settings.
pub fn load(file: &Path, host: &str) -> Result<HostSettings, String> {
    match std::fs::read_to_string(file) {
        Ok(text) => resolve_text(&text, file, host),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(HostSettings::default()),
        Err(e) => Err(format!("{}: {e}", file.display())),
    }
}

/// Fills `opts` from the settings file for its destination (the platform's
/// configuration directory; `XDG_CONFIG_HOME` on Linux).
pub fn apply_file(opts: &mut ConnectOptions, deploy_given: bool) -> Result<(), String> {
    let Some(path) = default_path() else {
        return Ok(());
    };
    let (_, host) = super::ssh_config::split_destination(&opts.destination);
    let s = load(&path, &host)?;
    apply(opts, deploy_given, &|k| std::env::var(k).ok(), &s);
    Ok(())
}

/// What the command line left open, filled from the environment, then `s`.
/// `deploy_given` says whether `--deploy` was on the command line.
pub fn apply(
    opts: &mut ConnectOptions,
    deploy_given: bool,
    env: &dyn Fn(&str) -> Option<String>,
    s: &HostSettings,
) {
    if opts.predict.is_none() && env("MOSH_PREDICTION_DISPLAY").is_none() {
        opts.predict = s.predict;
    }
    if !opts.predict_overwrite && env("MOSH_PREDICTION_OVERWRITE").is_none() {
        opts.predict_overwrite = s.predict_overwrite.unwrap_or(false);
    }
    if opts.escape_key.is_none() && env("MOSH_ESCAPE_KEY").is_none() {
        opts.escape_key = s.escape_key.clone();
    }
    if opts.udp_port.is_none() {
        opts.udp_port = s.udp_port.clone();
    }
    if opts.server.is_none() {
        opts.server = s.server.clone();
    }
    if !deploy_given && let Some(d) = s.deploy {
        opts.deploy = d;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FILE: &str = "\
# rmosh settings
Host *.lab !slow.lab
  Predict always
  EscapeKey ^]

Host slow.lab
  Predict experimental
  PredictOverwrite yes
  UdpPort 61000:61010

Host *
  Predict never
  Server \"/opt/rmosh/bin/rmosh server\"
  Deploy never
";

    fn for_host(h: &str) -> HostSettings {
        resolve_text(FILE, Path::new("cfg"), h).expect("parses")
    }

    #[test]
    fn host_blocks_match_like_ssh_config_and_first_value_wins() {
        let a = for_host("a.lab");
        assert_eq!(a.predict, Some(Predict::Always));
        assert_eq!(a.escape_key, Some(vec![0x1d]));
        assert_eq!(a.server.as_deref(), Some("/opt/rmosh/bin/rmosh server"));
        assert_eq!(a.deploy, Some(DeployMode::Never));
        assert_eq!(a.udp_port, None);
        let slow = for_host("SLOW.lab");
        assert_eq!(slow.predict, Some(Predict::Experimental));
        assert_eq!(slow.predict_overwrite, Some(true));
        assert_eq!(slow.udp_port.as_deref(), Some("61000:61010"));
        assert_eq!(slow.escape_key, None);
        assert_eq!(for_host("elsewhere").predict, Some(Predict::Never));
    }

    #[test]
    fn a_bad_line_names_file_and_line_even_in_an_inactive_block() {
        let cases = [
            (
                "Host x\n  Predict sometimes\n",
                "f:2: unknown Predict mode 'sometimes'",
            ),
            ("\n\nTransport quic\n", "f:3: unknown keyword 'transport'"),
            ("Host\n", "f:1: Host needs at least one pattern"),
            ("EscapeKey ^^^\n", "f:1: bad EscapeKey '^^^'"),
            ("UdpPort 70000\n", "f:1: bad UdpPort '70000'"),
            ("PredictOverwrite maybe\n", "f:1: expected yes or no"),
            ("Predict\n", "f:1: missing value for 'predict'"),
        ];
        for (text, want) in cases {
            let err = resolve_text(text, Path::new("f"), "other").expect_err(text);
            assert!(err.starts_with(want), "{text:?}: {err}");
        }
    }

    #[test]
    fn escape_key_notations() {
        assert_eq!(parse_escape("^]"), Ok(vec![0x1d]));
        assert_eq!(parse_escape("^a"), Ok(vec![0x01]));
        assert_eq!(parse_escape("^?"), Ok(vec![0x7f]));
        assert_eq!(parse_escape("~"), Ok(vec![b'~']));
        assert_eq!(parse_escape("none"), Ok(vec![]));
        assert!(parse_escape("ab").is_err());
    }

    #[test]
    fn command_line_beats_environment_beats_file() {
        let file = for_host("slow.lab");
        let no_env = |_: &str| None;
        let mut o = ConnectOptions::default();
        apply(&mut o, false, &no_env, &file);
        assert_eq!(o.predict, Some(Predict::Experimental));
        assert!(o.predict_overwrite);
        assert_eq!(o.udp_port.as_deref(), Some("61000:61010"));
        assert_eq!(o.deploy, DeployMode::Never);

        let env = |k: &str| {
            matches!(k, "MOSH_PREDICTION_DISPLAY" | "MOSH_PREDICTION_OVERWRITE")
                .then(|| "never".to_string())
        };
        let mut o = ConnectOptions::default();
        apply(&mut o, false, &env, &file);
        assert_eq!(o.predict, None, "the environment decides, as before");
        assert!(!o.predict_overwrite);

        let mut o = ConnectOptions {
            predict: Some(Predict::Always),
            udp_port: Some("60001".into()),
            server: Some("mosh-server".into()),
            deploy: DeployMode::Always,
            ..ConnectOptions::default()
        };
        apply(&mut o, true, &env, &for_host("a.lab"));
        assert_eq!(o.predict, Some(Predict::Always));
        assert_eq!(o.udp_port.as_deref(), Some("60001"));
        assert_eq!(o.server.as_deref(), Some("mosh-server"));
        assert_eq!(o.deploy, DeployMode::Always);
        assert_eq!(o.escape_key, Some(vec![0x1d]));
    }
}
