//! End-to-end tests: the real app in a real webview, over the real core, against a real server
//! on loopback with its demo data.

mod applications;
mod cases;
mod driver;
mod face;
mod id_card;
mod moves;
mod pay;
mod sign_in;
