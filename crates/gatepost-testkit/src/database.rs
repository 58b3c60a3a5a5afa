//! The database a test runs on: a fresh SQLite file, or a fresh PostgreSQL schema.

/// Which database a test runs on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// The PostgreSQL server tests use; `scripts/test` makes sure it runs.
pub fn postgres_url() -> String {
    std::env::var("GATEPOST_TEST_POSTGRES_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_owned())
}

/// A fresh, empty database for one test: its URL and what keeps it alive.
pub struct TestDatabase {
    pub url: String,
    _dir: Option<tempfile::TempDir>,
}

impl TestDatabase {
    pub async fn new(backend: Backend) -> Self {
        match backend {
            Backend::Sqlite => {
                let dir = tempfile::tempdir().expect("temp dir");
                let url = format!("sqlite://{}", dir.path().join("gatepost.db").display());
                Self { url, _dir: Some(dir) }
            }
            Backend::Postgres => Self { url: fresh_postgres_schema().await, _dir: None },
        }
    }
}

/// Creates a schema of its own and returns a URL whose connections use it. Schemas of
/// earlier runs are dropped once they are an hour old.
async fn fresh_postgres_schema() -> String {
    let base = postgres_url();
    let (client, connection) = tokio_postgres::connect(&base, tokio_postgres::NoTls)
        .await
        .unwrap_or_else(|e| panic!("PostgreSQL at {base} is not reachable (run scripts/test): {e}"));
    tokio::spawn(connection);
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
    let stale = client
        .query("SELECT nspname FROM pg_namespace WHERE nspname LIKE 'gp_test_%'", &[])
        .await
        .expect("list schemas");
    for row in stale {
        let name: String = row.get(0);
        let created: u64 = name.split('_').nth(2).and_then(|t| t.parse().ok()).unwrap_or(now);
        if created + 3600 < now {
            let _ = client.batch_execute(&format!("DROP SCHEMA IF EXISTS {name} CASCADE")).await;
        }
    }
    let schema =
        format!("gp_test_{now}_{}", gatepost_core::ids::random_token(6).to_lowercase().replace(['-', '_'], "x"));
    client.batch_execute(&format!("CREATE SCHEMA {schema}")).await.expect("create schema");
    let separator = if base.contains('?') { '&' } else { '?' };
    format!("{base}{separator}options=-csearch_path%3D{schema}")
}
