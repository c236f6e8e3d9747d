//! The public base URL (issue 22, item 9): SMS links and payment links use it, never the listen
//! address, and outside demo a server without an https one refuses to start.

use jingtong_server::{Config, PublicUrlError, StartError};
use serde_json::Value;
use sqlx::Row;

use crate::headers::{open_order, owner_link};
use crate::helpers::spawn_app_config;

const PUBLIC: &str = "https://jt.example.gov.cn";

async fn start(public_url: Option<&str>) -> Result<jingtong_server::Running, StartError> {
    let dir = tempfile::tempdir().unwrap();
    let config = Config {
        listen: "127.0.0.1:0".parse().unwrap(),
        data_dir: dir.path().to_owned(),
        demo: false,
        public_url: public_url.map(str::to_owned),
        run_jobs: false,
        ..Config::default()
    };
    jingtong_server::start(config).await
}

#[tokio::test]
async fn outside_demo_the_server_refuses_to_start_without_an_https_public_url() {
    let missing = start(None).await.err().expect("no public URL: refused");
    assert!(matches!(missing, StartError::PublicUrl(PublicUrlError::Missing)), "{missing:?}");
    let said = missing.to_string();
    assert!(said.contains("--public-url") && said.contains("JINGTONG_PUBLIC_URL"), "{said}");
    let plain = start(Some("http://jt.example.gov.cn")).await.err().expect("http: refused");
    assert!(matches!(plain, StartError::PublicUrl(PublicUrlError::NotHttps(_))), "{plain:?}");
    start(Some(PUBLIC)).await.expect("an https public URL starts").shutdown().await;
}

api_test!(
    async fn sms_links_and_payment_links_use_the_public_url(backend) {
        let app = spawn_app_config(backend, |c| c.public_url = Some(format!("{PUBLIC}/"))).await;
        let (text, token) = owner_link(&app).await;
        assert!(text.contains(&format!("{PUBLIC}/m/{token}")), "{text}");
        assert!(!text.contains("127.0.0.1"), "{text}");
        let order: Value = open_order(&app).await;
        assert!(order["pay_url"].as_str().unwrap().starts_with(&format!("{PUBLIC}/api/v1/")), "{order}");
        let pool = app.db().await;
        let row = sqlx::query("SELECT notify_url FROM provider_orders").fetch_one(&pool).await.unwrap();
        assert_eq!(row.get::<String, _>(0), format!("{PUBLIC}/api/v1/payments/notify"));
    }
);
