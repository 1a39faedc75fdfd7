//! Sessions: Argon2id password hashes, HS256 JWTs, the cookie-session `session` cookie, and the
//! two security schemes (bearer token, cookie) every endpoint accepts.

use std::sync::{Arc, OnceLock};

use argon2::{
    Argon2, PasswordHash, PasswordHasher, PasswordVerifier,
    password_hash::{SaltString, rand_core::OsRng},
};
use base64::{Engine, engine::general_purpose::STANDARD};
use chrono::{DateTime, Utc};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use poem::Request;
use poem_openapi::{
    SecurityScheme,
    auth::{ApiKey, Bearer},
};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use entities::user;
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter};

use crate::{error::ApiError, settings::JwtKey};

/// The claims of a session token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    pub id: Uuid,
    pub email: String,
    pub iat: i64,
    pub exp: i64,
    /// The user's session version when the token was issued; a sign-out raises it, and the token
    /// is refused from then on. (0 in tokens issued before versions existed.)
    #[serde(default)]
    pub sv: i32,
}

/// How long a process trusts a user's session version it read: a sign-out through another
/// process is seen within this (through this one, at once).
pub const SESSION_VERSION_TTL: std::time::Duration = std::time::Duration::from_secs(5);

/// What signs a request in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionBy {
    /// `Authorization: Bearer <token>`.
    Bearer,
    /// The `session` cookie.
    Cookie,
}

/// Issues and checks session tokens; shared by every request.
#[derive(Clone)]
pub struct Sessions(Arc<SessionsInner>);

struct SessionsInner {
    db: DatabaseConnection,
    versions: moka::sync::Cache<Uuid, i32>,
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    ttl_seconds: u64,
    cookie_secure: bool,
}

/// A freshly issued token.
pub struct Issued {
    pub token: String,
    pub expires_at: DateTime<Utc>,
}

impl Sessions {
    pub fn new(
        db: DatabaseConnection,
        key: &JwtKey,
        ttl_seconds: u64,
        cookie_secure: bool,
    ) -> Self {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.leeway = 0;
        validation.set_required_spec_claims(&["exp"]);
        Sessions(Arc::new(SessionsInner {
            db,
            versions: moka::sync::Cache::builder()
                .max_capacity(100_000)
                .time_to_live(SESSION_VERSION_TTL)
                .build(),
            encoding: EncodingKey::from_secret(key.as_bytes()),
            decoding: DecodingKey::from_secret(key.as_bytes()),
            validation,
            ttl_seconds,
            cookie_secure,
        }))
    }

    /// A token for `user` at their current session version.
    pub fn issue(&self, user: &user::Model) -> Result<Issued, ApiError> {
        let now = Utc::now();
        let expires_at = now + chrono::Duration::seconds(self.0.ttl_seconds as i64);
        let claims = Claims {
            id: user.id,
            email: user.email.clone(),
            iat: now.timestamp(),
            exp: expires_at.timestamp(),
            sv: user.session_version,
        };
        let token = jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.0.encoding)
            .map_err(ApiError::internal)?;
        Ok(Issued {
            token,
            expires_at: DateTime::from_timestamp(claims.exp, 0).unwrap_or(expires_at),
        })
    }

    /// The claims of a token that is HS256, signed with our key, unexpired and not signed out;
    /// `None` otherwise.
    pub async fn verify(&self, token: &str) -> Option<Claims> {
        let claims = jsonwebtoken::decode::<Claims>(token, &self.0.decoding, &self.0.validation)
            .ok()?
            .claims;
        self.current(&claims).await.then_some(claims)
    }

    /// Whether the token's session version is the user's: no sign-out since it was issued. When
    /// the database cannot say (an outage), the signature and expiry decide.
    async fn current(&self, claims: &Claims) -> bool {
        if let Some(version) = self.0.versions.get(&claims.id) {
            return version == claims.sv;
        }
        match session_version(&self.0.db, claims.id).await {
            Ok(Some(version)) => {
                self.0.versions.insert(claims.id, version);
                version == claims.sv
            }
            Ok(None) => false,
            Err(error) => {
                tracing::warn!(%error, "cannot read a session version; trusting the token");
                true
            }
        }
    }

    /// Signs the user out of every session: tokens issued so far are refused from now on.
    pub async fn revoke(&self, user_id: Uuid) -> Result<(), ApiError> {
        if let Some(version) = sign_out_everywhere(&self.0.db, user_id).await? {
            self.0.versions.insert(user_id, version);
        }
        Ok(())
    }

    /// The `Set-Cookie` value that signs a browser in.
    pub fn cookie(&self, token: &str) -> String {
        let value = STANDARD.encode(serde_json::json!({ "jwt": token }).to_string());
        let secure = if self.0.cookie_secure { "; Secure" } else { "" };
        format!(
            "{COOKIE}={value}; Path=/; HttpOnly; SameSite=Lax; Max-Age={}{secure}",
            self.0.ttl_seconds
        )
    }

    /// The `Set-Cookie` value that signs a browser out.
    pub fn cleared_cookie(&self) -> String {
        let secure = if self.0.cookie_secure { "; Secure" } else { "" };
        format!("{COOKIE}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0{secure}")
    }

    /// The signed-in user of a request, by bearer token (the scheme's name in any case, as RFC
    /// 9110 says) or else by cookie.
    pub async fn of_request(&self, req: &Request) -> Option<Claims> {
        self.session_of(req).await.map(|(claims, _)| claims)
    }

    /// Which of the request's credentials signs it in, as [`Sessions::of_request`] picks: a valid
    /// bearer token first, else a valid cookie; `None` when neither is valid.
    pub async fn signed_in_by(&self, req: &Request) -> Option<SessionBy> {
        self.session_of(req).await.map(|(_, by)| by)
    }

    async fn session_of(&self, req: &Request) -> Option<(Claims, SessionBy)> {
        let bearer = req
            .headers()
            .get(poem::http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().split_once(' '))
            .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
            .map(|(_, token)| token.trim().to_owned());
        if let Some(token) = bearer
            && let Some(claims) = self.verify(&token).await
        {
            return Some((claims, SessionBy::Bearer));
        }
        let cookie = req.cookie().get(COOKIE)?;
        let claims = self.verify_cookie_value(cookie.value_str()).await?;
        Some((claims, SessionBy::Cookie))
    }

    async fn verify_cookie_value(&self, value: &str) -> Option<Claims> {
        let json = STANDARD.decode(value.trim()).ok()?;
        #[derive(Deserialize)]
        struct CookieSession {
            jwt: String,
        }
        let session: CookieSession = serde_json::from_slice(&json).ok()?;
        self.verify(&session.jwt).await
    }
}

/// The user's session version (see [`user::Model::session_version`]); `None` for no such user.
async fn session_version(db: &DatabaseConnection, id: Uuid) -> Result<Option<i32>, ApiError> {
    use sea_orm::QuerySelect;
    Ok(user::Entity::find_by_id(id)
        .select_only()
        .column(user::Column::SessionVersion)
        .into_tuple::<i32>()
        .one(db)
        .await?)
}

/// Raises the user's session version (signs every session of theirs out); the new version.
async fn sign_out_everywhere(db: &DatabaseConnection, id: Uuid) -> Result<Option<i32>, ApiError> {
    use sea_orm::sea_query::{Expr, ExprTrait};
    user::Entity::update_many()
        .col_expr(
            user::Column::SessionVersion,
            Expr::col(user::Column::SessionVersion).add(1),
        )
        .filter(user::Column::Id.eq(id))
        .exec(db)
        .await?;
    session_version(db, id).await
}

/// The name of the session cookie.
pub const COOKIE: &str = "session";

/// A session token in `Authorization: Bearer <token>` (from `POST /api/users/token`).
#[derive(SecurityScheme)]
#[oai(ty = "bearer", bearer_format = "JWT", checker = "bearer_claims")]
pub struct BearerToken(Claims);

/// The `session` cookie set by signup and signin: base64 of `{"jwt":"<token>"}`.
#[derive(SecurityScheme)]
#[oai(
    ty = "api_key",
    key_name = "session",
    key_in = "cookie",
    checker = "cookie_claims"
)]
pub struct SessionCookie(Claims);

async fn bearer_claims(req: &Request, bearer: Bearer) -> Option<Claims> {
    req.data::<Sessions>()?.verify(&bearer.token).await
}

async fn cookie_claims(req: &Request, cookie: ApiKey) -> Option<Claims> {
    req.data::<Sessions>()?
        .verify_cookie_value(&cookie.key)
        .await
}

/// A signed-in user, by either scheme; anything else is 401 `Not authorized`.
#[derive(SecurityScheme)]
pub enum SignedIn {
    Bearer(BearerToken),
    Cookie(SessionCookie),
}

impl SignedIn {
    pub fn claims(&self) -> &Claims {
        match self {
            SignedIn::Bearer(BearerToken(claims)) | SignedIn::Cookie(SessionCookie(claims)) => {
                claims
            }
        }
    }
}

/// Hashes and checks passwords with Argon2id, off the async threads, a bounded number at a time:
/// each takes 19 MiB, so a burst of sign-ins waits its turn (and is shed with 503 after
/// [`Passwords::WAIT`]) instead of growing the process.
#[derive(Clone)]
pub struct Passwords {
    permits: Arc<tokio::sync::Semaphore>,
}

impl Passwords {
    /// How long a password check waits for its turn before it is shed.
    pub const WAIT: std::time::Duration = std::time::Duration::from_secs(10);

    /// At most `concurrency` hashes at once (at least one).
    pub fn new(concurrency: usize) -> Self {
        Passwords {
            permits: Arc::new(tokio::sync::Semaphore::new(concurrency.max(1))),
        }
    }

    async fn turn(&self) -> Result<tokio::sync::OwnedSemaphorePermit, ApiError> {
        tokio::time::timeout(Self::WAIT, self.permits.clone().acquire_owned())
            .await
            .map_err(|_| ApiError::Busy("too many password checks at once".into()))?
            .map_err(ApiError::internal)
    }

    pub async fn hash(&self, password: String) -> Result<String, ApiError> {
        let turn = self.turn().await?;
        tokio::task::spawn_blocking(move || {
            let _turn = turn;
            let salt = SaltString::generate(&mut OsRng);
            Argon2::default()
                .hash_password(password.as_bytes(), &salt)
                .map(|hash| hash.to_string())
                .map_err(|e| ApiError::internal(anyhow::anyhow!("hashing a password: {e}")))
        })
        .await
        .map_err(ApiError::internal)?
    }

    /// Checks `password` against `stored`; with no stored hash (unknown user) it checks against a
    /// dummy hash so that the answer takes as long either way.
    pub async fn verify(&self, password: String, stored: Option<String>) -> Result<bool, ApiError> {
        let turn = self.turn().await?;
        tokio::task::spawn_blocking(move || {
            let _turn = turn;
            let known = stored.is_some();
            let stored = stored.unwrap_or_else(|| dummy_hash().to_owned());
            let parsed = PasswordHash::new(&stored)
                .map_err(|e| ApiError::internal(anyhow::anyhow!("a stored hash: {e}")))?;
            let matches = Argon2::default()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok();
            Ok(known && matches)
        })
        .await
        .map_err(ApiError::internal)?
    }
}

fn dummy_hash() -> &'static str {
    static DUMMY: OnceLock<String> = OnceLock::new();
    DUMMY.get_or_init(|| {
        let salt = SaltString::generate(&mut OsRng);
        Argon2::default()
            .hash_password(b"not a password anyone has", &salt)
            .expect("hashing a constant")
            .to_string()
    })
}
