//! `/api/users`: signup, signin, tokens for API clients, signout, the current user.

pub mod queries;
pub mod writes;

use entities::{Email, domain::Invalid, user};
use poem::{Request, web::Data};
use poem_openapi::{ApiResponse, Object, OpenApi, payload::Json};
use sea_orm::DatabaseConnection;

use api_types::{CurrentUser, Empty, Nullable, SessionUser, Timestamp, TokenJson, UserJson};

use crate::{
    auth::{Passwords, Sessions},
    error::{ApiError, Fails, can},
    input::{Input, both},
    input::{Text, rules},
    limits::{ClientAddress, CredentialLimiter},
    tags::Tag,
};

/// Email and password of a new account.
#[derive(Debug, Object)]
pub struct NewAccount {
    /// A valid email address; compared case-insensitively.
    email: Input<Text<rules::Email>>,
    /// 4 to 128 characters after trimming, no control characters.
    password: Input<Text<rules::NewPassword>>,
}

/// Email and password, for signin and token.
#[derive(Debug, Object)]
pub struct Credentials {
    /// The account's email address; compared case-insensitively.
    email: Input<Text<rules::Email>>,
    /// Not empty.
    password: Input<Text<rules::Password>>,
}

#[derive(ApiResponse)]
pub enum SignedUp {
    /// Signed up and signed in; the `session` cookie is set.
    #[oai(status = 201)]
    Created(Json<UserJson>, #[oai(header = "Set-Cookie")] String),
}

#[derive(ApiResponse)]
pub enum SignedIn {
    /// Signed in; the `session` cookie is set.
    #[oai(status = 200)]
    Ok(Json<UserJson>, #[oai(header = "Set-Cookie")] String),
}

#[derive(ApiResponse)]
pub enum SignedOut {
    /// Signed out; the `session` cookie is cleared.
    #[oai(status = 200)]
    Ok(Json<Empty>, #[oai(header = "Set-Cookie")] String),
}

const PASSWORD_LENGTH: Invalid = Invalid("Password must be between 4 and 128 characters");
const PASSWORD_REQUIRED: Invalid = Invalid("You must supply a password");

const PASSWORD_CONTROL: Invalid =
    Invalid("Password must not contain control characters (such as NUL or line breaks)");

fn new_password(password: String) -> Result<String, Invalid> {
    let password = password.trim();
    if !(4..=128).contains(&password.chars().count()) {
        Err(PASSWORD_LENGTH)
    } else if password.chars().any(char::is_control) {
        Err(PASSWORD_CONTROL)
    } else {
        Ok(password.to_owned())
    }
}

fn given_password(password: String) -> Result<String, Invalid> {
    let password = password.trim();
    if password.is_empty() {
        Err(PASSWORD_REQUIRED)
    } else {
        Ok(password.to_owned())
    }
}

fn email(input: Input<Text<rules::Email>>) -> Result<Email, Invalid> {
    input.parse(|s| Email::parse(&s.0), Email::INVALID)
}

/// Counts a credential attempt of `req` (see [`CredentialLimiter`]); the account is the email's
/// key when the body names a valid email.
fn attempt(
    limiter: &CredentialLimiter,
    req: &Request,
    email: &Input<Text<rules::Email>>,
) -> Result<(), ApiError> {
    let account = match email {
        Input::Given(text) => Email::parse(&text.0).ok().map(|e| e.key()),
        _ => None,
    };
    limiter.attempt(account, ClientAddress::of(req))
}

/// The user these credentials belong to; 400 `Invalid credentials` for an unknown email or a
/// wrong password alike.
async fn authenticate(
    db: &DatabaseConnection,
    passwords: &Passwords,
    body: Credentials,
) -> Result<user::Model, ApiError> {
    let (email, password) = both(
        ("email", email(body.email)),
        (
            "password",
            body.password
                .parse(|p| given_password(p.0), PASSWORD_REQUIRED),
        ),
    )?;
    let user = queries::find_by_email(db, &email).await?;
    let stored = user.as_ref().map(|u| u.password_hash.clone());
    match (passwords.verify(password, stored).await?, user) {
        (true, Some(user)) => Ok(user),
        _ => Err(ApiError::bad_request("Invalid credentials")),
    }
}

pub struct UsersApi;

#[OpenApi(tag = "Tag::Users")]
impl UsersApi {
    /// Sign up
    ///
    /// Creates an account and signs it in (sets the `session` cookie).
    #[oai(path = "/api/users/signup", method = "post", operation_id = "signUp")]
    #[allow(clippy::too_many_arguments)]
    async fn signup(
        &self,
        req: &Request,
        db: Data<&DatabaseConnection>,
        sessions: Data<&Sessions>,
        passwords: Data<&Passwords>,
        limiter: Data<&CredentialLimiter>,
        body: Json<NewAccount>,
    ) -> Result<SignedUp, Fails<{ can::JSON_BODY | can::CREDENTIALS | can::DATABASE }>> {
        let body = body.0;
        attempt(&limiter, req, &body.email)?;
        let (email, password) = both(
            ("email", email(body.email)),
            (
                "password",
                body.password.parse(|p| new_password(p.0), PASSWORD_LENGTH),
            ),
        )?;
        if queries::email_taken(&db, &email).await? {
            return Err(ApiError::bad_request("Email in use").into());
        }
        let hash = passwords.hash(password).await?;
        let user = writes::insert(&db, &email, hash)
            .await?
            .ok_or_else(|| ApiError::bad_request("Email in use"))?;
        let issued = sessions.issue(&user)?;
        Ok(SignedUp::Created(
            Json(user.into()),
            sessions.cookie(&issued.token),
        ))
    }

    /// Sign in
    ///
    /// Checks the credentials and sets the `session` cookie.
    #[oai(path = "/api/users/signin", method = "post", operation_id = "signIn")]
    async fn signin(
        &self,
        req: &Request,
        db: Data<&DatabaseConnection>,
        sessions: Data<&Sessions>,
        passwords: Data<&Passwords>,
        limiter: Data<&CredentialLimiter>,
        body: Json<Credentials>,
    ) -> Result<SignedIn, Fails<{ can::JSON_BODY | can::CREDENTIALS | can::DATABASE }>> {
        attempt(&limiter, req, &body.0.email)?;
        let user = authenticate(&db, &passwords, body.0).await?;
        let issued = sessions.issue(&user)?;
        Ok(SignedIn::Ok(
            Json(user.into()),
            sessions.cookie(&issued.token),
        ))
    }

    /// Get a token
    ///
    /// For API clients: checks the credentials like signin and returns a bearer token instead of
    /// a cookie.
    #[oai(path = "/api/users/token", method = "post", operation_id = "getToken")]
    async fn token(
        &self,
        req: &Request,
        db: Data<&DatabaseConnection>,
        sessions: Data<&Sessions>,
        passwords: Data<&Passwords>,
        limiter: Data<&CredentialLimiter>,
        body: Json<Credentials>,
    ) -> Result<Json<TokenJson>, Fails<{ can::JSON_BODY | can::CREDENTIALS | can::DATABASE }>> {
        attempt(&limiter, req, &body.0.email)?;
        let user = authenticate(&db, &passwords, body.0).await?;
        let issued = sessions.issue(&user)?;
        Ok(Json(TokenJson {
            token: issued.token,
            expires_at: Timestamp(issued.expires_at),
        }))
    }

    /// Sign out
    ///
    /// Clears the `session` cookie and signs the user out everywhere: every token issued to them
    /// so far (cookies and bearer tokens alike) is refused from now on. Signed out already, it
    /// only clears the cookie.
    #[oai(path = "/api/users/signout", method = "post", operation_id = "signOut")]
    async fn signout(
        &self,
        req: &Request,
        sessions: Data<&Sessions>,
    ) -> Result<SignedOut, Fails<{ can::DATABASE }>> {
        if let Some(claims) = sessions.of_request(req).await {
            sessions.revoke(claims.id).await?;
        }
        Ok(SignedOut::Ok(Json(Empty {}), sessions.cleared_cookie()))
    }

    /// The current user
    ///
    /// Who the session (cookie or bearer token) belongs to; `null` when signed out. Never 401.
    #[oai(
        path = "/api/users/currentuser",
        method = "get",
        operation_id = "getCurrentUser"
    )]
    async fn current_user(
        &self,
        req: &Request,
        sessions: Data<&Sessions>,
    ) -> Result<Json<CurrentUser>, Fails<{ can::INTERNAL }>> {
        Ok(Json(CurrentUser {
            current_user: Nullable(sessions.of_request(req).await.map(|claims| SessionUser {
                id: claims.id,
                email: claims.email,
                iat: claims.iat,
            })),
        }))
    }
}
