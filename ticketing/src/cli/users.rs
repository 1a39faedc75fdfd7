//! `ticketing users`: what an operator grants users, and its flags.

use clap::{Args, Subcommand, ValueEnum};
use entities::{Email, user_role};

use super::DatabaseArgs;

#[derive(Debug, Subcommand)]
pub enum UsersCommand {
    /// Grant ROLE to the account of EMAIL (granting it again changes nothing).
    Grant(RoleArgs),
    /// Take ROLE back from the account of EMAIL.
    Revoke(RoleArgs),
}

#[derive(Debug, Args)]
pub struct RoleArgs {
    /// The role to grant or revoke.
    #[arg(value_name = "ROLE")]
    pub role: RoleName,
    /// The account's email, in any case.
    #[arg(value_name = "EMAIL", value_parser = parse_email)]
    pub email: Email,
    #[command(flatten)]
    pub database: DatabaseArgs,
}

/// A role as the command line names it; one per [`user_role::Role`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum RoleName {
    /// Door staff: checks tickets in.
    Door,
}

impl RoleName {
    /// The role as stored.
    pub fn role(self) -> user_role::Role {
        match self {
            RoleName::Door => user_role::Role::Door,
        }
    }

    /// The name the command line and its messages use.
    pub fn name(self) -> &'static str {
        match self {
            RoleName::Door => "door",
        }
    }
}

fn parse_email(text: &str) -> Result<Email, String> {
    Email::parse(text).map_err(|_| "an email address such as door@example.com".to_owned())
}

#[cfg(test)]
mod tests {
    use clap::ValueEnum;

    use super::RoleName;

    /// The messages name each role as the command line does.
    #[test]
    fn each_role_is_named_as_it_is_parsed() {
        for role in RoleName::value_variants() {
            let parsed = RoleName::from_str(role.name(), false).unwrap();
            assert_eq!(parsed, *role);
        }
    }
}
