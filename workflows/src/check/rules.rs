//! The rules an order, its ticket and its payments must keep, as pure functions of the rows.

use entities::{
    order::{self, Status},
    payment, ticket,
};
use sea_orm::Iterable;
use uuid::Uuid;

use super::Disagreement;

/// The statuses of an order that holds its ticket: open (`created`, `awaiting:payment`) or sold
/// (`complete`).
pub(super) const HOLDING: [Status; 3] =
    [Status::Created, Status::AwaitingPayment, Status::Complete];

/// What is wrong with an order, given its payments and its ticket (`None`: no such ticket).
pub(super) fn order_problems(
    order: &order::Model,
    payments: &[payment::Model],
    ticket: Option<&ticket::Model>,
) -> Vec<Disagreement> {
    let mut problems = Vec::new();
    let said = order.status.as_str();

    match (order.status, order.cancel_reason) {
        (Status::Cancelled, None) => {
            problems.push("cancelled, but has no cancel reason".to_owned())
        }
        (status, Some(reason)) if status != Status::Cancelled => problems.push(format!(
            "{said}, but has the cancel reason {reason}, which only a cancelled order has"
        )),
        _ => {}
    }

    // Payments: exactly one for a complete order, of its price; none for any other.
    if order.status == Status::Complete {
        match payments {
            [] => problems.push("complete, but has no payment".to_owned()),
            [payment] if payment.amount_cents != order.price_cents => problems.push(format!(
                "complete at a price of {} cents, but its payment {} is of {} cents",
                order.price_cents, payment.id, payment.amount_cents
            )),
            [_] => {}
            more => problems.push(format!(
                "complete, but has {} payments ({}), not one",
                more.len(),
                more.iter()
                    .map(|p| p.id.to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            )),
        }
    } else {
        for payment in payments {
            problems.push(format!(
                "{said}, not complete, but has payment {} of {} cents",
                payment.id, payment.amount_cents
            ));
        }
    }

    // The ticket: held by an open order, and by the complete order that bought it.
    if HOLDING.contains(&order.status) {
        let holds = if order.is_open() { "holds" } else { "sold" };
        match ticket {
            None => problems.push(format!(
                "{said}, but its ticket {} does not exist",
                order.ticket_id
            )),
            Some(ticket) => match ticket.order_id {
                Some(holder) if holder == order.id => {}
                Some(holder) => problems.push(format!(
                    "{said}, but its ticket {} is held by order {holder}, not by this order (which {holds} it)",
                    ticket.id
                )),
                None => problems.push(format!(
                    "{said}, but its ticket {} is free, not held by this order (which {holds} it)",
                    ticket.id
                )),
            },
        }
    }

    problems
        .into_iter()
        .map(|problem| Disagreement::order(order.id, problem))
        .collect()
}

/// How long past its expiry an open order may stay open (its timer fires, then the cancel step
/// runs, or a payment in flight finishes) before it is reported as overdue.
pub(super) const OVERDUE_AFTER: chrono::Duration = chrono::Duration::minutes(2);

/// An open order long past its expiry: its timer should have ended it (no worker runs, or its
/// workflow is stuck).
pub(super) fn overdue_problem(
    order: &order::Model,
    now: chrono::DateTime<chrono::Utc>,
) -> Option<Disagreement> {
    (order.is_open() && order.expires_at + OVERDUE_AFTER < now).then(|| {
        Disagreement::order(
            order.id,
            format!(
                "{}, but it expired at {} and is still open",
                order.status,
                order
                    .expires_at
                    .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
            ),
        )
    })
}

/// The order a ticket's `order_id` names, as the check found it.
pub(super) enum Holder<'a> {
    /// No such order.
    Missing,
    /// A row whose status or cancel reason is none we know (reported with the order).
    Unreadable(&'a str),
    Found(&'a order::Model),
}

/// What is wrong with a ticket held by `holder` (nothing for a free ticket).
pub(super) fn ticket_problems(ticket: &ticket::Model, holder: Holder<'_>) -> Vec<Disagreement> {
    let Some(holder_id) = ticket.order_id else {
        return Vec::new();
    };
    let problem = match holder {
        Holder::Missing => Some(format!(
            "is held by order {holder_id}, which does not exist"
        )),
        Holder::Unreadable(status) => Some(format!(
            "is held by order {holder_id}, whose status {status:?} is unknown"
        )),
        Holder::Found(order) if order.status == Status::Cancelled => Some(format!(
            "is held by order {holder_id}, which is cancelled (a cancelled order frees its ticket)"
        )),
        Holder::Found(order) if order.ticket_id != ticket.id => Some(format!(
            "is held by order {holder_id}, which is an order for ticket {}",
            order.ticket_id
        )),
        Holder::Found(_) => None,
    };
    problem
        .map(|problem| Disagreement::ticket(ticket.id, problem))
        .into_iter()
        .collect()
}

/// A ticket with more than one open or complete order.
pub(super) fn crowded_ticket_problem(ticket_id: Uuid, orders: &[order::Model]) -> Disagreement {
    Disagreement::ticket(
        ticket_id,
        format!(
            "has {} open or complete orders, not at most one: {}",
            orders.len(),
            orders
                .iter()
                .map(|o| format!("{} ({})", o.id, o.status))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    )
}

/// An order row whose stored status or cancel reason is none of the known ones.
pub(super) fn unknown_values_problem(
    id: Uuid,
    status: &str,
    cancel_reason: Option<&str>,
) -> Disagreement {
    let known_status = Status::parse(status).is_ok();
    let problem = if !known_status {
        format!(
            "has status {status:?}, which is none of {}",
            Status::ALL.map(|s| s.as_str()).join(", ")
        )
    } else {
        format!(
            "{status} for the reason {:?}, which is none of {}",
            cancel_reason.unwrap_or_default(),
            entities::order::CancelReason::iter()
                .map(entities::order::CancelReason::as_str)
                .collect::<Vec<_>>()
                .join(", ")
        )
    };
    Disagreement::order(id, problem)
}

#[cfg(test)]
mod tests {
    use chrono::Utc;
    use entities::order::CancelReason;

    use super::{super::an_order, *};

    fn its_ticket(order: &order::Model, holder: Option<Uuid>) -> ticket::Model {
        let now = Utc::now();
        ticket::Model {
            id: order.ticket_id,
            title: "Opera night".into(),
            price_cents: order.price_cents,
            user_id: Uuid::new_v4(),
            version: 1,
            order_id: holder,
            resale_of: None,
            withdrawn_at: None,
            created_at: now,
            updated_at: now,
        }
    }

    fn its_payment(order: &order::Model, amount_cents: i64) -> payment::Model {
        payment::Model {
            id: Uuid::new_v4(),
            order_id: order.id,
            charge_id: "ch_1".into(),
            amount_cents,
            currency: "usd".into(),
            created_at: Utc::now(),
            request_id: None,
        }
    }

    fn problems(found: Vec<Disagreement>) -> Vec<String> {
        found.into_iter().map(|d| d.problem).collect()
    }

    #[test]
    fn a_disagreement_prints_as_subject_colon_problem() {
        let id = Uuid::nil();
        let d = Disagreement::order(id, "complete, but has no payment");
        assert_eq!(
            d.to_string(),
            "order 00000000-0000-0000-0000-000000000000: complete, but has no payment"
        );
    }

    #[test]
    fn consistent_orders_have_no_problems() {
        for status in [Status::Created, Status::AwaitingPayment] {
            let order = an_order(status);
            let ticket = its_ticket(&order, Some(order.id));
            assert_eq!(order_problems(&order, &[], Some(&ticket)), vec![]);
        }
        let paid = an_order(Status::Complete);
        let ticket = its_ticket(&paid, Some(paid.id));
        let payment = its_payment(&paid, 4250);
        assert_eq!(order_problems(&paid, &[payment], Some(&ticket)), vec![]);
        let cancelled = an_order(Status::Cancelled);
        let ticket = its_ticket(&cancelled, None);
        assert_eq!(order_problems(&cancelled, &[], Some(&ticket)), vec![]);
    }

    #[test]
    fn a_complete_order_needs_one_payment_of_its_price() {
        let order = an_order(Status::Complete);
        let ticket = its_ticket(&order, Some(order.id));
        let found = order_problems(&order, &[], Some(&ticket));
        assert_eq!(found[0].subject, format!("order {}", order.id));
        assert_eq!(problems(found), vec!["complete, but has no payment"]);

        let short = its_payment(&order, 4000);
        assert_eq!(
            problems(order_problems(
                &order,
                std::slice::from_ref(&short),
                Some(&ticket)
            )),
            vec![format!(
                "complete at a price of 4250 cents, but its payment {} is of 4000 cents",
                short.id
            )]
        );
        let two = [its_payment(&order, 4250), its_payment(&order, 4250)];
        let found = problems(order_problems(&order, &two, Some(&ticket)));
        assert_eq!(found.len(), 1);
        assert!(
            found[0].starts_with("complete, but has 2 payments"),
            "{found:?}"
        );
    }

    #[test]
    fn an_order_that_is_not_complete_has_no_payment() {
        let order = an_order(Status::Cancelled);
        let payment = its_payment(&order, 4250);
        assert_eq!(
            problems(order_problems(&order, std::slice::from_ref(&payment), None)),
            vec![format!(
                "cancelled, not complete, but has payment {} of 4250 cents",
                payment.id
            )]
        );
    }

    #[test]
    fn statuses_and_cancel_reasons_are_known_ones() {
        let id = Uuid::new_v4();
        assert_eq!(
            unknown_values_problem(id, "refunded", None).problem,
            "has status \"refunded\", which is none of created, awaiting:payment, cancelled, complete"
        );
        assert_eq!(
            unknown_values_problem(id, "cancelled", Some("bored")).problem,
            "cancelled for the reason \"bored\", which is none of cancelled, expired, declined, operator"
        );
        let mut cancelled = an_order(Status::Cancelled);
        cancelled.cancel_reason = None;
        assert_eq!(
            problems(order_problems(&cancelled, &[], None)),
            vec!["cancelled, but has no cancel reason"]
        );
        let mut open = an_order(Status::Created);
        open.cancel_reason = Some(CancelReason::Declined);
        let ticket = its_ticket(&open, Some(open.id));
        assert_eq!(
            problems(order_problems(&open, &[], Some(&ticket))),
            vec!["created, but has the cancel reason declined, which only a cancelled order has"]
        );
    }

    #[test]
    fn open_and_complete_orders_hold_their_ticket() {
        let other = Uuid::new_v4();
        let order = an_order(Status::Created);
        let ticket = its_ticket(&order, None);
        assert_eq!(
            problems(order_problems(&order, &[], Some(&ticket))),
            vec![format!(
                "created, but its ticket {} is free, not held by this order (which holds it)",
                ticket.id
            )]
        );
        let order = an_order(Status::Complete);
        let ticket = its_ticket(&order, Some(other));
        let payment = its_payment(&order, 4250);
        assert_eq!(
            problems(order_problems(&order, &[payment], Some(&ticket))),
            vec![format!(
                "complete, but its ticket {} is held by order {other}, not by this order (which sold it)",
                ticket.id
            )]
        );
        let order = an_order(Status::AwaitingPayment);
        assert_eq!(
            problems(order_problems(&order, &[], None)),
            vec![format!(
                "awaiting:payment, but its ticket {} does not exist",
                order.ticket_id
            )]
        );
    }

    #[test]
    fn a_ticket_is_held_only_by_an_open_or_complete_order_for_it() {
        let order = an_order(Status::Created);
        let ticket = its_ticket(&order, Some(order.id));
        assert_eq!(ticket_problems(&ticket, Holder::Found(&order)), vec![]);
        assert_eq!(
            ticket_problems(&its_ticket(&order, None), Holder::Missing),
            vec![]
        );

        let found = ticket_problems(&ticket, Holder::Missing);
        assert_eq!(found[0].subject, format!("ticket {}", ticket.id));
        assert_eq!(
            problems(found),
            vec![format!(
                "is held by order {}, which does not exist",
                order.id
            )]
        );

        let cancelled = order::Model {
            status: Status::Cancelled,
            cancel_reason: Some(CancelReason::Cancelled),
            ..order.clone()
        };
        assert_eq!(
            problems(ticket_problems(&ticket, Holder::Found(&cancelled))),
            vec![format!(
                "is held by order {}, which is cancelled (a cancelled order frees its ticket)",
                order.id
            )]
        );

        let elsewhere = order::Model {
            ticket_id: Uuid::new_v4(),
            ..order.clone()
        };
        assert_eq!(
            problems(ticket_problems(&ticket, Holder::Found(&elsewhere))),
            vec![format!(
                "is held by order {}, which is an order for ticket {}",
                order.id, elsewhere.ticket_id
            )]
        );
    }

    #[test]
    fn a_crowded_ticket_names_its_orders() {
        let a = an_order(Status::Complete);
        let b = order::Model {
            id: Uuid::new_v4(),
            status: Status::Created,
            ..a.clone()
        };
        let d = crowded_ticket_problem(a.ticket_id, &[a.clone(), b.clone()]);
        assert_eq!(d.subject, format!("ticket {}", a.ticket_id));
        assert_eq!(
            d.problem,
            format!(
                "has 2 open or complete orders, not at most one: {} (complete), {} (created)",
                a.id, b.id
            )
        );
    }

    #[test]
    fn an_open_order_long_past_its_expiry_is_overdue() {
        let now = Utc::now();
        let mut order = an_order(Status::Created);
        order.expires_at = now - chrono::Duration::minutes(1);
        assert_eq!(overdue_problem(&order, now), None, "within the grace");
        order.expires_at = now - chrono::Duration::minutes(3);
        let found = overdue_problem(&order, now).expect("overdue");
        assert!(
            found.problem.starts_with("created, but it expired at "),
            "{found}"
        );
        let done = order::Model {
            status: Status::Complete,
            ..order
        };
        assert_eq!(overdue_problem(&done, now), None);
    }
}
