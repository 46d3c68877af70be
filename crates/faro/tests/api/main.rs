//! End-to-end tests of the API over real HTTP: a real `faro::App` on a random port, on a fresh
//! SQLite file and a fresh PostgreSQL database (`name::sqlite`, `name::postgres`), with
//! Redis where limits are shared. No mocks. See `../common/mod.rs` for the harness.

#[path = "../common/mod.rs"]
mod common;

mod analytics;
mod answers;
mod auth;
mod authoring;
mod catalog;
mod cli;
mod files;
mod gamification;
mod gdpr;
mod hardening;
mod instances;
mod mail;
mod payments;
mod platform;
mod privacy;
mod promotions;
mod questions;
mod ratelimit;
mod retention;
mod session;
mod share;
mod size;
mod staff_refresh;
mod tenants;
mod totp;
mod traffic;
mod upgrade;
mod user_cookies;
mod user_fields;
mod users;
mod visitors;
mod wallet;
mod webhooks;
