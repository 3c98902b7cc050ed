//! The kayak-tour business day the examples share: twelve bookings as they arrive.

/// (code, status, given name, family name, email, phone), as typed.
pub type Booking = (
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
);

/// The day's bookings, in arrival order.
pub const BOOKINGS: [Booking; 12] = [
    (
        "BK-101",
        "paid",
        "Ana",
        "Silva",
        "ana.silva@example.com",
        "020 7946 0123",
    ),
    (
        "BK-102",
        "confirmed",
        "ana",
        "SILVA",
        "  Ana.Silva@EXAMPLE.com ",
        "",
    ),
    ("BK-103", "paid", "Ana", "", "ANA.SILVA@example.com", ""),
    (
        "BK-104",
        "paid",
        "Rui",
        "Silva",
        "ana.silva@example.com",
        "020 7946 0456",
    ),
    (
        "BK-105",
        "pending",
        "Ben",
        "Okafor",
        "ben@okafor.example",
        "",
    ),
    (
        "BK-106",
        "paid",
        "Chloé",
        "Martin",
        "chloe@bücher.example",
        "",
    ),
    (
        "BK-107",
        "paid",
        "Chloe",
        "Martin",
        "CHLOE@xn--bcher-kva.example",
        "",
    ),
    ("BK-108", "paid", "Dee", "Walker", "", "020 7946 0789"),
    ("BK-109", "paid", "Eve", "Stone", "eve@spam.example", ""),
    ("BK-110", "waiting", "Finn", "Hale", "finn@hale.example", ""),
    ("BK-111", "checked-in", "Gus", "Ng", "gus@ng.example", ""),
    (
        "BK-112",
        "paid",
        "",
        "",
        "gus@NG.example",
        "+44 20 7946 0321",
    ),
];
