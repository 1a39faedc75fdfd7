//! `/door`: door staff check a ticket's code in (typed, or read by a scanner that types it), see
//! at once whether to let its holder in, and find the form ready for the next code.

use std::sync::Arc;

use api_types::{CheckinJson, CheckinRequest, CheckinResult};
use maud::{Markup, html};
use poem::{Request, Response, handler, http::StatusCode, web::Data};

use crate::{
    format::time,
    layout::{FormErrors, csrf_field, page},
    pages::{Form, error_for, signed_in_post},
    redirects::redirect,
    site::Web,
    visit::Visit,
};

/// The word of a result in `data-result` (as the API spells it).
fn word(result: CheckinResult) -> &'static str {
    match result {
        CheckinResult::Admitted => "admitted",
        CheckinResult::AlreadyUsed => "alreadyUsed",
        CheckinResult::Void => "void",
        CheckinResult::Listed => "listed",
        CheckinResult::Unknown => "unknown",
    }
}

/// What the door learnt of a code, in large words: green to let them in, red otherwise, and
/// always said in words too.
fn verdict(checkin: &CheckinJson) -> Markup {
    let admitted = checkin.result == CheckinResult::Admitted;
    html! {
        p.verdict {
            @match checkin.result {
                CheckinResult::Admitted => "Admitted",
                CheckinResult::AlreadyUsed => "Already used",
                CheckinResult::Void => "Void: this code was replaced when the ticket changed hands",
                CheckinResult::Listed => "Not admitted: this ticket is listed for sale; its holder takes it off sale first",
                CheckinResult::Unknown => "Unknown code",
            }
        }
        @if let Some(title) = &checkin.title { p.checkin-title { (title) } }
        @if let Some(at) = checkin.checked_in_at {
            p.checkin-when {
                @if admitted { "Checked in " } @else { "Checked in before, " }
                (time(at))
            }
        }
        @if !admitted { p { "Do not let them in with this code." } }
    }
}

/// The door page: the last result (if any), then the form for the next code.
fn door_page(visit: &Visit, checkin: Option<&CheckinJson>, errors: &FormErrors) -> Markup {
    let result = checkin.map(|c| c.result);
    let class = match result {
        None => "checkin",
        Some(CheckinResult::Admitted) => "checkin admitted",
        Some(_) => "checkin refused",
    };
    let field_errors = errors.field("code");
    page(
        visit,
        "Door",
        html! {
            h1 { "Door" }
            div #checkin-result class=(class) role="status" aria-live="polite"
                data-result=[result.map(word)] {
                @if let Some(checkin) = checkin { (verdict(checkin)) }
            }
            (errors.summary(&["code"]))
            form #checkin method="post" action="/door" {
                (csrf_field(visit))
                div.field {
                    label for="code" { "Ticket code" }
                    input #code name="code" type="text" autofocus autocomplete="off"
                        autocapitalize="off" spellcheck="false" required
                        aria-invalid=[(!field_errors.is_empty()).then_some("true")]
                        aria-describedby=[(!field_errors.is_empty()).then_some("code-error")];
                    @if !field_errors.is_empty() {
                        p #code-error .error { (field_errors.join(" ")) }
                    }
                }
                button type="submit" { "Check in" }
            }
        },
    )
}

/// For a signed-in user without the door role.
fn door_staff_only(visit: &Visit) -> Response {
    visit.respond(
        StatusCode::FORBIDDEN,
        page(
            visit,
            "Door staff only",
            html! {
                h1 { "Door staff only" }
                p #door-staff-only {
                    "Only door staff can check tickets in. An operator grants the role with "
                    code { "ticketing users grant door EMAIL" } "."
                }
                p { a href="/" { "Back to the tickets" } }
            },
        ),
    )
}

#[handler]
pub async fn show(req: &Request, web: Data<&Arc<Web>>) -> Response {
    let visit = Visit::of(&web, req).await;
    if let Some(to_sign_in) = visit.sign_in_first() {
        return to_sign_in;
    }
    visit.respond(
        StatusCode::OK,
        door_page(&visit, None, &FormErrors::default()),
    )
}

#[handler]
pub async fn check_in(req: &Request, web: Data<&Arc<Web>>, form: Form) -> Response {
    let visit = match signed_in_post(&web, req, &form.0).await {
        Ok(visit) => visit,
        Err(refused) => return *refused,
    };
    let code = form.0.get("code").map_or("", |c| c.trim()).to_owned();
    if code.is_empty() {
        let errors = FormErrors(vec![(
            Some("code".to_owned()),
            "Enter a ticket code.".to_owned(),
        )]);
        return visit.respond(
            StatusCode::UNPROCESSABLE_ENTITY,
            door_page(&visit, None, &errors),
        );
    }
    let reply = web
        .backend
        .post(req, "/api/checkins", &CheckinRequest { code })
        .await;
    match reply.status {
        status if status.is_success() => match reply.json::<CheckinJson>() {
            Some(checkin) => visit.respond(
                StatusCode::OK,
                door_page(&visit, Some(&checkin), &FormErrors::default()),
            ),
            None => error_for(&visit, StatusCode::INTERNAL_SERVER_ERROR),
        },
        StatusCode::UNAUTHORIZED => redirect("/auth/signin?next=%2Fdoor", &[]),
        StatusCode::FORBIDDEN => door_staff_only(&visit),
        StatusCode::BAD_REQUEST | StatusCode::UNPROCESSABLE_ENTITY => {
            let errors = FormErrors(reply.errors());
            visit.respond(reply.status, door_page(&visit, None, &errors))
        }
        status => error_for(&visit, status),
    }
}

#[cfg(test)]
mod tests {
    use api_types::{CheckinJson, CheckinResult};

    use super::{verdict, word};

    fn checkin(result: CheckinResult) -> CheckinJson {
        CheckinJson {
            result,
            ticket_id: None,
            title: Some("Door night".to_owned()),
            checked_in_at: None,
        }
    }

    #[test]
    fn every_result_is_said_in_words() {
        for (result, words, data) in [
            (CheckinResult::Admitted, "Admitted", "admitted"),
            (CheckinResult::AlreadyUsed, "Already used", "alreadyUsed"),
            (CheckinResult::Void, "Void: this code was replaced", "void"),
            (CheckinResult::Unknown, "Unknown code", "unknown"),
        ] {
            let markup = verdict(&checkin(result)).into_string();
            assert!(markup.contains(words), "{markup}");
            assert!(markup.contains("Door night"), "{markup}");
            // The word of `data-result` is the API's own.
            let json = serde_json::to_value(result).unwrap();
            assert_eq!(json.as_str(), Some(data));
            assert_eq!(word(result), data);
        }
    }
}
