//! `/api/checkins`: door staff check a ticket code in. The first scan of a genuine, current code
//! admits; any later one says when it was used; a code the ticket had before it changed hands is
//! void; anything else is unknown.

pub mod writes;

use api_types::{CheckinJson, CheckinRequest};
use entities::user_role::{self, Role};
use poem::web::Data;
use poem_openapi::{OpenApi, param::Header, payload::Json};
use sea_orm::{DatabaseConnection, EntityTrait};

use crate::{
    auth::SignedIn,
    error::{ApiError, Fails, can},
    holdings::TicketCodes,
    idempotency::Key,
    request_keys::RequestKey,
    tags::Tag,
};

/// The refusal of a scan by someone without the door role.
pub const DOOR_ONLY: &str = "Only door staff can check tickets in (an operator grants it: ticketing users grant door EMAIL)";

pub struct CheckinsApi;

#[OpenApi(tag = "Tag::Holdings")]
impl CheckinsApi {
    /// Check a ticket in
    ///
    /// For door staff (the `door` role, granted by an operator). Answers 200 with the `result`:
    /// `admitted` the first time a current code is scanned (and when), `alreadyUsed` after that
    /// (with when), `void` for a code the ticket had before it changed hands, `unknown` for
    /// anything else, `listed` for a ticket its holder has listed for sale (they take it off sale
    /// first). Two doors scanning one code at once admit it once. With an `Idempotency-Key`, a
    /// scan retried after its answer was lost is answered `admitted` again (not `alreadyUsed`).
    #[oai(path = "/api/checkins", method = "post", operation_id = "checkIn")]
    async fn check_in(
        &self,
        auth: SignedIn,
        db: Data<&DatabaseConnection>,
        codes: Data<&TicketCodes>,
        /// Makes a retry safe (see the operation).
        #[oai(name = "Idempotency-Key")]
        idempotency_key: Header<Option<Key>>,
        body: Json<CheckinRequest>,
    ) -> Result<
        Json<CheckinJson>,
        Fails<
            {
                can::JSON_BODY
                    | can::NOT_AUTHORIZED
                    | can::FORBIDDEN
                    | can::UNPROCESSABLE
                    | can::DATABASE
            },
        >,
    > {
        let door = auth.claims().id;
        let role = user_role::Entity::find_by_id((door, Role::Door))
            .one(*db)
            .await
            .map_err(ApiError::from)?;
        if role.is_none() {
            return Err(ApiError::Forbidden(DOOR_ONLY.to_owned()).into());
        }
        let key = idempotency_key
            .0
            .map(|key| RequestKey::new(door, key, "checkin", &[body.0.code.trim()]));
        let scan = match codes.read(&body.0.code) {
            Some(code) => writes::check_in(&db, code, door, key.as_ref()).await?,
            None => writes::unknown(),
        };
        Ok(Json(scan))
    }
}
