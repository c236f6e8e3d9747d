// Placeholder with the agreed shape; ts-rs generates this file from the Rust type.

export type AppInfo = { version: string, server_url: string, };
