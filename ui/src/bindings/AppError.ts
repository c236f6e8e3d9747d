// Placeholder with the agreed shape; ts-rs generates this file from the Rust type.

export type AppError = { code: string, message: string, };
