use super::*;
use std::io::Write as _;

fn env(pairs: &[(&str, &str)]) -> impl Iterator<Item = (String, String)> {
    pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect::<Vec<_>>().into_iter()
}

fn load(pairs: &[(&str, &str)]) -> Result<Config, ConfigError> {
    Config::load(&Layers::load(None, env(pairs))?)
}

#[test]
fn defaults_follow_the_spec() {
    let config = load(&[]).unwrap();
    assert_eq!(config.listen.to_string(), "127.0.0.1:8080");
    assert_eq!(config.database_url, "sqlite://gatepost.db");
    assert_eq!(config.mode, Mode::Sandbox);
    assert!(config.webhooks.allow_private_targets, "sandbox allows private targets");
    assert_eq!(config.webhooks.retry_schedule.len(), 17);
    assert_eq!(config.webhooks.timeout, Duration::from_secs(10));
    assert_eq!(config.sandbox.async_delay, Duration::from_secs(2));
    assert_eq!(config.public_url, None);
    assert_eq!(config.connectors.poll_after, Duration::from_secs(30));
    assert!(config.connectors.simulator.is_none());
}

#[test]
fn the_simulator_is_configured_by_the_variables_of_spec_section_8() {
    let config = load(&[
        ("GATEPOST_CONNECTORS__SIMULATOR__URL", "http://127.0.0.1:9090"),
        ("GATEPOST_CONNECTORS__SIMULATOR__SECRET", "S"),
        ("GATEPOST_CONNECTORS__POLL_AFTER", "2s"),
    ])
    .unwrap();
    let simulator = config.connectors.simulator.unwrap();
    assert_eq!((simulator.url.as_str(), simulator.secret.as_str()), ("http://127.0.0.1:9090", "S"));
    assert_eq!(config.connectors.poll_after, Duration::from_secs(2));
    let error = load(&[("GATEPOST_CONNECTORS__SIMULATOR__URL", "http://127.0.0.1:9090")]).unwrap_err();
    assert_eq!(error.source, Source::Env("GATEPOST_CONNECTORS__SIMULATOR__SECRET".into()));
}

#[test]
fn environment_variables_use_double_underscores_for_nesting() {
    let config = load(&[
        ("GATEPOST_WEBHOOKS__RETRY_SCHEDULE", "1s,2s,5s"),
        ("GATEPOST_MODE", "live"),
        ("GATEPOST_PUBLIC_URL", "https://pay.example/"),
        ("GATEPOST_UNRELATED_TOOL_SETTING", "ignored"),
    ])
    .unwrap();
    assert_eq!(config.webhooks.retry_schedule, [1, 2, 5].map(Duration::from_secs));
    assert_eq!(config.mode, Mode::Live);
    assert!(!config.webhooks.allow_private_targets, "live mode refuses private targets");
    assert_eq!(config.public_url.as_deref(), Some("https://pay.example"));
    assert_eq!(env_name("webhooks.retry_schedule"), "GATEPOST_WEBHOOKS__RETRY_SCHEDULE");
}

#[test]
fn a_bad_value_names_its_variable_in_one_line() {
    let error = load(&[("GATEPOST_LISTEN", "nowhere")]).unwrap_err();
    assert_eq!(error.source, Source::Env("GATEPOST_LISTEN".into()));
    let line = error.to_string();
    assert!(line.starts_with("GATEPOST_LISTEN: "), "{line}");
    assert!(!line.contains('\n'));
    for (name, value) in [
        ("GATEPOST_MODE", "production"),
        ("GATEPOST_WEBHOOKS__TIMEOUT", "soon"),
        ("GATEPOST_WEBHOOKS__TIMEOUT", "0s"),
        ("GATEPOST_WEBHOOKS__ALLOW_PRIVATE_TARGETS", "maybe"),
        ("GATEPOST_DATABASE_URL", "mysql://x"),
        ("GATEPOST_PUBLIC_URL", "ftp://x"),
        ("GATEPOST_LOG_FORMAT", "xml"),
    ] {
        let error = load(&[(name, value)]).unwrap_err();
        assert_eq!(error.source, Source::Env(name.into()), "{name}={value}");
    }
}

#[test]
fn flags_beat_the_environment_which_beats_the_file() {
    let mut file = tempfile_in_target("layers.toml");
    writeln!(
        file.1,
        "listen = \"127.0.0.1:7000\"\nmode = \"live\"\n[webhooks]\ntimeout = \"3s\"\nretry_schedule = [\"1s\", \"2s\"]"
    )
    .unwrap();
    let layers = Layers::load(Some(&file.0), env(&[("GATEPOST_MODE", "sandbox")])).unwrap().with_flag(
        "listen",
        "--listen",
        "127.0.0.1:9000",
    );
    let config = Config::load(&layers).unwrap();
    assert_eq!(config.listen.to_string(), "127.0.0.1:9000");
    assert_eq!(config.mode, Mode::Sandbox);
    assert_eq!(config.webhooks.timeout, Duration::from_secs(3));
    assert_eq!(config.webhooks.retry_schedule.len(), 2);
}

#[test]
fn unknown_keys_in_the_file_are_refused_with_their_name() {
    let mut file = tempfile_in_target("unknown.toml");
    writeln!(file.1, "[webhooks]\ntimeuot = \"3s\"").unwrap();
    let error = Layers::load(Some(&file.0), env(&[])).unwrap_err();
    assert!(error.to_string().ends_with("webhooks.timeuot: unknown setting"), "{error}");
}

fn tempfile_in_target(name: &str) -> (std::path::PathBuf, std::fs::File) {
    let dir = std::env::temp_dir().join(format!("gatepost-config-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    let file = std::fs::File::create(&path).unwrap();
    (path, file)
}
