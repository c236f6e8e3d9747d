// Placeholder with the agreed shape; ts-rs generates this file from the Rust type.
import type { VerificationLevel } from "./VerificationLevel";

export type SessionInfo = { user_id: string, phone_masked: string, verification_level: VerificationLevel, };
