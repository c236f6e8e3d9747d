// The apply wizard's form: what is saved as the draft, and the request built from it.
import type { ApplicationRequest } from '../../bindings/ApplicationRequest'
import type { PhotoInput } from '../../bindings/PhotoInput'
import type { ServiceItemId } from '../../bindings/ServiceItemId'

export type Step = 1 | 2 | 3

export interface ApplyForm {
  step: Step
  photo: PhotoInput | null
  delivery: 'pickup' | 'post'
  station_id: string
  region_code: string
  address: string
  recipient: string
  phone: string
  loss_date: string
  damage_description: string
}

/** Today in local time as YYYY-MM-DD (the day the resident sees on their phone). */
export function today(now = new Date()): string {
  const pad = (n: number) => String(n).padStart(2, '0')
  return `${now.getFullYear()}-${pad(now.getMonth() + 1)}-${pad(now.getDate())}`
}

export function emptyForm(item: string): ApplyForm {
  return {
    step: 1,
    photo: null,
    delivery: 'pickup',
    station_id: '',
    region_code: '',
    address: '',
    recipient: '',
    phone: '',
    loss_date: item === 'id_card_replacement' ? today() : '',
    damage_description: '',
  }
}

const str = (v: unknown, fallback: string) => (typeof v === 'string' ? v : fallback)

/** A saved draft may come from an older version: take only what still has the right shape. */
export function restoreForm(item: string, raw: unknown): ApplyForm {
  const form = emptyForm(item)
  if (typeof raw !== 'object' || raw === null) return form
  const d = raw as Record<string, unknown>
  if (d.step === 1 || d.step === 2 || d.step === 3) form.step = d.step
  const photo = d.photo as Record<string, unknown> | null | undefined
  if (photo?.kind === 'on_site') form.photo = { kind: 'on_site' }
  else if (photo?.kind === 'upload' && typeof photo.jpeg_base64 === 'string' && photo.jpeg_base64) {
    form.photo = { kind: 'upload', jpeg_base64: photo.jpeg_base64 }
  }
  if (d.delivery === 'post' && form.photo?.kind !== 'on_site') form.delivery = 'post'
  form.station_id = str(d.station_id, form.station_id)
  form.region_code = str(d.region_code, form.region_code)
  form.address = str(d.address, form.address)
  form.recipient = str(d.recipient, form.recipient)
  form.phone = str(d.phone, form.phone)
  form.loss_date = str(d.loss_date, form.loss_date) || form.loss_date
  form.damage_description = str(d.damage_description, form.damage_description)
  // A later step without a photo cannot be reviewed; start where it is missing.
  if (!form.photo) form.step = 1
  return form
}

export function buildRequest(item: ServiceItemId, form: ApplyForm): ApplicationRequest | null {
  if (!form.photo) return null
  const request: ApplicationRequest = {
    item,
    photo: form.photo,
    delivery:
      form.delivery === 'pickup'
        ? { kind: 'pickup', station_id: form.station_id }
        : {
            kind: 'post',
            region_code: form.region_code,
            address: form.address.trim(),
            recipient: form.recipient.trim(),
            phone: form.phone.trim(),
          },
  }
  if (item === 'id_card_replacement') request.loss_date = form.loss_date
  if (item === 'id_card_damaged') request.damage_description = form.damage_description.trim()
  return request
}
