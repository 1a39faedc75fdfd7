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

use crate::{error::ApiError, settings::JwtKey};

/// The claims of a session token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    pub id: Uuid,
    pub email: String,
    pub iat: i64,
    pub exp: i64,
}

/// Issues and checks session tokens; shared by every request.
#[derive(Clone)]
pub struct Sessions(Arc<SessionsInner>);

struct SessionsInner {
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
    pub fn new(key: &JwtKey, ttl_seconds: u64, cookie_secure: bool) -> Self {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.leeway = 0;
        validation.set_required_spec_claims(&["exp"]);
        Sessions(Arc::new(SessionsInner {
            encoding: EncodingKey::from_secret(key.as_bytes()),
            decoding: DecodingKey::from_secret(key.as_bytes()),
            validation,
            ttl_seconds,
            cookie_secure,
        }))
    }

    pub fn issue(&self, id: Uuid, email: &str) -> Result<Issued, ApiError> {
        let now = Utc::now();
        let expires_at = now + chrono::Duration::seconds(self.0.ttl_seconds as i64);
        let claims = Claims {
            id,
            email: email.to_owned(),
            iat: now.timestamp(),
            exp: expires_at.timestamp(),
        };
        let token = jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.0.encoding)
            .map_err(ApiError::internal)?;
        Ok(Issued {
            token,
            expires_at: DateTime::from_timestamp(claims.exp, 0).unwrap_or(expires_at),
        })
    }

    /// The claims of a token that is HS256, signed with our key and unexpired; `None` otherwise.
    pub fn verify(&self, token: &str) -> Option<Claims> {
        jsonwebtoken::decode::<Claims>(token, &self.0.decoding, &self.0.validation)
            .ok()
            .map(|data| data.claims)
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

    /// The signed-in user of a request, by bearer token or else by cookie.
    pub fn of_request(&self, req: &Request) -> Option<Claims> {
        let bearer = req
            .headers()
            .get(poem::http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .and_then(|token| self.verify(token.trim()));
        bearer.or_else(|| {
            let cookie = req.cookie().get(COOKIE)?;
            self.verify_cookie_value(cookie.value_str())
        })
    }

    fn verify_cookie_value(&self, value: &str) -> Option<Claims> {
        let json = STANDARD.decode(value.trim()).ok()?;
        #[derive(Deserialize)]
        struct CookieSession {
            jwt: String,
        }
        let session: CookieSession = serde_json::from_slice(&json).ok()?;
        self.verify(&session.jwt)
    }
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
    req.data::<Sessions>()?.verify(&bearer.token)
}

async fn cookie_claims(req: &Request, cookie: ApiKey) -> Option<Claims> {
    req.data::<Sessions>()?.verify_cookie_value(&cookie.key)
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

/// Hashes and checks passwords with Argon2id, off the async threads.
pub mod password {
    use super::*;

    pub async fn hash(password: String) -> Result<String, ApiError> {
        tokio::task::spawn_blocking(move || {
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
    pub async fn verify(password: String, stored: Option<String>) -> Result<bool, ApiError> {
        tokio::task::spawn_blocking(move || {
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
}
