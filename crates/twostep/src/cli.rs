//! The `twostep` command line: one binary, a subcommand for every operator task.

use std::io::{BufRead, IsTerminal};
use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};
use web::Clock;

use crate::app::{self, Senders, StartError};
use crate::config::{Config, Overrides};

#[derive(Debug, Parser)]
#[command(
    name = "twostep",
    version,
    about = "A self-hostable account service with two-step verification"
)]
pub struct Cli {
    /// A TOML configuration file (see config.example.toml).
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Address to listen on, e.g. 127.0.0.1:8080 (overrides `listen`).
    #[arg(long, global = true, value_name = "ADDR")]
    pub listen: Option<SocketAddr>,
    /// Data directory (overrides `data_dir`).
    #[arg(long, global = true, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// Log format.
    #[arg(long, global = true, value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the portal (the default when no command is given).
    Serve,
    /// Create or update the database schema, then exit.
    Migrate,
    /// Validate the configuration without starting.
    CheckConfig,
    /// Manage accounts.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// Re-seal every phone number and authenticator secret under `server_key`
    /// while the service runs, then retire the keys in `previous_server_keys`.
    RotateKey,
    /// Print the development outbox (SMS and e-mail), newest first.
    Outbox,
    /// Send one e-mail through the configured provider, to check the settings.
    SendTestEmail {
        #[arg(long, value_name = "ADDRESS")]
        to: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create an account; the password is asked on the terminal or read from stdin.
    Create {
        #[arg(long)]
        email: String,
    },
    /// Print an account's state: two-step methods, sessions, applications,
    /// recent security events. Never a secret.
    Show {
        #[arg(long)]
        email: String,
    },
    /// Turn two-step verification off for a person who has lost every factor,
    /// once you have checked who they are: ends every session, revokes every
    /// application token, records the reason and e-mails the owner.
    ResetTwoStep {
        #[arg(long)]
        email: String,
        /// Why, for the account's security events and the owner's e-mail.
        #[arg(long)]
        reason: String,
    },
    /// Stop an account from signing in or connecting applications; ends every
    /// session and application token.
    Disable {
        #[arg(long)]
        email: String,
    },
    /// Let a disabled account sign in again.
    Enable {
        #[arg(long)]
        email: String,
    },
}

#[derive(Debug, thiserror::Error)]
pub enum CliError {
    #[error(transparent)]
    Config(#[from] crate::config::ConfigError),
    #[error(transparent)]
    Start(#[from] StartError),
    #[error("{0}")]
    Input(String),
    #[error("cannot read the password")]
    ReadPassword(#[source] std::io::Error),
    #[error("the test e-mail could not be sent")]
    TestEmail(#[source] delivery::DeliveryError),
    #[error("the key rotation stopped")]
    Rotate(#[from] crate::rotate::RotateError),
    #[error("cannot read the outbox")]
    Outbox(#[source] std::io::Error),
    #[error("the change is made, but the owner could not be e-mailed")]
    NotifyOwner(#[source] delivery::DeliveryError),
}

impl Cli {
    pub fn overrides(&self) -> Overrides {
        Overrides {
            listen: self.listen,
            data_dir: self.data_dir.clone(),
        }
    }

    pub fn load_config(&self) -> Result<Config, CliError> {
        Ok(Config::load(
            self.config.as_deref(),
            std::env::vars(),
            &self.overrides(),
        )?)
    }
}

pub async fn run(cli: Cli) -> Result<(), CliError> {
    let config = cli.load_config()?;
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => {
            app::refuse_outbox_in_production(&config)?;
            let state =
                app::build(&config, Senders::from_config(&config)?, Clock::default()).await?;
            app::serve(&config, state).await?;
        }
        Command::Migrate => {
            app::migrate_store(&config).await?;
            println!("The database schema is up to date.");
        }
        Command::CheckConfig => {
            Senders::from_config(&config)?;
            println!("The configuration is valid.");
        }
        Command::User { command } => match command {
            UserCommand::Create { email } => create_user(&config, &email).await?,
            UserCommand::Show { email } => crate::operator::show(&config, &email).await?,
            UserCommand::ResetTwoStep { email, reason } => {
                crate::operator::reset_two_step(&config, &email, &reason).await?
            }
            UserCommand::Disable { email } => crate::operator::disable(&config, &email).await?,
            UserCommand::Enable { email } => crate::operator::enable(&config, &email).await?,
        },
        Command::RotateKey => rotate_key(&config).await?,
        Command::Outbox => print_outbox(&config)?,
        Command::SendTestEmail { to } => send_test_email(&config, &to).await?,
    }
    Ok(())
}

async fn create_user(config: &Config, email: &str) -> Result<(), CliError> {
    let email = domain::Email::parse(email).map_err(|e| CliError::Input(e.to_string()))?;
    let password = read_password()?;
    let password =
        domain::Password::parse_new(&password).map_err(|e| CliError::Input(e.to_string()))?;
    let hasher = domain::PasswordHasher::new(config.password_hash).map_err(StartError::from)?;
    let store = app::open_store(config).await?;
    let now = Clock::default().now();
    match store
        .create_account(email.as_str(), &hasher.hash(password.as_str()), now)
        .await
    {
        Ok(id) => {
            store
                .record_event(
                    id,
                    "account_created",
                    "Account created from the command line",
                    now,
                )
                .await
                .map_err(StartError::from)?;
            println!("Created the account {email}.");
            Ok(())
        }
        Err(storage::StoreError::EmailTaken) => Err(CliError::Input(format!(
            "An account with the e-mail {email} already exists."
        ))),
        Err(other) => Err(StartError::from(other).into()),
    }
}

async fn rotate_key(config: &Config) -> Result<(), CliError> {
    let store = app::open_store(config).await?;
    let ring = app::key_ring(config, &store).await?;
    let rotation = crate::rotate::rotate(&store, &ring, Clock::default().now()).await?;
    for (column, count) in &rotation.resealed {
        println!("{}: {count} re-sealed", column.name());
    }
    println!("Every sealed value is under the key {}.", ring.id());
    if rotation.retired.is_empty() && rotation.kept.is_empty() {
        println!("No previous key to retire.");
    }
    for (id, accounts) in &rotation.kept {
        println!(
            "Kept the key {id}: the unused recovery codes of {accounts} account(s) were made under it and cannot be re-made without the codes. Keep it in previous_server_keys (it seals nothing); run rotate-key again later: it retires the key once those people have used or replaced their codes (Security tab, Get new codes)."
        );
    }
    for id in &rotation.retired {
        println!(
            "Retired the key {id}: remove it from previous_server_keys (instances refuse it from their next start)."
        );
    }
    Ok(())
}

fn read_password() -> Result<String, CliError> {
    if std::io::stdin().is_terminal() {
        let first = rpassword::prompt_password("Password: ").map_err(CliError::ReadPassword)?;
        let second =
            rpassword::prompt_password("Password again: ").map_err(CliError::ReadPassword)?;
        if first != second {
            return Err(CliError::Input("The two passwords differ.".into()));
        }
        Ok(first)
    } else {
        let mut line = String::new();
        std::io::stdin()
            .lock()
            .read_line(&mut line)
            .map_err(CliError::ReadPassword)?;
        Ok(line.trim_end_matches(['\r', '\n']).to_owned())
    }
}

async fn send_test_email(config: &Config, to: &str) -> Result<(), CliError> {
    let to = domain::Email::parse(to).map_err(|e| CliError::Input(e.to_string()))?;
    let senders = Senders::from_config(config)?;
    let email = delivery::Email {
        to: to.to_string(),
        subject: format!("Test e-mail from {}", config.service_name),
        text: format!(
            "This is a test e-mail from {} at {}. E-mail delivery works.",
            config.service_name, config.public_url
        ),
    };
    senders
        .email
        .send(&email)
        .await
        .map_err(CliError::TestEmail)?;
    println!("Sent a test e-mail to {to}.");
    Ok(())
}

fn print_outbox(config: &Config) -> Result<(), CliError> {
    let messages = delivery::read_outbox(&config.data_dir).map_err(CliError::Outbox)?;
    if messages.is_empty() {
        println!("The outbox is empty.");
    }
    for message in messages {
        let channel = match message.channel {
            delivery::Channel::Sms => "SMS",
            delivery::Channel::Email => "E-mail",
        };
        println!("{} {channel} to {}", message.sent_at, message.to);
        if let Some(subject) = message.subject {
            println!("Subject: {subject}");
        }
        println!("{}\n", message.text);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_command_line_definition_is_valid() {
        Cli::command().debug_assert();
    }

    #[test]
    fn no_command_means_serve() {
        let cli = Cli::try_parse_from(["twostep", "--listen", "127.0.0.1:9000"]).unwrap();
        assert!(cli.command.is_none());
        assert_eq!(cli.listen, Some("127.0.0.1:9000".parse().unwrap()));
    }

    #[test]
    fn send_test_email_takes_an_address() {
        let cli =
            Cli::try_parse_from(["twostep", "send-test-email", "--to", "ann@example.com"]).unwrap();
        assert!(
            matches!(cli.command, Some(Command::SendTestEmail { ref to }) if to == "ann@example.com")
        );
    }

    #[test]
    fn user_create_takes_an_email() {
        let cli = Cli::try_parse_from(["twostep", "user", "create", "--email", "ann@example.com"])
            .unwrap();
        assert!(
            matches!(cli.command, Some(Command::User { command: UserCommand::Create { ref email } }) if email == "ann@example.com")
        );
    }
}
