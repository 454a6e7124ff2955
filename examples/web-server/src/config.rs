//! The server's configuration: command-line flags, each with an environment variable.

use std::fmt;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context as _;
use clap::Parser;
use renraku_core::{PhoneRegion, Rules};

use crate::access::RoleList;
use crate::auth::{Auth, JwtVerifier};
use crate::serve::Limits;

/// The configuration of `renraku-web`. Every flag can also be given as an environment
/// variable; a flag wins over its variable.
#[derive(Clone, Parser)]
#[command(name = "renraku-web", version, about = "A web server for renraku's contact data")]
pub struct Config {
    /// The address to listen on.
    #[arg(long, env = "RENRAKU_LISTEN", default_value = "127.0.0.1:4000")]
    pub listen: SocketAddr,

    /// PostgreSQL connection URL. Without it, data is kept in memory and lost at exit.
    #[arg(long, env = "DATABASE_URL", hide_env_values = true)]
    pub database_url: Option<String>,

    /// Path to the PEM file of the RSA public key that verifies the JWTs (RS256).
    #[arg(long, env = "RENRAKU_JWT_PUBLIC_KEY")]
    pub jwt_public_key: Option<PathBuf>,

    /// The issuer (`iss` claim) that every token must carry.
    #[arg(long, env = "RENRAKU_JWT_ISSUER", default_value = "parc-cli")]
    pub jwt_issuer: String,

    /// The region of phone numbers entered without a country code (ISO 3166-1 alpha-2).
    #[arg(long, env = "RENRAKU_DEFAULT_REGION", default_value = "DE")]
    pub default_region: PhoneRegion,

    /// Development only: let every request through as a fixed user, without a token.
    /// Refused unless the listen address is a loopback address.
    #[arg(
        long,
        env = "DISABLE_AUTH",
        num_args = 0..=1,
        default_value = "false",
        default_missing_value = "true",
        value_parser = clap::builder::BoolishValueParser::new(),
    )]
    pub disable_auth: bool,

    /// Mark cookies `Secure` (sent over HTTPS only). Turn it on behind a TLS proxy.
    #[arg(
        long,
        env = "RENRAKU_SECURE_COOKIES",
        num_args = 0..=1,
        default_value = "false",
        default_missing_value = "true",
        value_parser = clap::builder::BoolishValueParser::new(),
    )]
    pub secure_cookies: bool,

    /// The time zone in which the pages show times (audit trail, created and changed): an
    /// IANA name such as `Europe/Berlin`.
    #[arg(long, env = "RENRAKU_TIME_ZONE", default_value = "UTC")]
    pub time_zone: chrono_tz::Tz,
    /// How many client connections may be open at once; more are answered 503 and closed.
    /// Lowered at start to stay below the open-file limit (`ulimit -n`) less 64.
    #[arg(long, env = "RENRAKU_MAX_CONNECTIONS", default_value = "512", value_parser = clap::value_parser!(u32).range(1..))]
    pub max_connections: u32,

    /// How long a request's head may take to arrive, from its first byte (from accept on
    /// a new connection); then the connection is closed. `500ms`, `10s`, `2m`.
    #[arg(long, env = "RENRAKU_HEADER_TIMEOUT", default_value = "10s", value_parser = parse_duration)]
    pub header_timeout: Duration,

    /// How long a keep-alive connection may wait for its next request; then it is closed.
    #[arg(long, env = "RENRAKU_IDLE_TIMEOUT", default_value = "60s", value_parser = parse_duration)]
    pub idle_timeout: Duration,

    /// How long a request's body may take to arrive, in all; then the request answers 408.
    #[arg(long, env = "RENRAKU_BODY_TIMEOUT", default_value = "10s", value_parser = parse_duration)]
    pub body_timeout: Duration,

    /// Where to serve `GET /metrics` (OpenMetrics text for Prometheus); off without it.
    /// Keep it off the public network: a port of its own that only the scraper reaches.
    #[arg(long, env = "RENRAKU_METRICS_LISTEN")]
    pub metrics_listen: Option<SocketAddr>,

    /// The roles of a token without a `roles` claim (and of every request with
    /// authentication disabled): names separated by commas, empty for none. The default is
    /// what every user could do before roles existed.
    #[arg(
        long,
        env = "RENRAKU_DEFAULT_ROLES",
        default_value = "reader,editor,eraser,auditor,searcher,privacy"
    )]
    pub default_roles: RoleList,

    /// Record reads in the audit trail: every contact viewed, case listed and search
    /// made, with who and when (never a searched value).
    #[arg(
        long,
        env = "RENRAKU_READ_AUDIT",
        num_args = 0..=1,
        default_value = "false",
        default_missing_value = "true",
        value_parser = clap::builder::BoolishValueParser::new(),
    )]
    pub read_audit: bool,

    /// The retention period: contacts not changed for longer are purged (erased, with an
    /// audit event each) by a background task. Off without it. `30d`, `12h`, `90m`, `45s`.
    #[arg(long, env = "RENRAKU_RETENTION", value_parser = parse_period)]
    pub retention: Option<Duration>,

    /// How often the retention task runs (only with a retention period).
    #[arg(long, env = "RENRAKU_RETENTION_INTERVAL", default_value = "1h", value_parser = parse_period)]
    pub retention_interval: Duration,
}

/// A period: a whole number with `ms`, `s`, `m`, `h` or `d`, longer than zero.
fn parse_period(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let (number, scale) = match text.strip_suffix('d').or_else(|| text.strip_suffix('h')) {
        Some(number) if text.ends_with('d') => (number, 86_400),
        Some(number) => (number, 3_600),
        None => return parse_duration(text),
    };
    let number: u64 =
        number.trim().parse().map_err(|_| format!("{text:?} is not a period such as 30d, 12h or 90m"))?;
    if number == 0 {
        return Err("a period must be longer than zero".into());
    }
    Ok(Duration::from_secs(number.saturating_mul(scale)))
}

/// A duration: a whole number with `ms`, `s` or `m`, or a plain number of seconds.
fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let split = text.find(|c: char| !c.is_ascii_digit()).unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let number: u64 =
        number.parse().map_err(|_| format!("{text:?} is not a duration such as 500ms, 10s or 2m"))?;
    let duration = match unit.trim() {
        "ms" => Duration::from_millis(number),
        "" | "s" => Duration::from_secs(number),
        "m" => Duration::from_secs(number.saturating_mul(60)),
        _ => return Err(format!("{text:?} has an unknown unit: use ms, s or m")),
    };
    if duration.is_zero() {
        return Err("a timeout must be longer than zero".into());
    }
    Ok(duration)
}

impl Config {
    /// The connection limits of the server.
    #[must_use]
    pub fn limits(&self) -> Limits {
        Limits {
            max_connections: usize::try_from(self.max_connections).unwrap_or(usize::MAX),
            header_timeout: self.header_timeout,
            idle_timeout: self.idle_timeout,
            body_timeout: self.body_timeout,
        }
    }

    /// The retention task's settings, if a retention period is set.
    #[must_use]
    pub fn retention(&self) -> Option<crate::retention::Retention> {
        self.retention.map(|period| crate::retention::Retention { period, interval: self.retention_interval })
    }

    /// Checks the combination of settings before anything starts.
    ///
    /// # Errors
    /// If `DISABLE_AUTH` is on and the listen address is not a loopback address, or if
    /// authentication is on and no public key is configured.
    pub fn check(&self) -> anyhow::Result<()> {
        if self.disable_auth && !self.listen.ip().is_loopback() {
            anyhow::bail!(
                "refusing to start: DISABLE_AUTH=true is only allowed on a loopback address \
                 (such as 127.0.0.1), not on {}",
                self.listen
            );
        }
        if !self.disable_auth && self.jwt_public_key.is_none() {
            anyhow::bail!(
                "refusing to start: set RENRAKU_JWT_PUBLIC_KEY (--jwt-public-key) to the PEM file of \
                 the RSA public key, or DISABLE_AUTH=true for local development"
            );
        }
        Ok(())
    }

    /// The validation rules for the store: the default rules with the default region.
    #[must_use]
    pub fn rules(&self) -> Rules {
        Rules::default().with_default_region(self.default_region)
    }

    /// Builds the authentication this configuration asks for, reading the public key.
    ///
    /// # Errors
    /// If the key file cannot be read or is not an RSA public key in PEM form.
    pub fn auth(&self) -> anyhow::Result<Auth> {
        let verifier = match &self.jwt_public_key {
            Some(path) => {
                let pem = std::fs::read(path)
                    .with_context(|| format!("cannot read the JWT public key {}", path.display()))?;
                let verifier = JwtVerifier::from_rsa_pem(&pem, &self.jwt_issuer)
                    .with_context(|| format!("{} is not an RSA public key in PEM form", path.display()))?;
                Some(verifier)
            }
            None => None,
        };
        Ok(match (self.disable_auth, verifier) {
            (true, verifier) => Auth::Disabled { verifier },
            (false, Some(verifier)) => Auth::Jwt(verifier),
            (false, None) => anyhow::bail!("authentication needs RENRAKU_JWT_PUBLIC_KEY"),
        })
    }
}

impl fmt::Debug for Config {
    /// Hides the database URL: it may hold a password.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field("listen", &self.listen)
            .field("database_url", &self.database_url.as_ref().map(|_| "[redacted]"))
            .field("jwt_public_key", &self.jwt_public_key)
            .field("jwt_issuer", &self.jwt_issuer)
            .field("default_region", &self.default_region)
            .field("disable_auth", &self.disable_auth)
            .field("secure_cookies", &self.secure_cookies)
            .field("time_zone", &self.time_zone)
            .field("max_connections", &self.max_connections)
            .field("header_timeout", &self.header_timeout)
            .field("idle_timeout", &self.idle_timeout)
            .field("body_timeout", &self.body_timeout)
            .field("metrics_listen", &self.metrics_listen)
            .field("default_roles", &self.default_roles)
            .field("read_audit", &self.read_audit)
            .field("retention", &self.retention)
            .field("retention_interval", &self.retention_interval)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use clap::{CommandFactory as _, FromArgMatches as _};

    /// Parses flags only: the environment of the test run (CI may set `DATABASE_URL`) must
    /// not change what these tests see.
    fn try_parse(args: &[&str]) -> Result<Config, clap::Error> {
        let command = Config::command().mut_args(|arg| arg.env(clap::builder::Resettable::Reset));
        let matches =
            command.try_get_matches_from(std::iter::once("renraku-web").chain(args.iter().copied()))?;
        Config::from_arg_matches(&matches)
    }

    fn parse(args: &[&str]) -> Config {
        try_parse(args).unwrap()
    }

    #[test]
    fn defaults_match_the_readme() {
        let config = parse(&["--disable-auth"]);
        assert_eq!(config.listen.to_string(), "127.0.0.1:4000");
        assert_eq!(config.jwt_issuer, "parc-cli");
        assert_eq!(config.default_region.to_string(), "DE");
        assert!(config.disable_auth);
        assert!(config.database_url.is_none());
        assert_eq!(config.time_zone, chrono_tz::UTC);
        assert_eq!(config.limits(), Limits::default());
        assert!(config.metrics_listen.is_none());
        assert_eq!(config.default_roles, RoleList::default());
        assert!(!config.read_audit);
        config.check().unwrap();
    }

    #[test]
    fn default_roles_and_read_audit_are_configurable() {
        let config = parse(&["--disable-auth", "--default-roles", "reader,searcher", "--read-audit"]);
        assert_eq!(config.default_roles.to_string(), "reader,searcher");
        assert!(config.read_audit);
        assert!(parse(&["--disable-auth", "--default-roles", ""]).default_roles.0.is_empty());
        assert!(try_parse(&["--disable-auth", "--default-roles", "reader,root"]).is_err());
    }

    #[test]
    fn time_zones_are_iana_names() {
        let config = parse(&["--disable-auth", "--time-zone", "Europe/Berlin"]);
        assert_eq!(config.time_zone, chrono_tz::Europe::Berlin);
        for bad in ["CEST+2", "Mars/Olympus", ""] {
            assert!(try_parse(&["--disable-auth", "--time-zone", bad]).is_err(), "{bad}");
        }
    }

    #[test]
    fn limits_are_configurable() {
        let config = parse(&[
            "--disable-auth",
            "--max-connections",
            "8",
            "--header-timeout",
            "500ms",
            "--idle-timeout",
            "2m",
            "--body-timeout",
            "3",
            "--metrics-listen",
            "127.0.0.1:9100",
        ]);
        let limits = config.limits();
        assert_eq!(limits.max_connections, 8);
        assert_eq!(limits.header_timeout, Duration::from_millis(500));
        assert_eq!(limits.idle_timeout, Duration::from_secs(120));
        assert_eq!(limits.body_timeout, Duration::from_secs(3));
        assert_eq!(config.metrics_listen.map(|a| a.port()), Some(9100));
        for bad in [
            ["--max-connections", "0"],
            ["--header-timeout", "0s"],
            ["--idle-timeout", "5h"],
            ["--body-timeout", "x"],
        ] {
            assert!(try_parse(&["--disable-auth", bad[0], bad[1]]).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn disable_auth_is_refused_on_public_addresses() {
        for listen in ["0.0.0.0:4000", "[::]:4000", "192.0.2.1:4000"] {
            let err = parse(&["--disable-auth", "--listen", listen]).check().unwrap_err();
            assert!(err.to_string().contains("loopback"), "{err}");
        }
        parse(&["--disable-auth=true", "--listen", "[::1]:4000"]).check().unwrap();
        let off = parse(&["--disable-auth=false", "--jwt-public-key", "k.pem", "--listen", "0.0.0.0:1"]);
        assert!(!off.disable_auth);
        off.check().unwrap();
    }

    #[test]
    fn authentication_needs_a_key() {
        let err = parse(&[]).check().unwrap_err();
        assert!(err.to_string().contains("RENRAKU_JWT_PUBLIC_KEY"), "{err}");
        assert!(parse(&["--jwt-public-key", "/nonexistent.pem"]).auth().is_err());
    }

    #[test]
    fn retention_is_off_unless_set() {
        assert_eq!(parse(&["--disable-auth"]).retention(), None);
        let config = parse(&["--disable-auth", "--retention", "30d", "--retention-interval", "10m"]);
        let retention = config.retention().unwrap();
        assert_eq!(retention.period, Duration::from_secs(30 * 86_400));
        assert_eq!(retention.interval, Duration::from_secs(600));
        assert_eq!(
            parse(&["--disable-auth", "--retention", "12h"]).retention().unwrap().interval,
            Duration::from_secs(3600)
        );
        assert_eq!(
            parse(&["--disable-auth", "--retention", "2s"]).retention.unwrap(),
            Duration::from_secs(2)
        );
        for bad in ["0d", "0s", "d", "3w", "-1d", ""] {
            assert!(try_parse(&["--disable-auth", "--retention", bad]).is_err(), "{bad}");
        }
    }

    #[test]
    fn bad_regions_are_refused() {
        assert!(try_parse(&["--disable-auth", "--default-region", "XX"]).is_err());
    }

    #[test]
    fn debug_hides_the_database_url() {
        let config = parse(&["--disable-auth", "--database-url", "postgres://u:secret@db/renraku"]);
        assert!(!format!("{config:?}").contains("secret"));
    }
}
