//! jingtong-core against a real jingtong-server on loopback. One test binary; modules mirror src/.
//! Tests that need the OS keychain fail with a clear message outside `scripts/with-keychain`.

mod support;

mod account;
mod applications;
mod cases;
mod client;
mod drafts;
mod facade;
mod face;
mod id_photo;
mod keychain;
mod moves;
mod outbox;
mod pay;
mod qr;
