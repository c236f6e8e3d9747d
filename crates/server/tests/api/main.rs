//! API tests: each runs against a fresh SQLite file and a fresh PostgreSQL database
//! (postgres://postgres@127.0.0.1:5432, override with JINGTONG_TEST_PG). No PostgreSQL, failed tests.

#[macro_use]
mod helpers;

mod applications;
mod auth;
mod authz;
mod cases;
mod demo;
mod faults;
mod headers;
mod health;
mod id_photos;
mod identity;
mod limits;
mod moves;
mod openapi;
mod paging;
mod payments;
mod photos;
mod public_url;
mod refunds;
mod storage;
mod streams;
mod text;
