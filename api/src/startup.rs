//! Builds the HTTP application and serves it until shut down.

use std::{future::Future, time::Duration};

use entities::ResalePriceCap;
use poem::{
    Body, Endpoint, EndpointExt, IntoResponse, Request, Response, Route, Server,
    error::ReadBodyError,
    http::header::CONTENT_LENGTH,
    listener::{Acceptor, Listener, TcpAcceptor, TcpListener},
    middleware::CookieJarManager,
};
use sea_orm::DatabaseConnection;

use workflows::{OrderClient, search_attributes, temporal};

use crate::{
    auth::{Passwords, Sessions},
    connection_errors::JsonErrors,
    cross_site, error, health,
    holdings::TicketCodes,
    idempotency, limits,
    limits::CredentialLimiter,
    openapi, orders, request_log, security_headers,
    settings::Settings,
};

/// The app, bound to its port, not yet serving.
pub struct Application {
    acceptor: JsonErrors<TcpAcceptor>,
    port: u16,
    endpoint: poem::endpoint::BoxEndpoint<'static, Response>,
    live: Option<events::live::LiveFeed>,
}

impl Application {
    /// Connects to the database (already migrated) and to Temporal (making sure the search
    /// attributes exist), and binds the listener. The app counts on `metrics`, the process's
    /// (shared with a worker in the same process), and serves them on `/metrics`.
    pub async fn build(config: Settings, metrics: telemetry::Metrics) -> anyhow::Result<Self> {
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
            metrics.clone(),
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
            db.clone(),
            &config.jwt_key,
            config.jwt_ttl_seconds,
            config.cookie_secure,
        );
        // One follower of the event stream for the whole process; the pages' live updates
        // come from it.
        let live = config.events.bus.clone().map(events::live::LiveFeed::start);
        let pages = web::WebConfig {
            stripe: config.stripe_card_form,
            live: live.clone(),
            currency: config.currency.clone(),
        };
        let bus = health::EventsHealth {
            live: live.clone(),
            relay_here: config.events.relay_here,
        };
        let limiter = CredentialLimiter::new(config.credential_limits);
        limiter.spawn_forgetting();
        let guards = Guards {
            passwords: Passwords::new(config.password_hashing_concurrency),
            limiter,
            trust_forwarded_for: config.trust_forwarded_for,
            https: config.cookie_secure,
        };
        let endpoint = routes(
            db,
            reads,
            sessions,
            (orders, admission, metrics),
            Answers {
                currency: api_types::Currency(config.currency.clone()),
                codes: TicketCodes::new(&config.ticket_code_key),
                resale_price_cap: config.resale_price_cap,
                public_url: config.public_url.clone(),
                body_limit: config.body_limit_bytes as usize,
            },
            (pages, bus),
            guards,
        );
        Ok(Application {
            acceptor: JsonErrors(acceptor),
            port,
            endpoint,
            live,
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Serves until `shutdown` completes, then lets requests in flight finish (up to 10 s); the
    /// pages' live streams end at once.
    pub async fn run_until_stopped(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        let live = self.live;
        let shutdown = async move {
            shutdown.await;
            if let Some(live) = live {
                live.stop();
            }
        };
        Server::new_with_acceptor(self.acceptor)
            .run_with_graceful_shutdown(self.endpoint, shutdown, Some(Duration::from_secs(10)))
            .await
    }
}

/// How the app answers: the currency beside prices, the document's server, the largest body.
pub struct Answers {
    pub currency: api_types::Currency,
    /// Issues and reads the holders' ticket codes.
    pub codes: TicketCodes,
    /// The cap of a resale's price.
    pub resale_price_cap: ResalePriceCap,
    pub public_url: Option<String>,
    pub body_limit: usize,
}

/// What protects the app from its clients (see `limits` and `security_headers`).
pub struct Guards {
    pub passwords: Passwords,
    pub limiter: CredentialLimiter,
    pub trust_forwarded_for: bool,
    /// Served over HTTPS (`COOKIE_SECURE`): browsers are told to keep to it.
    pub https: bool,
}

/// Every route with its middleware: the API under `/api` (and the probes), the pages at `/`.
pub fn routes(
    db: DatabaseConnection,
    reads: database::Reads,
    sessions: Sessions,
    (orders, admission, metrics): (OrderClient, orders::Admission, telemetry::Metrics),
    Answers {
        currency,
        codes,
        resale_price_cap,
        public_url,
        body_limit,
    }: Answers,
    (pages, bus): (web::WebConfig, health::EventsHealth),
    guards: Guards,
) -> poem::endpoint::BoxEndpoint<'static, Response> {
    let Guards {
        passwords,
        limiter,
        trust_forwarded_for,
        https,
    } = guards;
    let service = openapi::service_at(public_url.as_deref());
    let site = cross_site::Site::new(public_url.as_deref());
    let api = Route::new()
        .at(
            "/api/openapi.json",
            openapi_json(openapi::document_at(public_url.as_deref())),
        )
        .nest("/api/docs", service.swagger_ui())
        .nest("/", service)
        // Inside the cookie jar and the shared state, which it reads.
        .around(move |ep, req| {
            let site = site.clone();
            async move { cross_site::refuse(ep, req, &site).await }
        })
        .with(CookieJarManager::new())
        .around({
            let shared = Shared {
                db,
                reads,
                sessions,
                orders,
                admission,
                passwords,
                limiter,
                bus,
                metrics: metrics.clone(),
                currency,
                codes,
                resale_price_cap,
            };
            move |ep, mut req| {
                shared.put_on(&mut req);
                async move { ep.call(req).await }
            }
        })
        .around(move |ep, req| limit_body(ep, req, body_limit))
        .around(idempotency::refuse_unreadable)
        .around(|ep, req| error::render_errors(ep, req, openapi::allowed_methods))
        .map_to_response()
        .boxed();
    let api = std::sync::Arc::new(api);
    let pages = web::routes(web::Backend::new(api.clone()), pages)
        .around(move |ep, req| limit_body(ep, req, body_limit));
    ApiOrPages { api, pages }
        .around(move |ep, req| security_headers::add(ep, req, https))
        .around(move |ep, req| limits::client_address(ep, req, trust_forwarded_for))
        .around(move |ep, req| request_log::log_requests(ep, req, metrics.clone()))
        .map_to_response()
        .boxed()
}

/// What the handlers take as `Data<&T>`, put on every request by one layer: one `.data(..)`
/// layer each would nest ten futures, and every request's state would be moved through all ten
/// (`memmove` was the server's largest cost in a profile of the reads, docs/performance.md).
struct Shared {
    db: DatabaseConnection,
    reads: database::Reads,
    sessions: Sessions,
    orders: OrderClient,
    admission: orders::Admission,
    passwords: Passwords,
    limiter: CredentialLimiter,
    bus: health::EventsHealth,
    metrics: telemetry::Metrics,
    currency: api_types::Currency,
    codes: TicketCodes,
    resale_price_cap: ResalePriceCap,
}

impl Shared {
    fn put_on(&self, req: &mut Request) {
        let data = req.extensions_mut();
        data.insert(self.db.clone());
        data.insert(self.reads.clone());
        data.insert(self.sessions.clone());
        data.insert(self.orders.clone());
        data.insert(self.admission.clone());
        data.insert(self.passwords.clone());
        data.insert(self.limiter.clone());
        data.insert(self.bus.clone());
        data.insert(self.metrics.clone());
        data.insert(self.currency.clone());
        data.insert(self.codes.clone());
        data.insert(self.resale_price_cap);
    }
}

/// `GET /api/openapi.json`: the document, with its links, made once.
fn openapi_json(document: String) -> impl Endpoint<Output = Response> {
    poem::endpoint::make_sync(move |_| {
        Response::builder()
            .content_type("application/json; charset=utf-8")
            .body(document.clone())
    })
}

/// Sends `/api/...`, the probes and `/metrics` to the API, everything else to the pages.
struct ApiOrPages<A, P> {
    api: A,
    pages: P,
}

impl<A: Endpoint, P: Endpoint> Endpoint for ApiOrPages<A, P> {
    type Output = Response;

    async fn call(&self, req: Request) -> poem::Result<Response> {
        let path = req.uri().path();
        let to_api = path == "/api"
            || path.starts_with("/api/")
            || ["/healthz", "/readyz", "/metrics"].contains(&path);
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
