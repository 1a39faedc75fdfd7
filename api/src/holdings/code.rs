//! Ticket codes: what a holder shows at the door. A code names one holding of one ticket (the
//! ticket and its generation, which grows at every change of hands) and carries an HMAC-SHA256
//! of both under `TICKET_CODE_KEY`, so that it cannot be forged, and a code of an earlier holder is
//! recognised as void rather than unknown.
//!
//! Written as `<ticket id, 32 hex digits>-<generation>-<20 hex digits of the MAC>` in upper case
//! (QR codes hold upper-case letters, digits and `-` compactly); read in either case, trimmed.

use hmac::{Hmac, Mac};
use sha2::Sha256;
use uuid::Uuid;

use crate::settings::TicketCodeKey;

/// How many bytes of the MAC a code carries (80 bits).
const MAC_BYTES: usize = 10;
/// What the MAC is computed over, before the ticket and generation: a new format gets a new
/// label, so no code of one reads as a code of another.
const LABEL: &[u8] = b"ticketing/ticket-code/1";

/// Issues and reads ticket codes with one key.
#[derive(Clone)]
pub struct TicketCodes {
    key: Vec<u8>,
}

/// What a genuine code names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TicketCode {
    pub ticket_id: Uuid,
    pub generation: i32,
}

impl TicketCodes {
    pub fn new(key: &TicketCodeKey) -> Self {
        TicketCodes {
            key: key.as_bytes().to_vec(),
        }
    }

    /// The code of `generation` of `ticket_id`'s holdings.
    pub fn issue(&self, ticket_id: Uuid, generation: i32) -> String {
        let mac = self.mac(ticket_id, generation);
        format!(
            "{}-{generation}-{}",
            ticket_id.simple(),
            hex(&mac[..MAC_BYTES])
        )
        .to_ascii_uppercase()
    }

    /// What `text` names, if it is a code this key issued; `None` for anything else (malformed,
    /// or forged).
    pub fn read(&self, text: &str) -> Option<TicketCode> {
        let text = text.trim().to_ascii_lowercase();
        let mut parts = text.split('-');
        let (ticket, generation, mac) = (parts.next()?, parts.next()?, parts.next()?);
        if parts.next().is_some() || ticket.len() != 32 || mac.len() != MAC_BYTES * 2 {
            return None;
        }
        let ticket_id = Uuid::try_parse(ticket).ok()?;
        let generation: i32 = generation.parse().ok().filter(|g| *g >= 1)?;
        let given = unhex(mac)?;
        let check = self.hmac(ticket_id, generation);
        // Constant time: the MAC's own comparison of a truncated tag.
        check.verify_truncated_left(&given).ok()?;
        Some(TicketCode {
            ticket_id,
            generation,
        })
    }

    fn hmac(&self, ticket_id: Uuid, generation: i32) -> Hmac<Sha256> {
        let mut mac =
            Hmac::<Sha256>::new_from_slice(&self.key).expect("HMAC takes a key of any length");
        mac.update(LABEL);
        mac.update(ticket_id.as_bytes());
        mac.update(&generation.to_be_bytes());
        mac
    }

    fn mac(&self, ticket_id: Uuid, generation: i32) -> Vec<u8> {
        self.hmac(ticket_id, generation)
            .finalize()
            .into_bytes()
            .to_vec()
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(text: &str) -> Option<Vec<u8>> {
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn codes(key: &str) -> TicketCodes {
        TicketCodes::new(&TicketCodeKey::new(key).unwrap())
    }

    #[test]
    fn a_code_reads_back_as_what_it_names_in_any_case() {
        let codes = codes("a key of thirty-two characters at least!");
        let ticket = Uuid::new_v4();
        let code = codes.issue(ticket, 3);
        assert_eq!(code, code.to_ascii_uppercase());
        let named = Some(TicketCode {
            ticket_id: ticket,
            generation: 3,
        });
        assert_eq!(codes.read(&code), named);
        assert_eq!(codes.read(&format!("  {}\n", code.to_lowercase())), named);
    }

    #[test]
    fn a_forged_or_malformed_code_names_nothing() {
        let codes = codes("a key of thirty-two characters at least!");
        let ticket = Uuid::new_v4();
        let code = codes.issue(ticket, 1);
        // Another generation with the same MAC, another key's code, a changed digit.
        let (head, mac) = code.rsplit_once('-').unwrap();
        let other_generation = format!("{}-2-{mac}", &head[..32]);
        assert_eq!(codes.read(&other_generation), None);
        let other_key = super::TicketCodes::new(
            &TicketCodeKey::new("another key of thirty-two characters!!").unwrap(),
        );
        assert_eq!(codes.read(&other_key.issue(ticket, 1)), None);
        let mut changed = code.clone().into_bytes();
        let last = changed.len() - 1;
        changed[last] = if changed[last] == b'0' { b'1' } else { b'0' };
        assert_eq!(codes.read(&String::from_utf8(changed).unwrap()), None);
        for junk in ["", "-", "abc", "x-1-y", &format!("{code}-1"), "é"] {
            assert_eq!(codes.read(junk), None, "{junk:?}");
        }
    }
}
