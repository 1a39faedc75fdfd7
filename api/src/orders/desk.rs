//! What making an order uses of the app's shared state, taken from the request as one value.

use api_types::Currency;
use poem::{FromRequest, Request, RequestBody, web::Data};
use sea_orm::DatabaseConnection;
use workflows::OrderClient;

use super::admission::Admission;

/// The app's shared state that making an order uses, taken from the request's `Data` as one
/// parameter.
#[derive(Clone, Copy)]
pub(super) struct OrderDesk<'a> {
    pub db: &'a DatabaseConnection,
    pub currency: &'a Currency,
    pub orders: &'a OrderClient,
    pub admission: &'a Admission,
}

impl<'a> FromRequest<'a> for OrderDesk<'a> {
    async fn from_request(req: &'a Request, _body: &mut RequestBody) -> poem::Result<Self> {
        Ok(OrderDesk {
            db: data(req).await?,
            currency: data(req).await?,
            orders: data(req).await?,
            admission: data(req).await?,
        })
    }
}

/// The request's `Data` of type `T` (500 when the app did not put it there).
async fn data<T: Send + Sync + 'static>(req: &Request) -> poem::Result<&T> {
    Ok(Data::<&T>::from_request_without_body(req).await?.0)
}
