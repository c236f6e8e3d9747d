// The only place the UI talks to the Rust side. Every call resolves with the
// command's result or rejects with an AppError { code, message }.
import { invoke } from '@tauri-apps/api/core'
import type { AppError } from '../bindings/AppError'
import type { AppInfo } from '../bindings/AppInfo'
import type { ApplicationRequest } from '../bindings/ApplicationRequest'
import type { ApplicationView } from '../bindings/ApplicationView'
import type { FlushReport } from '../bindings/FlushReport'
import type { OutboxEntry } from '../bindings/OutboxEntry'
import type { PickupStation } from '../bindings/PickupStation'
import type { SubmitOutcome } from '../bindings/SubmitOutcome'
import type { BillView } from '../bindings/BillView'
import type { CaseLookupStarted } from '../bindings/CaseLookupStarted'
import type { CaseView } from '../bindings/CaseView'
import type { ProgressItem } from '../bindings/ProgressItem'
import type { PaymentOrder } from '../bindings/PaymentOrder'
import type { Receipt } from '../bindings/Receipt'
import type { ServiceItemPage } from '../bindings/ServiceItemPage'
import type { FaceChallenge } from '../bindings/FaceChallenge'
import type { FaceDecision } from '../bindings/FaceDecision'
import type { FrameCheck } from '../bindings/FrameCheck'
import type { IdPhotoCheck } from '../bindings/IdPhotoCheck'
import type { SessionInfo } from '../bindings/SessionInfo'
import type { SmsCodeSent } from '../bindings/SmsCodeSent'
import type { Unsent } from '../bindings/Unsent'
import type { MoveAnswer } from '../bindings/MoveAnswer'
import type { MoveRequest } from '../bindings/MoveRequest'
import type { MoveRules } from '../bindings/MoveRules'
import type { MoveSubmitOutcome } from '../bindings/MoveSubmitOutcome'
import type { MoveView } from '../bindings/MoveView'
import type { Page } from '../bindings/Page'
import type { PreparedPhoto } from '../bindings/PreparedPhoto'

export type Lang = 'zh-CN' | 'en'

export interface IpcHooks {
  /** Called for every failed command (e.g. to raise the offline banner). */
  onError?: (error: AppError, command: string) => void
  /** Called after a command that needs the network succeeded. */
  onNetworkOk?: (command: string) => void
}

let hooks: IpcHooks = {}

export function setIpcHooks(next: IpcHooks): void {
  hooks = next
}

export function isAppError(value: unknown): value is AppError {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as AppError).code === 'string' &&
    typeof (value as AppError).message === 'string'
  )
}

// Anything that is not an AppError (e.g. no Tauri runtime in a plain browser)
// still reaches the UI in the same shape.
function toAppError(value: unknown): AppError {
  if (isAppError(value)) return value
  const message = value instanceof Error ? value.message : String(value ?? '')
  return { code: 'ipc_failed', message }
}

async function call<T>(command: string, args?: Record<string, unknown>, network = false): Promise<T> {
  try {
    const result = await invoke<T>(command, args)
    if (network) hooks.onNetworkOk?.(command)
    return result
  } catch (raw) {
    const error = toAppError(raw)
    hooks.onError?.(error, command)
    throw error
  }
}

/** The first screen is on show (the shell logs the start-up time). */
export const appReady = () => call<void>('app_ready')

export const requestSmsCode = (phone: string) =>
  call<SmsCodeSent>('request_sms_code', { phone }, true)

export const signIn = (phone: string, code: string) =>
  call<SessionInfo>('sign_in', { phone, code }, true)

/** `deleteLocal`: also remove this account's drafts and unsent submissions from this computer;
 * otherwise they stay, readable only by this account once it signs in again. */
export const signOut = (deleteLocal = false) => call<null>('sign_out', { deleteLocal }, true)

/** What sign-out would leave on this computer (drafts, submissions the server has not confirmed). */
export const unsentItems = () => call<Unsent>('unsent_items')

export const currentSession = () => call<SessionInfo | null>('current_session')

export const setLanguage = (lang: Lang) => call<null>('set_language', { lang })

export const appInfo = () => call<AppInfo>('app_info')

export const draftLoad = (item: string) => call<unknown | null>('draft_load', { item })

export const draftSave = (item: string, payload: unknown) =>
  call<null>('draft_save', { item, payload })

export const draftDiscard = (item: string) => call<null>('draft_discard', { item })

export const faceStart = (name: string, idNumber: string) =>
  call<FaceChallenge>('face_start', { name, idNumber }, true)

/** `image`: base64 or a data URL (a camera frame from a canvas, or an imported photo). */
export const faceCheckFrame = (slot: number, image: string) =>
  call<FrameCheck>('face_check_frame', { slot, image })

export const faceSubmit = () => call<FaceDecision>('face_submit', undefined, true)

export const faceCancel = () => call<null>('face_cancel')

export const refreshSession = () => call<SessionInfo>('refresh_session', undefined, true)

/** `image`: base64 or a data URL of a picture holding a bill's QR code. */
export const payScanImage = (image: string) => call<BillView>('pay_scan_image', { image }, true)

export const payScanText = (code: string) => call<BillView>('pay_scan_text', { code }, true)

/** One page; `cursor` is the page before's `next_cursor` (none for the first page). */
export const bills = (cursor?: string) => call<Page<BillView>>('bills', { cursor: cursor ?? null }, true)

export const bill = (billId: string) => call<BillView>('bill', { billId }, true)

export const payOrder = (billId: string) => call<PaymentOrder>('pay_order', { billId }, true)

export const payOrderStatus = (orderId: string) => call<PaymentOrder>('pay_order_status', { orderId }, true)

export const payOpenProvider = (orderId: string) => call<null>('pay_open_provider', { orderId }, true)

export const receipt = (number: string) => call<Receipt>('receipt', { number }, true)

export const receiptQrSvg = (verifyCode: string) => call<string>('receipt_qr_svg', { verifyCode })

export const receiptExport = (number: string) => call<string>('receipt_export', { number }, true)

export const serviceItem = (item: string) => call<ServiceItemPage>('service_item', { item })

/** `image`: base64 or a data URL of a photo to turn into a GA 461 ID photo on the device. */
export const idPhotoCheck = (image: string) => call<IdPhotoCheck>('id_photo_check', { image })

export const pickupStations = () => call<PickupStation[]>('pickup_stations', undefined, true)

/** Queued in the outbox when offline; `draftItem` is discarded by Rust once the server has it. */
export const applicationSubmit = (request: ApplicationRequest, draftItem: string) =>
  call<SubmitOutcome>('application_submit', { request, draftItem }, true)

/** One page, newest first; `cursor` is the page before's `next_cursor`. */
export const applications = (cursor?: string) =>
  call<Page<ApplicationView>>('applications', { cursor: cursor ?? null }, true)

export const application = (id: string) => call<ApplicationView>('application', { id }, true)

export const applicationWithdraw = (id: string) => call<ApplicationView>('application_withdraw', { id }, true)

export const outboxFlush = () => call<FlushReport>('outbox_flush', undefined, true)

export const outboxEntries = () => call<OutboxEntry[]>('outbox_entries')

/** Sends an SMS code to the phone registered on the case; no session is tied to the case yet. */
export const caseLookupStart = (receiptNumber: string, queryCode: string) =>
  call<CaseLookupStarted>('case_lookup_start', { receiptNumber, queryCode }, true)

export const caseLookupVerify = (lookupId: string, code: string) =>
  call<CaseView>('case_lookup_verify', { lookupId, code }, true)

/** One page, newest first; `cursor` is the page before's `next_cursor`. */
export const cases = (cursor?: string) => call<Page<CaseView>>('cases', { cursor: cursor ?? null }, true)

export const caseDetail = (id: string) => call<CaseView>('case', { id }, true)

/** Already ordered by Rust (what needs the resident first); shown as given. */
export const progress = () => call<ProgressItem[]>('progress', undefined, true)

// ---- vehicle moving (一键挪车) ------------------------------------------------------------------

/** Limits, timers and abuse rules with their sources; embedded data, works offline. */
export const moveRules = () => call<MoveRules>('move_rules')

/** `image`: base64 or a data URL of an imported photo; Rust fixes its orientation and compresses it. */
export const movePhotoPrepare = (image: string) => call<PreparedPhoto>('move_photo_prepare', { image })

/** Queued in the outbox when offline; `draftItem` is discarded by Rust once the server has it. */
export const moveSubmit = (request: MoveRequest, draftItem: string) =>
  call<MoveSubmitOutcome>('move_submit', { request, draftItem }, true)

/** Requests I filed and requests about my vehicles, one page, newest first. */
export const vehicleMoves = (cursor?: string) =>
  call<Page<MoveView>>('vehicle_moves', { cursor: cursor ?? null }, true)

export const vehicleMove = (id: string) => call<MoveView>('vehicle_move', { id }, true)

export const vehicleMoveRemind = (id: string) => call<MoveView>('vehicle_move_remind', { id }, true)

export const vehicleMoveResolve = (id: string) => call<MoveView>('vehicle_move_resolve', { id }, true)

export const vehicleMoveReport = (id: string) => call<MoveView>('vehicle_move_report', { id }, true)

export const vehicleMoveAnswer = (id: string, answer: MoveAnswer) =>
  call<MoveView>('vehicle_move_answer', { id, answer }, true)

/** Relayed to the other side; the server refuses runs of digits (`message_contains_number`). */
export const vehicleMoveMessage = (id: string, text: string) =>
  call<MoveView>('vehicle_move_message', { id, text }, true)
