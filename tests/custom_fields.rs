//! Custom field definitions: types, patterns, required fields, undefined keys, and where
//! each rule applies (staff writes, booking forms, imports).

use chrono::Utc;
use customer_directory::MemoryStore;
use customer_directory::records::Detail;
use customer_directory::records::FieldError;
use customer_directory::service::{ImportMode, RowOutcome};
use customer_directory::settings::{
    CustomFieldDefinition, CustomFieldError, CustomFieldKind, CustomFieldPattern,
};
use customer_directory::{
    Actor, BookingStatus, ContactForm, Currency, Directory, DirectorySettings, Error, Money,
    NewBooking, Profile, Text,
};

fn settings() -> DirectorySettings {
    let mut settings = DirectorySettings::default();
    settings.custom_fields = vec![
        CustomFieldDefinition::new(
            "wetsuit_size",
            "Wetsuit size",
            CustomFieldKind::Choice(vec!["S".into(), "M".into(), "L".into()]),
        )
        .unwrap()
        .required(),
        CustomFieldDefinition::new("shoe_size", "Shoe size", CustomFieldKind::Number).unwrap(),
        CustomFieldDefinition::new("birthday", "Birthday", CustomFieldKind::Date).unwrap(),
        CustomFieldDefinition::new("newsletter_ok", "Newsletter", CustomFieldKind::YesNo).unwrap(),
        CustomFieldDefinition::new("member_no", "Member number", CustomFieldKind::Text)
            .unwrap()
            .with_pattern(CustomFieldPattern::new("M-[0-9]{4}").unwrap()),
    ];
    settings
}

fn errors_of(form: ContactForm) -> Vec<(Detail, FieldError)> {
    form.parse(&settings())
        .unwrap_err()
        .problems()
        .iter()
        .map(|p| (p.detail.clone(), p.error.clone()))
        .collect()
}

fn custom(values: &[(&str, &str)]) -> Vec<(String, String)> {
    values
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

#[test]
fn every_type_and_pattern_is_checked_and_every_problem_reported() {
    let form = ContactForm {
        email: "not-an-email".into(),
        custom_fields: custom(&[
            ("wetsuit_size", "XL"),
            ("shoe_size", "forty"),
            ("birthday", "2026-02-30"),
            ("newsletter_ok", "maybe"),
            ("member_no", "M-12345"),
            ("favourite_colour", "blue"),
        ]),
        ..ContactForm::default()
    };
    let errors = errors_of(form);
    let field = |key: &str| Detail::CustomField(key.to_owned());
    assert_eq!(errors.len(), 7, "{errors:?}");
    assert!(matches!(errors[0], (Detail::Email, FieldError::Email(_))));
    let expect = [
        ("birthday", CustomFieldError::NotADate),
        ("favourite_colour", CustomFieldError::Undefined),
        (
            "member_no",
            CustomFieldError::PatternMismatch {
                pattern: "M-[0-9]{4}".into(),
            },
        ),
        ("newsletter_ok", CustomFieldError::NotYesNo),
        ("shoe_size", CustomFieldError::NotANumber),
    ];
    for (key, error) in expect {
        assert!(
            errors.contains(&(field(key), FieldError::CustomField(error.clone()))),
            "{key}: {errors:?}"
        );
    }
    assert!(
        matches!(&errors.iter().find(|(d, _)| *d == field("wetsuit_size")).unwrap().1,
        FieldError::CustomField(CustomFieldError::NotAChoice { choices }) if choices.len() == 3)
    );
}

#[test]
fn valid_values_pass_and_invalid_definitions_are_refused() {
    let form = ContactForm {
        custom_fields: custom(&[
            ("wetsuit_size", "M"),
            ("shoe_size", "42.5"),
            ("birthday", "1990-07-14"),
            ("newsletter_ok", "yes"),
            ("member_no", "M-0042"),
        ]),
        ..ContactForm::default()
    };
    let profile = form.parse(&settings()).unwrap();
    assert_eq!(profile.custom_fields.len(), 5);
    assert!(matches!(
        CustomFieldDefinition::new("Bad Key", "x", CustomFieldKind::Text),
        Err(CustomFieldError::InvalidKey(_))
    ));
    assert!(matches!(
        CustomFieldPattern::new("(["),
        Err(CustomFieldError::InvalidPattern { .. })
    ));
}

#[tokio::test]
async fn required_fields_bind_staff_writes_not_booking_forms() {
    let dir = Directory::new(MemoryStore::new(), settings());
    let staff = Actor::staff("desk");
    let without = Profile::default();
    let error = dir
        .create_customer(without.clone(), &staff)
        .await
        .unwrap_err();
    let Error::InvalidContact(problems) = &error else {
        panic!("{error}")
    };
    assert_eq!(
        problems.problems()[0].detail,
        Detail::CustomField("wetsuit_size".into())
    );
    assert_eq!(
        problems.problems()[0].error,
        FieldError::CustomField(CustomFieldError::Missing)
    );

    let mut with = Profile::default();
    with.custom_fields
        .insert("wetsuit_size".into(), Text::parse("S").unwrap());
    let id = dir
        .create_customer(with.clone(), &staff)
        .await
        .unwrap()
        .customer;
    assert!(matches!(
        dir.update_contact(id, without, &staff).await,
        Err(Error::InvalidContact(_))
    ));

    // A booking form need not ask for staff-only fields, but its values must be valid.
    let contact = ContactForm {
        email: "guest@example.com".into(),
        ..ContactForm::default()
    }
    .parse(dir.settings())
    .unwrap();
    let booking = |contact: Profile| {
        NewBooking::new(
            "CF-1",
            BookingStatus::PAID,
            contact,
            Utc::now(),
            Money::zero(Currency::parse("EUR").unwrap()),
        )
    };
    dir.record_booking(booking(contact.clone()), &Actor::System)
        .await
        .unwrap();
    let mut bad = contact;
    bad.custom_fields
        .insert("shoe_size".into(), Text::parse("big").unwrap());
    assert!(matches!(
        dir.record_booking(booking(bad), &Actor::System).await,
        Err(Error::InvalidContact(_))
    ));
}

#[tokio::test]
async fn imports_hold_rows_to_the_definitions() {
    let dir = Directory::new(MemoryStore::new(), settings());
    let file = "email,custom:wetsuit_size,custom:shoe_size\na@example.com,M,41\nb@example.com,,41\nc@example.com,L,huge\n";
    let report = dir
        .import_customers(
            file.as_bytes(),
            ImportMode::SkipInvalidRows,
            &Actor::staff("desk"),
        )
        .await
        .unwrap();
    assert!(matches!(report.rows[0].outcome, RowOutcome::Created(_)));
    assert!(
        matches!(&report.rows[1].outcome, RowOutcome::Invalid(p) if p.problems()[0].error == FieldError::CustomField(CustomFieldError::Missing))
    );
    assert!(
        matches!(&report.rows[2].outcome, RowOutcome::Invalid(p) if p.problems()[0].error == FieldError::CustomField(CustomFieldError::NotANumber))
    );
    assert_eq!(report.created().len(), 1);
}
