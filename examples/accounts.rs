//! Customer accounts at a small kayak-tour business, on the in-memory store.
//!
//! Run with `cargo run --example accounts`. Ana has booked twice as a guest. She signs up,
//! verifies her email (her account claims her profile and shows both bookings), logs in,
//! mistypes her password until the account locks, waits, resets her password by mail and
//! cancels a tour herself. Mail goes to a recording notifier, so the links are printed
//! here instead of sent. The clock is fixed so the walk-through is repeatable.

use chrono::{TimeDelta, TimeZone, Utc};
use customer_directory::MemoryStore;
use customer_directory::ports::{FixedClock, Notification, RecordingNotifier};
use customer_directory::records::{ResetToken, VerificationToken};
use customer_directory::service::AccountError;
use customer_directory::settings::AccountsMode;
use customer_directory::{
    AccountSettings, Accounts, Actor, BookingStatus, Clock, ContactForm, Currency, Directory,
    DirectorySettings, Money, NewBooking, Password,
};

type Demo = Result<(), Box<dyn std::error::Error>>;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Demo {
    let mut accounts_settings = AccountSettings::with_mode(AccountsMode::Optional);
    accounts_settings.max_failed_logins = 3;
    accounts_settings.change_window_days = 2;
    let settings = DirectorySettings::default().with_accounts(accounts_settings);
    let clock = FixedClock::new(Utc.with_ymd_and_hms(2026, 6, 1, 9, 0, 0).unwrap());
    let mail = RecordingNotifier::new();
    let directory = Directory::with_clock(MemoryStore::new(), settings, clock.clone());
    let accounts = Accounts::new(directory, mail.clone());
    let guest = Actor::System;

    println!("1. Ana books two tours as a guest");
    let eur = Currency::parse("EUR")?;
    let form = ContactForm {
        given_name: "Ana".into(),
        family_name: "Silva".into(),
        email: "ana.silva@example.com".into(),
        ..ContactForm::default()
    };
    let contact = form.parse(accounts.directory().settings())?;
    let mut bookings = Vec::new();
    for (code, days) in [("KAYAK-101", 10), ("KAYAK-102", 1)] {
        let starts = clock.now() + TimeDelta::days(days);
        let new = NewBooking::new(
            code,
            BookingStatus::PAID,
            contact.clone(),
            starts,
            Money::new(65_00, eur),
        );
        let recorded = accounts.directory().record_booking(new, &guest).await?;
        println!(
            "   {code}, starting in {days} day(s): {:?}",
            recorded.outcome
        );
        bookings.push(recorded.booking);
    }

    println!("\n2. She signs up; a weak password is refused with every reason at once");
    if let Err(AccountError::WeakPassword(violations)) = accounts
        .sign_up("ana.silva@example.com", &Password::new("ana silva"), &guest)
        .await
    {
        for violation in &violations {
            println!("   - {violation}");
        }
    }
    let password = Password::new("Paddle-Lagoon-Heron-42");
    accounts
        .sign_up("ana.silva@example.com", &password, &guest)
        .await?;
    let link = show_last_mail(&mail);

    println!("\n3. She follows the verification link");
    // The web handler reads the token from the link; a reset token would not fit here.
    let token = VerificationToken::parse(&link)?;
    let account = accounts.verify_email(&token, &guest).await?;
    let claimed = accounts.account(account).await?.customer;
    println!("   verified; the account claims profile {claimed:?}");
    for booking in accounts.my_bookings(account).await? {
        println!(
            "   my booking {} ({}) starts {}",
            booking.code, booking.status, booking.starts_at
        );
    }

    println!("\n4. Logging in");
    let login = accounts
        .log_in("Ana.Silva@example.com", &password, &guest)
        .await?;
    println!("   logged in as account {}", login.account);
    let unknown = accounts
        .log_in("nobody@example.com", &password, &guest)
        .await
        .unwrap_err();
    let wrong = accounts
        .log_in("ana.silva@example.com", &Password::new("guess"), &guest)
        .await
        .unwrap_err();
    println!("   unknown email: {unknown}");
    println!("   wrong password: {wrong}  (the same answer)");

    println!("\n5. Two more wrong passwords lock the account (3 failures allowed)");
    for _ in 0..2 {
        let error = accounts
            .log_in("ana.silva@example.com", &Password::new("guess"), &guest)
            .await
            .unwrap_err();
        println!("   {error}");
    }
    let locked = accounts
        .log_in("ana.silva@example.com", &password, &guest)
        .await
        .unwrap_err();
    println!("   even the right password: {locked}");
    clock.advance(TimeDelta::minutes(15));
    println!("   15 minutes later...");
    accounts
        .log_in("ana.silva@example.com", &password, &guest)
        .await?;
    println!("   logged in again");

    println!("\n6. She forgets her password and asks for a reset");
    accounts
        .request_password_reset("ana.silva@example.com", &guest)
        .await?;
    accounts
        .request_password_reset("stranger@example.com", &guest)
        .await?;
    println!("   (a reset for an unknown address answers the same and sends nothing)");
    let link = show_last_mail(&mail);
    let token = ResetToken::parse(&link)?;
    let new_password = Password::new("Heron-Lagoon-Paddle-24");
    accounts
        .reset_password(&token, &new_password, &guest)
        .await?;
    println!(
        "   password reset; using the link again: {}",
        accounts
            .reset_password(&token, &new_password, &guest)
            .await
            .unwrap_err()
    );
    accounts
        .log_in("ana.silva@example.com", &new_password, &guest)
        .await?;
    println!("   logged in with the new password");

    println!("\n7. Self-service: cancelling her tours");
    let me = Actor::Customer(claimed.expect("claimed profile"));
    let cancelled = accounts.cancel_booking(account, bookings[0], &me).await?;
    println!(
        "   {} is now {} (amounts unchanged: {} paid of {})",
        cancelled.code, cancelled.status, cancelled.paid, cancelled.total
    );
    match accounts.cancel_booking(account, bookings[1], &me).await {
        Err(error) => println!("   KAYAK-102: {error}"),
        Ok(_) => println!("   KAYAK-102 cancelled"),
    }
    Ok(())
}

/// Prints the newest mail and returns the token text its link would carry.
fn show_last_mail(mail: &RecordingNotifier) -> String {
    let sent = mail.sent();
    let message = sent.last().expect("a mail was sent");
    let kind = match message {
        Notification::VerifyEmail { .. } => "verify your email",
        Notification::PasswordReset { .. } => "reset your password",
        _ => "notice",
    };
    let to: Vec<&str> = message.recipients().iter().map(|a| a.as_str()).collect();
    let token = match (message.verification_token(), message.reset_token()) {
        (Some(token), _) => token.expose_secret(),
        (_, Some(token)) => token.expose_secret(),
        _ => String::new(),
    };
    println!(
        "   mail to {to:?}: \"{kind}\": https://kayak.example/account?token={}...",
        &token[..8.min(token.len())]
    );
    token
}
