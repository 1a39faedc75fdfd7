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

use workflows::{OrderClient, search_attributes, temporal};

use crate::{Settings, auth::Sessions, error, openapi, orders, request_log};

/// The app, bound to its port, not yet serving.
pub struct Application {
    acceptor: TcpAcceptor,
    port: u16,
    endpoint: poem::endpoint::BoxEndpoint<'static, Response>,
}

impl Application {
    /// Connects to the database (already migrated) and to Temporal (making sure the search
    /// attributes exist), and binds the listener.
    pub async fn build(config: Settings) -> anyhow::Result<Self> {
        let db = database::connect(&config.database_url)
            .await
            .map_err(|e| anyhow::anyhow!("cannot connect to DATABASE_URL: {e}"))?;
        let reads = database::Reads::new(&config.database_url, &db)
            .map_err(|e| anyhow::anyhow!("cannot use DATABASE_URL: {e}"))?;
        let client = temporal::connect(&config.temporal, Duration::from_secs(30)).await?;
        search_attributes::ensure_registered(&client).await?;
        let admission = orders::Admission::new(config.max_reservations_in_flight);
        let orders = OrderClient::new(
            client,
            config.temporal.task_queue.clone(),
            config.order_expiration_seconds,
        );
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
        let pages = web::WebConfig {
            stripe: config.stripe_card_form,
        };
        let endpoint = routes(
            db,
            reads,
            sessions,
            (orders, admission),
            config.body_limit_bytes as usize,
            pages,
        );
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

/// Every route with its middleware: the API under `/api` (and the probes), the pages at `/`.
pub fn routes(
    db: DatabaseConnection,
    reads: database::Reads,
    sessions: Sessions,
    (orders, admission): (OrderClient, orders::Admission),
    body_limit: usize,
    pages: web::WebConfig,
) -> poem::endpoint::BoxEndpoint<'static, Response> {
    let service = openapi::service();
    let api = Route::new()
        .at("/api/openapi.json", service.spec_endpoint())
        .nest("/api/docs", service.swagger_ui())
        .nest("/", service)
        .with(CookieJarManager::new())
        .data(db)
        .data(reads)
        .data(sessions)
        .data(orders)
        .data(admission)
        .around(move |ep, req| limit_body(ep, req, body_limit))
        .around(error::render_errors)
        .map_to_response()
        .boxed();
    let api = std::sync::Arc::new(api);
    let pages = web::routes(web::Backend::new(api.clone()), pages)
        .around(move |ep, req| limit_body(ep, req, body_limit));
    ApiOrPages { api, pages }
        .around(request_log::log_requests)
        .map_to_response()
        .boxed()
}

/// Sends `/api/...` and the probes to the API, everything else to the pages.
struct ApiOrPages<A, P> {
    api: A,
    pages: P,
}

impl<A: Endpoint, P: Endpoint> Endpoint for ApiOrPages<A, P> {
    type Output = Response;

    async fn call(&self, req: Request) -> poem::Result<Response> {
        let path = req.uri().path();
        let to_api =
            path == "/api" || path.starts_with("/api/") || path == "/healthz" || path == "/readyz";
        if to_api {
            self.api.call(req).await.map(IntoResponse::into_response)
        } else {
            self.pages.call(req).await.map(IntoResponse::into_response)
        }
    }
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
