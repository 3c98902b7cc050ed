//! The time to check a password is bounded whatever the input: the worst inputs known
//! (long repeated patterns, substitution-heavy "l33t" strings, maximum length, far over the
//! maximum) beside a trivial password, per policy preset, in one run. The ratios are
//! recorded in `benches/README.md`.

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use customer_directory::testing::worst_password_inputs;
use customer_directory::values::{PasswordContext, PasswordPolicy};

/// The trivial password every ratio is taken against.
const TRIVIAL: &str = "Abcdef1!";

fn password_check(c: &mut Criterion) {
    let words = ["Ana", "Silva", "ana.silva@example.com"];
    let context = PasswordContext::new(&words);
    for (label, policy) in [
        ("recommended", PasswordPolicy::recommended()),
        ("nist_800_63b", PasswordPolicy::nist_800_63b()),
        ("seed_rule", PasswordPolicy::seed_rule()),
    ] {
        // Warm up zxcvbn's lazily built dictionaries.
        let _ = policy.check("warm-up-Password-1", &context);
        let mut group = c.benchmark_group(format!("password_check/{label}"));
        group.sample_size(10);
        let inputs = std::iter::once(("trivial", TRIVIAL.to_owned()))
            .chain(worst_password_inputs(policy.max_length))
            .chain(std::iter::once((
                "64 KiB (16 times the cap)",
                "4@8({[<369!|170$5+2%".repeat(204 * 16),
            )));
        for (name, input) in inputs {
            group.bench_with_input(BenchmarkId::from_parameter(name), &input, |b, input| {
                b.iter(|| policy.check(std::hint::black_box(input), &context).ok())
            });
        }
        group.finish();
    }
}

criterion_group!(benches, password_check);
criterion_main!(benches);
