use crate::helpers::spawn_app_with_demo;

#[tokio::test]
async fn the_audit_log_cannot_be_altered_or_deleted() {
    let app = spawn_app_with_demo().await;
    let pool = app.services.pool();
    let filed: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM audit_log WHERE action = 'exception.filed'")
        .fetch_one(pool)
        .await
        .unwrap();
    let exceptions: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM exceptions").fetch_one(pool).await.unwrap();
    assert_eq!(filed, exceptions, "seeding wrote an audit record per exception");
    let before: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM audit_log").fetch_one(pool).await.unwrap();
    let update = sqlx::query("UPDATE audit_log SET actor = 'someone else'").execute(pool).await;
    assert!(update.is_err());
    let delete = sqlx::query("DELETE FROM audit_log").execute(pool).await;
    assert!(delete.is_err());
    let after: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM audit_log").fetch_one(pool).await.unwrap();
    assert_eq!(after, before);
    let actors: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM audit_log WHERE actor = 'someone else'")
        .fetch_one(pool)
        .await
        .unwrap();
    assert_eq!(actors, 0);
}
