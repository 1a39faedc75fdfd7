//! Builds the HTTP application and serves it until shut down.

use std::{future::Future, time::Duration};

use poem::{
    Body, Endpoint, EndpointExt, IntoResponse, Request, Response, Route, Server,
    error::ReadBodyError,
    http::header::CONTENT_LENGTH,
    listener::{Acceptor, Listener, TcpAcceptor, TcpListener},
    middleware::CookieJarManager,
};
use sea_orm::DatabaseConnection;

use crate::{auth::Sessions, config::AppConfig, database, error, openapi, telemetry};

/// The app, bound to its port, not yet serving.
pub struct Application {
    acceptor: TcpAcceptor,
    port: u16,
    endpoint: poem::endpoint::BoxEndpoint<'static, Response>,
}

impl Application {
    /// Connects to the database (already migrated) and binds the listener.
    pub async fn build(config: AppConfig) -> anyhow::Result<Self> {
        let db = database::connect(&config.database_url)
            .await
            .map_err(|e| anyhow::anyhow!("cannot connect to DATABASE_URL: {e}"))?;
        let acceptor = TcpListener::bind(config.http_addr)
            .into_acceptor()
            .await
            .map_err(|e| anyhow::anyhow!("cannot listen on HTTP_ADDR {}: {e}", config.http_addr))?;
        let port = acceptor
            .local_addr()
            .first()
            .and_then(|a| a.as_socket_addr().map(|a| a.port()))
            .unwrap_or(config.http_addr.port());
        let sessions = Sessions::new(
            &config.jwt_key,
            config.jwt_ttl_seconds,
            config.cookie_secure,
        );
        let endpoint = routes(db, sessions, config.body_limit_bytes as usize);
        Ok(Application {
            acceptor,
            port,
            endpoint,
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Serves until `shutdown` completes, then lets requests in flight finish (up to 10 s).
    pub async fn run_until_stopped(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        Server::new_with_acceptor(self.acceptor)
            .run_with_graceful_shutdown(self.endpoint, shutdown, Some(Duration::from_secs(10)))
            .await
    }
}

/// Every route with its middleware.
pub fn routes(
    db: DatabaseConnection,
    sessions: Sessions,
    body_limit: usize,
) -> poem::endpoint::BoxEndpoint<'static, Response> {
    let service = openapi::service();
    Route::new()
        .at("/api/openapi.json", service.spec_endpoint())
        .nest("/api/docs", service.swagger_ui())
        .nest("/", service)
        .with(CookieJarManager::new())
        .data(db)
        .data(sessions)
        .around(move |ep, req| limit_body(ep, req, body_limit))
        .around(error::render_errors)
        .around(telemetry::log_requests)
        .map_to_response()
        .boxed()
}

/// Reads at most `limit` bytes of body before any handler runs; a larger body is 413, whether it
/// announces its length or is sent chunked.
async fn limit_body<E: Endpoint>(
    next: E,
    mut req: Request,
    limit: usize,
) -> poem::Result<Response> {
    let announced = req
        .headers()
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if announced.is_some_and(|n| n > limit as u64) {
        return Err(ReadBodyError::PayloadTooLarge.into());
    }
    let body = req.take_body().into_bytes_limit(limit).await?;
    req.set_body(Body::from_bytes(body));
    Ok(next.call(req).await?.into_response())
}

/// Completes on SIGINT (Ctrl-C) or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = terminate => {},
    }
    tracing::info!("shutting down: finishing requests in flight");
}
