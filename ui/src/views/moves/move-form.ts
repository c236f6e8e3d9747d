// The vehicle-moving form: what is saved as the draft, and the request built from it.
// No rules are checked here beyond "is something there"; Rust validates and explains.
import type { GeoPoint } from '../../bindings/GeoPoint'
import type { MoveReason } from '../../bindings/MoveReason'
import type { MoveRequest } from '../../bindings/MoveRequest'
import type { PlateType } from '../../bindings/PlateType'

export const DRAFT_KEY = 'vehicle_move'

/** Province abbreviations in the order plate keyboards show them. */
export const PROVINCES = [...'京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼']
/** Embassy plates start with 使 instead of a province. */
export const EMBASSY_PREFIX = '使'
export const DEFAULT_PROVINCE = '皖'
/** Letters and digits for the on-screen plate keyboard, in keyboard rows. */
export const PLATE_KEYS = ['1234567890', 'QWERTYUIOP', 'ASDFGHJKL', 'ZXCVBNM']
export const PLATE_REST_MAX = 7

export const PLATE_TYPES: PlateType[] = [
  'small_blue',
  'large_yellow',
  'small_new_energy',
  'large_new_energy',
  'coach',
  'trailer',
  'police',
  'embassy',
  'consulate',
  'hong_kong_macao',
  'test',
  'oversize',
]
export const REASONS: MoveReason[] = ['blocking_car', 'blocking_garage', 'blocking_passage', 'fire_lane', 'other']

export interface MoveForm {
  plate_type: PlateType
  province: string
  rest: string
  address: string
  region_code: string
  position: GeoPoint | null
  reason: MoveReason
  note: string
  /** Base64 JPEGs as Rust prepared them. */
  photos: string[]
}

export function emptyForm(): MoveForm {
  return {
    plate_type: 'small_blue',
    province: DEFAULT_PROVINCE,
    rest: '',
    address: '',
    region_code: '',
    position: null,
    reason: 'blocking_car',
    note: '',
    photos: [],
  }
}

/** Uppercase, no spaces, at most 7 characters: what the plate field keeps. */
export function normalizeRest(value: string): string {
  return [...value.toUpperCase().replace(/\s+/g, '')].slice(0, PLATE_REST_MAX).join('')
}

const str = (v: unknown, fallback: string) => (typeof v === 'string' ? v : fallback)

/** A saved draft may come from an older version: take only what still has the right shape. */
export function restoreForm(raw: unknown): MoveForm {
  const form = emptyForm()
  if (typeof raw !== 'object' || raw === null) return form
  const d = raw as Record<string, unknown>
  if (PLATE_TYPES.includes(d.plate_type as PlateType)) form.plate_type = d.plate_type as PlateType
  const province = str(d.province, '')
  if (PROVINCES.includes(province) || province === EMBASSY_PREFIX) form.province = province
  if (form.plate_type === 'embassy') form.province = EMBASSY_PREFIX
  else if (form.province === EMBASSY_PREFIX) form.province = DEFAULT_PROVINCE
  form.rest = normalizeRest(str(d.rest, ''))
  form.address = str(d.address, '')
  form.region_code = str(d.region_code, '')
  const p = d.position as Record<string, unknown> | null | undefined
  if (p && Number.isInteger(p.lat_e6) && Number.isInteger(p.lon_e6)) {
    form.position = { lat_e6: p.lat_e6 as number, lon_e6: p.lon_e6 as number }
  }
  if (REASONS.includes(d.reason as MoveReason)) form.reason = d.reason as MoveReason
  form.note = str(d.note, '')
  if (Array.isArray(d.photos)) form.photos = d.photos.filter((x): x is string => typeof x === 'string' && x.length > 0)
  return form
}

export function plateText(form: MoveForm): string {
  return `${form.plate_type === 'embassy' ? EMBASSY_PREFIX : form.province}${form.rest}`
}

/** Everything the form needs before it can be sent; `photosMin` comes from the rules data. */
export function formComplete(form: MoveForm, photosMin: number | null): boolean {
  if (photosMin === null) return false
  if (!form.rest || !form.address.trim() || !/^\d{6}$/.test(form.region_code)) return false
  if (form.reason === 'other' && !form.note.trim()) return false
  return form.photos.length >= photosMin
}

export function buildRequest(form: MoveForm, escalateIfUnregistered = false): MoveRequest {
  const request: MoveRequest = {
    plate: plateText(form),
    plate_type: form.plate_type,
    address: form.address.trim(),
    region_code: form.region_code,
    reason: form.reason,
    photos: [...form.photos],
    escalate_if_unregistered: escalateIfUnregistered,
  }
  if (form.position) request.position = { ...form.position }
  const note = form.note.trim()
  if (note) request.note = note
  return request
}
